/**
 * A large, realistic log for the read side's benchmarks, decided by the real decider: tenants
 * with a Global and a Sales policy, calls parked, retrieved by orbit, rung back (answered or
 * not), expired, abandoned, and refused retrievals, with the clock moving 100 ms a command.
 * Commands are decided in process (`decide` and `evolve`, no command handler), and their events
 * written to the event store in their stored form, 500 a stream append, so a million events are
 * ready in well under a minute. A seeded generator makes every run the same.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { callParkStream, decide } from '../../../domain/callPark.js';
import { evolve, initialState, type ActiveSession, type CallParkState } from '../../../domain/callParkState.js';
import type { CallParkCommand, Party } from '../../../domain/commands.js';
import type { EventData, EventStore } from '../../../domain/eventStore.js';
import type { CallParkEvent } from '../../../domain/events.js';
import { toStoredForm } from '../../../domain/storedForm/storedEvent.js';

/** mulberry32: a small seeded generator, so the workload is the same on every run. */
const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const START = Date.parse('2026-11-22T00:00:00.000Z');
const USERS = 40;
const APPEND = 500;

interface Tenant {
  readonly id: string;
  state: CallParkState;
  pending: EventData[];
}

export interface WorkloadSummary {
  readonly events: number;
  readonly tenants: number;
  readonly first: number;
  readonly last: number;
}

/** Decide `events` (about) events over `tenants` tenants and append them to `store`. */
export const writeWorkload = async (store: EventStore, events: number, { tenants: tenantCount = 20, seed = 7 } = {}): Promise<WorkloadSummary> => {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const tenants: Tenant[] = Array.from({ length: tenantCount }, (_, i) => ({ id: `tenant-${String(i).padStart(3, '0')}`, state: initialState(), pending: [] }));
  let now = START;
  let written = 0;
  let commands = 0;

  const flush = async (tenant: Tenant): Promise<void> => {
    if (tenant.pending.length === 0) return;
    const batch = tenant.pending;
    tenant.pending = [];
    await store.appendToStream(callParkStream(tenant.id), batch, { expectedRevision: 'any' });
  };

  const send = async (tenant: Tenant, command: CallParkCommand): Promise<void> => {
    const decision = decide(command, tenant.state);
    const recorded: readonly CallParkEvent[] = E.isRight(decision) ? decision.right : decision.left.recorded ? [decision.left.recorded] : [];
    for (const event of recorded) {
      tenant.state = evolve(tenant.state, event);
      const metadata = { commandId: command.commandId, ...(E.isLeft(decision) ? { rejectionMessage: decision.left.message } : {}) };
      tenant.pending.push({ id: randomUUID(), ...toStoredForm(event, metadata) });
      written++;
    }
    if (tenant.pending.length >= APPEND) await flush(tenant);
  };

  const base = (tenant: Tenant) => ({ commandId: `bench-${++commands}`, at: now, tenantId: tenant.id });
  const user = (n: number): Party => ({ userId: `user-${n}@example.test`, endpoint: n % 5 === 0 ? 'lync-2013' : 'teams-desktop' });

  for (const tenant of tenants) {
    await send(tenant, { type: 'SetPolicy', ...base(tenant), policy: 'Global', settings: { allowCallPark: true, parkTimeoutSeconds: 60, ringBackSeconds: 20, maxRingBackAttempts: 2, orbitReuseQuarantineSeconds: 10 } });
    await send(tenant, { type: 'NewPolicy', ...base(tenant), policy: 'Sales', settings: { allowCallPark: true, orbitPrefix: '*', pickupRangeStart: 1000, pickupRangeEnd: 1049, parkTimeoutSeconds: 90 } });
    for (let n = 0; n < USERS; n += 4) await send(tenant, { type: 'GrantPolicy', ...base(tenant), userId: user(n).userId, policy: 'Sales' });
  }

  while (written < events) {
    now += 100;
    const tenant = pick(tenants);
    const sessions = [...tenant.state.sessions.values()];
    const parked = sessions.filter((session) => session.phase === 'parked');
    const ringing = sessions.filter((session) => session.phase === 'ringing-back');
    const due = parked.filter((session) => session.dueAt <= now);
    const roll = random();
    const someone = (): ActiveSession => pick(sessions);
    if (due.length > 0 && roll < 0.15) {
      const session = pick(due);
      await send(tenant, { type: 'RingBackDue', ...base(tenant), callId: session.callId, sessionId: session.sessionId, attempt: session.attempt + 1 });
    } else if (ringing.length > 0 && roll < 0.3) {
      const session = pick(ringing);
      if (random() < 0.5) await send(tenant, { type: 'RingBackAnswered', ...base(tenant), callId: session.callId });
      else await send(tenant, { type: 'RingBackFailed', ...base(tenant), callId: session.callId, cause: random() < 0.5 ? 'no-answer' : 'busy' });
    } else if (sessions.length < 60 && roll < 0.75) {
      await send(tenant, { type: 'ParkCall', ...base(tenant), sessionId: randomUUID(), callId: randomUUID(), parker: user(Math.floor(random() * USERS)), media: 'audio', random: random() });
    } else if (sessions.length > 0 && roll < 0.93) {
      const session = someone();
      const sameNamespace = session.policy === 'Sales' ? 0 : 1;
      await send(tenant, {
        type: 'RetrieveCall',
        ...base(tenant),
        orbit: session.orbitCode,
        retriever: { ...user(4 * Math.floor(random() * (USERS / 4)) + sameNamespace), federated: false },
        retrieverCallId: randomUUID(),
      });
    } else if (sessions.length > 0 && roll < 0.97) {
      await send(tenant, { type: 'CallerHungUp', ...base(tenant), callId: someone().callId });
    } else {
      await send(tenant, { type: 'RetrieveCall', ...base(tenant), orbit: String(10 + Math.floor(random() * 90)), retriever: { ...user(1), federated: random() < 0.3 } });
    }
  }
  for (const tenant of tenants) await flush(tenant);
  return { events: written, tenants: tenantCount, first: START, last: now };
};
