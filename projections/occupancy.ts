/**
 * Orbit occupancy, live (DOMAIN.md, "Views"): per tenant and policy, which orbit holds which
 * call, since when, parked by whom, in which phase, when it rings back and which attempt; and
 * each policy's range, from which the free and total counts follow.
 *
 * Two tables:
 * - `occupancy_policies`: one row per policy of a tenant, its range as of its latest policy
 *   event. Every tenant has `Global`, with the default range until an event changes it.
 * - `occupancy_orbits`: one row per orbit that holds a call or has held one: a free orbit keeps
 *   when it was freed (the reuse quarantine counts from there, I8).
 *
 * It tells the same story as the decider's own state (`evolve`), and the tests hold it to that:
 * `readOccupancy` answers what `domain/occupancy.ts` answers from the folded state.
 */
import type { CallParkEvent } from '../domain/events.js';
import { GLOBAL_POLICY, defaultSettings, type PolicySettings } from '../domain/parkPolicy.js';
import { callParkEventsOf, decodeEvents, policyEventTypes, sessionEventTypes } from './callParkEvents.js';
import type { Projection, Tables } from './projection.js';
import type { SqlExecutor } from './readStore.js';
import { RowCache, type TableShape } from './tableRows.js';

export interface OccupancyPolicyRow {
  [column: string]: string | number | null;
  tenant_id: string;
  policy: string;
  range_start: number;
  range_end: number;
  orbit_prefix: string;
}

export type OrbitRowStatus = 'free' | 'parked' | 'ringing-back';

export interface OccupancyOrbitRow {
  [column: string]: string | number | null;
  tenant_id: string;
  policy: string;
  orbit: number;
  status: OrbitRowStatus;
  /** The code it was parked under; null when free. */
  orbit_code: string | null;
  session_id: string | null;
  call_id: string | null;
  parker_user_id: string | null;
  parker_endpoint: string | null;
  parked_at: number | null;
  /** Ring backs started so far. */
  attempt: number | null;
  /** Parked: when the next ring back is due; ringing back: when this one goes unanswered. */
  due_at: number | null;
  /** When the orbit was last freed; null if it never was. */
  freed_at: number | null;
}

export const occupancyTables = ['occupancy_policies', 'occupancy_orbits'] as const;

const policyColumns = ['tenant_id', 'policy', 'range_start', 'range_end', 'orbit_prefix'] as const;
const orbitColumns = [
  'tenant_id',
  'policy',
  'orbit',
  'status',
  'orbit_code',
  'session_id',
  'call_id',
  'parker_user_id',
  'parker_endpoint',
  'parked_at',
  'attempt',
  'due_at',
  'freed_at',
] as const;

export const policyShape = (t: Tables): TableShape<OccupancyPolicyRow> => ({ table: t('occupancy_policies'), key: ['tenant_id', 'policy'], columns: policyColumns });
export const orbitShape = (t: Tables): TableShape<OccupancyOrbitRow> => ({ table: t('occupancy_orbits'), key: ['tenant_id', 'policy', 'orbit'], columns: orbitColumns });

const migrations = (t: Tables) => [
  {
    id: 1,
    name: 'create occupancy_policies and occupancy_orbits',
    sql: [
      `CREATE TABLE ${t('occupancy_policies')} (
        tenant_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        range_start INTEGER NOT NULL,
        range_end INTEGER NOT NULL,
        orbit_prefix TEXT NOT NULL,
        PRIMARY KEY (tenant_id, policy)
      )`,
      `CREATE TABLE ${t('occupancy_orbits')} (
        tenant_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        orbit INTEGER NOT NULL,
        status TEXT NOT NULL,
        orbit_code TEXT,
        session_id TEXT,
        call_id TEXT,
        parker_user_id TEXT,
        parker_endpoint TEXT,
        parked_at BIGINT,
        attempt INTEGER,
        due_at BIGINT,
        freed_at BIGINT,
        PRIMARY KEY (tenant_id, policy, orbit)
      )`,
    ],
  },
];

const policyRow = (tenantId: string, policy: string, settings: PolicySettings): OccupancyPolicyRow => ({
  tenant_id: tenantId,
  policy,
  range_start: settings.pickupRangeStart,
  range_end: settings.pickupRangeEnd,
  orbit_prefix: settings.orbitPrefix,
});

const freeRow = (tenantId: string, policy: string, orbit: number, freedAt: number): OccupancyOrbitRow => ({
  tenant_id: tenantId,
  policy,
  orbit,
  status: 'free',
  orbit_code: null,
  session_id: null,
  call_id: null,
  parker_user_id: null,
  parker_endpoint: null,
  parked_at: null,
  attempt: null,
  due_at: null,
  freed_at: freedAt,
});

