/**
 * Orbit occupancy of one policy, live: which orbits hold which call, since when, parked by whom,
 * when it rings back, which attempt; free and total counts (DOMAIN.md, "Views"). Like Asterisk's
 * ParkedCalls. Read from the decided state, so it is exactly what the next command will see.
 *
 * A call keeps the settings it was parked with (I5): when a policy's range changed after a park,
 * the call still holds its orbit outside the new range. Such an orbit is listed too, marked
 * `outsideRange`, and counts towards neither `free` nor `total`.
 */
import type { CallParkState } from './callParkState.js';
import type { Party } from './commands.js';
import { orbitCode } from './orbit.js';
import type { OrbitPrefix } from './parkPolicy.js';

export type OrbitStatus = 'free' | 'parked' | 'ringing-back';

export interface OrbitOccupancy {
  readonly orbit: number;
  /** How people say and dial it: `42`, `*3012`. */
  readonly code: string;
  readonly status: OrbitStatus;
  /** The orbit holds a call parked under an earlier range of the policy (I5). */
  readonly outsideRange?: true;
  readonly callId?: string;
  readonly sessionId?: string;
  readonly parkedAt?: number;
  readonly parkedBy?: Party;
  /** Parked: when the next ring back is due. */
  readonly ringBackDueAt?: number;
  /** Ringing back: when this ring back goes unanswered. */
  readonly unansweredAt?: number;
  /** How many ring backs have started (0 before the first). */
  readonly attempt?: number;
  /** Free: when the orbit was last freed, if ever (the reuse quarantine counts from here, I8). */
  readonly freedAt?: number;
}

export interface PolicyOccupancy {
  readonly policy: string;
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly orbitPrefix: OrbitPrefix;
  /** Orbits of the range, plus any held outside it, in orbit order. */
  readonly orbits: readonly OrbitOccupancy[];
  /** Orbits of the range that hold no call. */
  readonly free: number;
  /** Orbits of the range. */
  readonly total: number;
  /** Calls the policy holds, wherever their orbit. */
  readonly occupied: number;
}

/** The occupancy of `policy`, or undefined when the tenant has no such policy. */
export const occupancyOf = (state: CallParkState, policy: string): PolicyOccupancy | undefined => {
  const lot = state.policies.get(policy);
  if (lot === undefined) return undefined;
  const { pickupRangeStart: start, pickupRangeEnd: end, orbitPrefix } = lot.settings;

  const occupiedOrbit = (orbit: number, sessionId: string): OrbitOccupancy => {
    const session = state.sessions.get(sessionId);
    const outside = orbit < start || orbit > end ? { outsideRange: true as const } : {};
    if (session === undefined) return { orbit, code: orbitCode(orbit, orbitPrefix), status: 'parked', sessionId, ...outside };
    return {
      orbit,
      // The code it was parked under, which is the one people were told.
      code: session.orbitCode,
      status: session.phase,
      ...outside,
      callId: session.callId,
      sessionId,
      parkedAt: session.parkedAt,
      parkedBy: session.parker,
      ...(session.phase === 'parked' ? { ringBackDueAt: session.dueAt } : { unansweredAt: session.dueAt }),
      attempt: session.attempt,
    };
  };

  const orbits: OrbitOccupancy[] = [];
  let free = 0;
  for (let orbit = start; orbit <= end; orbit++) {
    const sessionId = lot.occupied.get(orbit);
    if (sessionId !== undefined) {
      orbits.push(occupiedOrbit(orbit, sessionId));
      continue;
    }
    free++;
    const freedAt = lot.freedAt.get(orbit);
    orbits.push({ orbit, code: orbitCode(orbit, orbitPrefix), status: 'free', ...(freedAt === undefined ? {} : { freedAt }) });
  }
  for (const [orbit, sessionId] of lot.occupied) if (orbit < start || orbit > end) orbits.push(occupiedOrbit(orbit, sessionId));
  orbits.sort((a, b) => a.orbit - b.orbit);

  return { policy: lot.policy, rangeStart: start, rangeEnd: end, orbitPrefix, orbits, free, total: end - start + 1, occupied: lot.occupied.size };
};
