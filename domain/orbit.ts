/**
 * Orbits: the codes calls are parked on, and how a free one is chosen.
 * Teams writes a pickup code as a number (`42`); Lync as a virtual extension with a prefix and a
 * fixed width (`*3012`). An orbit is a number inside its policy's range; its code is how people
 * say and dial it.
 */
import type { OrbitAllocation, OrbitPrefix } from './parkPolicy.js';

export const orbitCode = (orbit: number, prefix: OrbitPrefix): string => `${prefix}${orbit}`;

/**
 * The orbit a dialed code names, or undefined when it is no orbit code at all. The prefix may be
 * left off (`3012` for `*3012`): the digits decide.
 */
export const parseOrbitCode = (code: string): number | undefined => {
  const match = /^[*#]?(\d{1,4})$/.exec(code.trim());
  return match ? Number(match[1]) : undefined;
};

export interface AllocationRequest {
  readonly start: number;
  readonly end: number;
  readonly strategy: OrbitAllocation;
  /** The orbit issued last in this policy, for `sequential`. */
  readonly lastIssued: number | undefined;
  readonly isOccupied: (orbit: number) => boolean;
  /** When the orbit was last freed, if ever. */
  readonly freedAt: (orbit: number) => number | undefined;
  readonly quarantineMillis: number;
  readonly now: number;
  /** A draw in [0, 1), for `random`. */
  readonly random: number;
}

/**
 * Choose a free orbit, or undefined when every orbit of the range holds a call.
 *
 * A freed orbit stays out of rotation for the quarantine while another orbit is free (I8): the
 * strategy chooses among the orbits out of quarantine, and only when every free orbit is in
 * quarantine does the one freed longest ago get issued.
 */
export const allocateOrbit = (request: AllocationRequest): number | undefined => {
  const { start, end, strategy, isOccupied, freedAt, quarantineMillis, now } = request;
  const rested = (orbit: number): boolean => {
    const freed = freedAt(orbit);
    return freed === undefined || now - freed >= quarantineMillis;
  };

  let longestResting: number | undefined;
  let longestRestingSince = Number.POSITIVE_INFINITY;
  const restedOrbits: number[] = [];
  // Sequential walks on from the orbit issued last, wrapping; the others walk up from the start,
  // so the first rested orbit met is the one to issue (random collects them all and draws).
  const from = strategy === 'sequential' && request.lastIssued !== undefined && request.lastIssued >= start && request.lastIssued < end ? request.lastIssued + 1 : start;
  const size = end - start + 1;

  for (let step = 0; step < size; step++) {
    const orbit = from + step > end ? from + step - size : from + step;
    if (isOccupied(orbit)) continue;
    if (rested(orbit)) {
      if (strategy !== 'random') return orbit;
      restedOrbits.push(orbit);
      continue;
    }
    const since = freedAt(orbit) ?? Number.NEGATIVE_INFINITY;
    if (since < longestRestingSince || (since === longestRestingSince && orbit < (longestResting ?? Number.POSITIVE_INFINITY))) {
      longestResting = orbit;
      longestRestingSince = since;
    }
  }

  if (restedOrbits.length > 0) return restedOrbits[Math.min(restedOrbits.length - 1, Math.floor(request.random * restedOrbits.length))];
  return longestResting;
};
