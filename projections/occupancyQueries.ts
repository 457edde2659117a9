/**
 * Reading the occupancy projection: a tenant's policies with their orbits, in the shape
 * `domain/occupancy.ts` defines (the one the decided state answers with), so the live board, the
 * time travel and the API's single-policy read all speak the same words.
 */
import type { Endpoint } from '../domain/endpoint.js';
import type { OrbitOccupancy, PolicyOccupancy } from '../domain/occupancy.js';
import { orbitCode } from '../domain/orbit.js';
import type { OrbitPrefix } from '../domain/parkPolicy.js';
import type { OccupancyOrbitRow, OccupancyPolicyRow } from './occupancy.js';
import { occupancyProjection } from './occupancy.js';
import { tablesOf, type Tables } from './projection.js';
import type { SqlExecutor } from './readStore.js';

/** Where a query reads: a read store (or transaction) and the table names of a build (the live one by default). */
export interface ReadSource {
  readonly db: SqlExecutor;
  readonly tables: Tables;
}

export const liveOccupancy = (db: SqlExecutor): ReadSource => ({ db, tables: tablesOf(occupancyProjection) });

/** Text in code-unit order, the same whatever the database's collation. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const occupiedOrbit = (row: OccupancyOrbitRow, outside: boolean): OrbitOccupancy => {
  const status = row.status === 'ringing-back' ? 'ringing-back' : 'parked';
  return {
    orbit: row.orbit,
    code: row.orbit_code ?? String(row.orbit),
    status,
    ...(outside ? { outsideRange: true as const } : {}),
    callId: row.call_id ?? '',
    sessionId: row.session_id ?? '',
    parkedAt: row.parked_at ?? 0,
    parkedBy: { userId: row.parker_user_id ?? '', endpoint: (row.parker_endpoint ?? 'teams-desktop') as Endpoint },
    ...(status === 'parked' ? { ringBackDueAt: row.due_at ?? 0 } : { unansweredAt: row.due_at ?? 0 }),
    attempt: row.attempt ?? 0,
  };
};

/** One policy's occupancy from its row and its orbits' rows: every orbit of the range, and any held outside it. */
export const policyOccupancy = (policy: OccupancyPolicyRow, rows: readonly OccupancyOrbitRow[]): PolicyOccupancy => {
  const { range_start: start, range_end: end } = policy;
  const prefix = policy.orbit_prefix as OrbitPrefix;
  const byOrbit = new Map(rows.map((row) => [row.orbit, row]));
  const orbits: OrbitOccupancy[] = [];
  let free = 0;
  let occupied = 0;
  for (let orbit = start; orbit <= end; orbit++) {
    const row = byOrbit.get(orbit);
    if (row !== undefined && row.status !== 'free') {
      occupied++;
      orbits.push(occupiedOrbit(row, false));
      continue;
    }
    free++;
    orbits.push({ orbit, code: orbitCode(orbit, prefix), status: 'free', ...(row?.freed_at == null ? {} : { freedAt: row.freed_at }) });
  }
  for (const row of rows) {
    if (row.status === 'free' || (row.orbit >= start && row.orbit <= end)) continue;
    occupied++;
    orbits.push(occupiedOrbit(row, true));
  }
  orbits.sort((a, b) => a.orbit - b.orbit);
  return { policy: policy.policy, rangeStart: start, rangeEnd: end, orbitPrefix: prefix, orbits, free, total: end - start + 1, occupied };
};

/** Policies and their orbits' rows in one statement, so the answer is one committed state of the tables. */
const joined = (t: Tables, where: string): string =>
  `SELECT p.tenant_id, p.policy, p.range_start, p.range_end, p.orbit_prefix,
     o.orbit, o.status, o.orbit_code, o.session_id, o.call_id, o.parker_user_id, o.parker_endpoint, o.parked_at, o.attempt, o.due_at, o.freed_at
   FROM ${t('occupancy_policies')} p
   LEFT JOIN ${t('occupancy_orbits')} o ON o.tenant_id = p.tenant_id AND o.policy = p.policy
   WHERE ${where}`;

type JoinedRow = OccupancyPolicyRow & { [K in keyof OccupancyOrbitRow]: OccupancyOrbitRow[K] | null };

const grouped = (rows: readonly JoinedRow[]): PolicyOccupancy[] => {
  const policies = new Map<string, { policy: OccupancyPolicyRow; orbits: OccupancyOrbitRow[] }>();
  for (const row of rows) {
    let entry = policies.get(row.policy);
    if (entry === undefined) {
      entry = { policy: { tenant_id: row.tenant_id, policy: row.policy, range_start: row.range_start, range_end: row.range_end, orbit_prefix: row.orbit_prefix }, orbits: [] };
      policies.set(row.policy, entry);
    }
    if (row.orbit !== null) entry.orbits.push(row as OccupancyOrbitRow);
  }
  return [...policies.values()].sort((a, b) => byText(a.policy.policy, b.policy.policy)).map(({ policy, orbits }) => policyOccupancy(policy, orbits));
};

/** Every policy of the tenant with its occupancy, in policy-name order; empty for a tenant with no events. */
export const readOccupancy = async ({ db, tables: t }: ReadSource, tenantId: string): Promise<PolicyOccupancy[]> =>
  grouped(await db.query<JoinedRow>(joined(t, 'p.tenant_id = $1'), [tenantId]));

/** One policy's occupancy; undefined when the tenant has no such policy. */
export const readPolicyOccupancy = async ({ db, tables: t }: ReadSource, tenantId: string, policy: string): Promise<PolicyOccupancy | undefined> =>
  grouped(await db.query<JoinedRow>(joined(t, 'p.tenant_id = $1 AND p.policy = $2'), [tenantId, policy]))[0];