/** The keys of the rows an event reads or writes. */
const touch = (event: CallParkEvent, policies: RowCache<OccupancyPolicyRow>, orbits: RowCache<OccupancyOrbitRow>): void => {
  switch (event.type) {
    case 'PolicyCreated':
    case 'PolicySettingsChanged':
    case 'PolicyRemoved':
      policies.want([event.tenantId, event.policy]);
      return;
    case 'RingBackStarted':
    case 'RingBackUnanswered':
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      orbits.want([event.tenantId, event.policy, event.orbit]);
      return;
    default:
      return;
  }
};

/** A policy created anew or removed starts or ends with no orbit history (a new lot, as `evolve` makes). */
const forgetOrbitsOf = async (tx: SqlExecutor, t: Tables, orbits: RowCache<OccupancyOrbitRow>, tenantId: string, policy: string): Promise<void> => {
  await orbits.flush(tx);
  await tx.execute(`DELETE FROM ${t('occupancy_orbits')} WHERE tenant_id = $1 AND policy = $2`, [tenantId, policy]);
  orbits.forget((key) => key[0] === tenantId && key[1] === policy);
};

const apply = async (event: CallParkEvent, tx: SqlExecutor, t: Tables, policies: RowCache<OccupancyPolicyRow>, orbits: RowCache<OccupancyOrbitRow>): Promise<void> => {
  switch (event.type) {
    case 'Parked':
      orbits.put({
        tenant_id: event.tenantId,
        policy: event.policy,
        orbit: event.orbit,
        status: 'parked',
        orbit_code: event.orbitCode,
        session_id: event.sessionId,
        call_id: event.callId,
        parker_user_id: event.parker.userId,
        parker_endpoint: event.parker.endpoint,
        parked_at: event.at,
        attempt: 0,
        due_at: event.ringBackDueAt,
        // Only a free orbit shows when it was freed; the park's end will set it anew.
        freed_at: null,
      });
      return;
    case 'RingBackStarted':
    case 'RingBackUnanswered': {
      const row = orbits.get([event.tenantId, event.policy, event.orbit]);
      if (row === undefined || row.session_id !== event.sessionId) return;
      orbits.put(
        event.type === 'RingBackStarted'
          ? { ...row, status: 'ringing-back', attempt: event.attempt, due_at: event.unansweredAt }
          : { ...row, status: 'parked', due_at: event.nextRingBackDueAt },
      );
      return;
    }
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned': {
      const row = orbits.get([event.tenantId, event.policy, event.orbit]);
      if (row === undefined || row.session_id !== event.sessionId) return;
      orbits.put(freeRow(event.tenantId, event.policy, event.orbit, event.at));
      return;
    }
    case 'PolicyCreated':
      await forgetOrbitsOf(tx, t, orbits, event.tenantId, event.policy);
      policies.put(policyRow(event.tenantId, event.policy, event.settings));
      return;
    case 'PolicySettingsChanged':
      if (policies.get([event.tenantId, event.policy]) !== undefined) policies.put(policyRow(event.tenantId, event.policy, event.settings));
      return;
    case 'PolicyRemoved':
      // Removing Global puts it back to the defaults; any other policy goes, with its orbits.
      if (event.policy === GLOBAL_POLICY) {
        policies.put(policyRow(event.tenantId, GLOBAL_POLICY, defaultSettings));
        return;
      }
      await forgetOrbitsOf(tx, t, orbits, event.tenantId, event.policy);
      policies.remove([event.tenantId, event.policy]);
      return;
    case 'ParkRejected':
    case 'RetrievalRejected':
    case 'PolicyGranted':
    case 'EndpointCapabilitiesSet':
    case 'EndpointCapabilitiesReset':
      return;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};

/** The name of the rows the projection keeps in its BatchMemory. */
const occupancyRows = {};

export const occupancyProjection: Projection = {
  name: 'occupancy',
  version: 1,
  tables: occupancyTables,
  migrations,
  // Refusals, grants and the endpoint matrix change no orbit: the runner skips them unread.
  filter: callParkEventsOf([...sessionEventTypes, ...policyEventTypes]),
  handle: async (recorded, tx, t, memory) => {
    const events = decodeEvents(recorded).map(({ event }) => event);
    const { policies, orbits } = memory.keep(occupancyRows, () => ({ policies: new RowCache(policyShape(t)), orbits: new RowCache(orbitShape(t)) }));
    const tenants = new Set(events.map((event) => event.tenantId));
    for (const tenantId of tenants) policies.want([tenantId, GLOBAL_POLICY]);
    for (const event of events) touch(event, policies, orbits);
    await policies.load(tx);
    await orbits.load(tx);
    // Every tenant has its Global policy from its first event on; once there, it stays (removing
    // Global puts the defaults back), so it is put before the batch rather than at each event.
    for (const tenantId of tenants) if (policies.get([tenantId, GLOBAL_POLICY]) === undefined) policies.put(policyRow(tenantId, GLOBAL_POLICY, defaultSettings));
    for (const event of events) await apply(event, tx, t, policies, orbits);
    await orbits.flush(tx);
    await policies.flush(tx);
    orbits.trim();
    policies.trim();
  },
};
