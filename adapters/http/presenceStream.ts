/**
 * Orbit presence over HTTP, for a phone system without Kafka: the state of one orbit, and a
 * Server-Sent Events stream of one tenant's orbit changes, filtered by policy or by a list of
 * orbits: `GET /v1/tenants/:tenantId/presence/stream?policy=Sales&orbits=10,11,*3012`.
 *
 * The stream follows the occupancy feed (the same one the supervisors' board follows) and keeps,
 * per stream, the busy orbits it shows, so each change goes out as the orbit's whole state:
 * `event: snapshot` (data: {tenantId, busy: [state…]}; every other orbit is free) on connect and
 * after a policy changes, then `event: orbit` (data: one state, id: the log position) per change.
 */
import type { FastifyRequest } from 'fastify';
import { Instant } from '../../domain/codec/codec.js';
import type { OrbitOccupancy } from '../../domain/occupancy.js';
import { parseOrbitCode } from '../../domain/orbit.js';
import type { OccupancyUpdate } from '../../projections/occupancyFeed.js';
import { sseMessage, type EventSource } from './occupancyStream.js';
import { decodeQuery, PresenceQuery } from './readSideParameters.js';
import { invalid } from './requestDecoding.js';
import type { OccupancyFeed } from '../../projections/occupancyFeed.js';

/** The most orbits one stream may name. */
export const MAX_PRESENCE_ORBITS = 500;

/** An orbit's presence as HTTP shows it: busy (session, parker, since, ringing back) or free. */
export const presenceBody = (tenantId: string, policy: string, orbit: OrbitOccupancy): Record<string, unknown> =>
  orbit.status === 'free'
    ? {
        state: 'free',
        tenantId,
        policy,
        orbit: orbit.orbit,
        orbitCode: orbit.code,
        // The session that released it, when the change that freed it is at hand.
        ...(orbit.sessionId === undefined ? {} : { sessionId: orbit.sessionId }),
        ...(orbit.freedAt === undefined ? {} : { freedAt: Instant.encode(orbit.freedAt) }),
      }
    : {
        state: 'busy',
        tenantId,
        policy,
        orbit: orbit.orbit,
        orbitCode: orbit.code,
        sessionId: orbit.sessionId,
        callId: orbit.callId,
        parker: orbit.parkedBy,
        since: orbit.parkedAt === undefined ? undefined : Instant.encode(orbit.parkedAt),
        ringingBack: orbit.status === 'ringing-back',
        attempt: orbit.attempt ?? 0,
      };

interface Filter {
  readonly policy?: string;
  readonly orbits?: ReadonlySet<number>;
}

/** `?policy=` and `?orbits=10,11,*3012` (codes or numbers), or a 400 naming what is wrong. */
export const presenceFilterOf = (request: FastifyRequest): Filter => {
  const query = decodeQuery(request, PresenceQuery);
  if (query.orbits === undefined) return query.policy === undefined ? {} : { policy: query.policy };
  const codes = query.orbits.split(',').map((code) => code.trim()).filter((code) => code !== '');
  const numbers = codes.map((code) => parseOrbitCode(code));
  const wrong = codes.filter((_, i) => numbers[i] === undefined);
  if (wrong.length > 0) throw invalid([{ path: '$query.orbits', message: `not orbit codes: ${wrong.slice(0, 5).join(', ')} (digits, optionally after * or #, separated by commas)` }]);
  if (codes.length === 0 || codes.length > MAX_PRESENCE_ORBITS) throw invalid([{ path: '$query.orbits', message: `name from 1 to ${MAX_PRESENCE_ORBITS} orbits, separated by commas` }]);
  return { ...(query.policy === undefined ? {} : { policy: query.policy }), orbits: new Set(numbers as number[]) };
};

const shown = (filter: Filter, policy: string, orbit: number): boolean =>
  (filter.policy === undefined || filter.policy === policy) && (filter.orbits === undefined || filter.orbits.has(orbit));

/** The presence messages of one stream, from the occupancy feed's updates. */
export const followPresence =
  (feed: OccupancyFeed) =>
  (request: FastifyRequest): EventSource => {
    const filter = presenceFilterOf(request);
    return (tenantId, write, fail) => {
      /** The busy orbits this stream shows, by policy and orbit. */
      const busy = new Map<string, OrbitOccupancy>();
      const key = (policy: string, orbit: number): string => `${policy}\u0000${orbit}`;
      const send = (event: string, data: unknown, id?: string): void => write(Buffer.from(sseMessage(event, data, id), 'utf8'));
      const onUpdate = (update: OccupancyUpdate): void => {
        if (update.kind === 'snapshot') {
          busy.clear();
          const states: Record<string, unknown>[] = [];
          for (const policy of update.policies) {
            for (const orbit of policy.orbits) {
              if (orbit.status === 'free' || !shown(filter, policy.policy, orbit.orbit)) continue;
              busy.set(key(policy.policy, orbit.orbit), orbit);
              states.push(presenceBody(tenantId, policy.policy, orbit));
            }
          }
          send('snapshot', { tenantId, busy: states });
          return;
        }
        const { change, position } = update;
        if (change.kind === 'policy-changed' || !shown(filter, change.policy, typeof change.orbit === 'number' ? change.orbit : change.orbit.orbit)) return;
        switch (change.kind) {
          case 'parked':
            busy.set(key(change.policy, change.orbit.orbit), change.orbit);
            send('orbit', presenceBody(tenantId, change.policy, change.orbit), position);
            return;
          case 'ringing-back':
          case 'ring-back-unanswered': {
            const before = busy.get(key(change.policy, change.orbit));
            // A change the snapshot already shows, or about another call: nothing to say.
            if (before === undefined || before.sessionId !== change.sessionId) return;
            const after: OrbitOccupancy = { ...before, status: change.kind === 'ringing-back' ? 'ringing-back' : 'parked', attempt: change.attempt };
            busy.set(key(change.policy, change.orbit), after);
            send('orbit', presenceBody(tenantId, change.policy, after), position);
            return;
          }
          case 'freed': {
            const before = busy.get(key(change.policy, change.orbit));
            if (before === undefined || before.sessionId !== change.sessionId) return;
            busy.delete(key(change.policy, change.orbit));
            send('orbit', presenceBody(tenantId, change.policy, { orbit: change.orbit, code: before.code, status: 'free', sessionId: change.sessionId, freedAt: change.freedAt }), position);
            return;
          }
          default: {
            const unhandled: never = change;
            return unhandled;
          }
        }
      };
      return feed.subscribe(tenantId, onUpdate, fail);
    };
  };
