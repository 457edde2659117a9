/**
 * The HTTP benchmark's workload: park-or-retrieve signaling requests, alternating, over `tenants`
 * tenants in turn. Slot 2k parks a call; slot 2k+1 retrieves the call parked `lag` lifecycles
 * earlier (about `2 × lag` requests before), by the orbit its park answered, so that a retrieve
 * does not wait on its own park's answer unless the service is that far behind, and then the wait
 * counts in its latency. The first `lag` odd slots, which have no call to retrieve yet, park too.
 */
import { randomUUID } from 'node:crypto';
import type { LoadRequest, Workload } from './loadGenerator.js';

interface Parked {
  readonly tenantId: string;
  readonly orbit: string;
}

export interface LifecycleOptions {
  readonly token: string;
  readonly tenants: number;
  /** Lifecycles between a park and its retrieval (100). */
  readonly lag?: number;
}

export const tenantIds = (tenants: number): string[] => Array.from({ length: tenants }, (_, n) => `tenant-${n}`);

const park = (tenantId: string) => ({
  type: 'park.requested',
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  tenantId,
  callId: randomUUID(),
  parker: { userId: 'alice@bench', endpoint: 'teams-desktop' },
  media: 'audio',
});

const retrieve = ({ tenantId, orbit }: Parked) => ({
  type: 'retrieve.requested',
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  tenantId,
  callId: randomUUID(),
  retriever: { userId: 'bob@bench', endpoint: 'teams-desktop' },
  orbit,
});

export const lifecycles = ({ token, tenants, lag = 100 }: LifecycleOptions): Workload => {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const names = tenantIds(tenants);
  /** Parks not yet retrieved, and parks not yet answered. */
  const parks = new Map<number, { tenantId: string; orbit: Promise<string> }>();
  const answers = new Map<number, (orbit: string) => void>();
  const parksAt = (slot: number): boolean => slot % 2 === 0 || slot < 2 * lag + 1;
  const asRequest = (message: object): LoadRequest => ({ path: '/v1/signaling', body: JSON.stringify(message), headers });
  return {
    request: (slot) => {
      if (parksAt(slot)) {
        const tenantId = names[(slot >> 1) % tenants]!;
        let answer!: (orbit: string) => void;
        const orbit = new Promise<string>((resolve) => (answer = resolve));
        parks.set(slot, { tenantId, orbit });
        answers.set(slot, answer);
        return asRequest(park(tenantId));
      }
      const parkSlot = slot - 2 * lag - 1;
      const parked = parks.get(parkSlot)!;
      parks.delete(parkSlot);
      return parked.orbit.then((orbit) => asRequest(retrieve({ tenantId: parked.tenantId, orbit })));
    },
    answered: (slot, status, body) => {
      const answer = answers.get(slot);
      if (answer === undefined) return;
      answers.delete(slot);
      // A park that failed leaves its retrieval an orbit nobody holds: it is refused, and counted.
      answer(status === 201 ? (JSON.parse(body) as { orbit: { code: string } }).orbit.code : '0');
    },
  };
};
