/**
 * Time travel: the occupancy of a policy as it stood at a past instant, rebuilt from the log.
 *
 * It reads the tenant's stream (`callpark-tenant-{id}`) from its first event and folds it with
 * the decider's own `evolve`, stopping at the first event after the instant; then it answers
 * what `domain/occupancy.ts` answers from that state. So the past is told by the same rules as
 * the present, from the record itself rather than from any projection (docs/reporting.md says
 * why, and what it costs).
 */
import { callParkStream } from '../domain/callPark.js';
import { evolve, initialState } from '../domain/callParkState.js';
import type { EventStore } from '../domain/eventStore.js';
import { occupancyOf, type PolicyOccupancy } from '../domain/occupancy.js';
import { decodeEvent } from './callParkEvents.js';

export interface OccupancyAt {
  readonly tenantId: string;
  readonly policy: string;
  /** The instant asked about, in ms since the epoch. */
  readonly instant: number;
  /** The policy's occupancy then; undefined when the policy did not exist then. */
  readonly occupancy: PolicyOccupancy | undefined;
  /** How many events were folded, and the revision of the last one (undefined: none). */
  readonly eventsFolded: number;
  readonly revision: number | undefined;
}

/** The occupancy of `policy` at `instant` (ms since the epoch), from the tenant's events up to that instant. */
export const occupancyAt = async (store: EventStore, tenantId: string, policy: string, instant: number): Promise<OccupancyAt> => {
  let state = initialState();
  let eventsFolded = 0;
  let revision: number | undefined;
  for await (const recorded of store.readStream(callParkStream(tenantId))) {
    const { event } = decodeEvent(recorded);
    // The stream is the order of record, and each command's instant is when it was decided:
    // the first event after the instant ends the past.
    if (event.at > instant) break;
    state = evolve(state, event);
    eventsFolded++;
    revision = recorded.revision;
  }
  return { tenantId, policy, instant, occupancy: eventsFolded === 0 ? undefined : occupancyOf(state, policy), eventsFolded, revision };
};
