/**
 * Random histories of call park, recorded by the real decider through the CommandHandler: a
 * fast-check arbitrary of abstract steps ("park as carol", "ring back the 2nd parked call",
 * "an hour passes") that `record` turns into commands against the state the handler holds at
 * that moment, so every history is one the service could have recorded, refusals included.
 */
import fc from 'fast-check';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import type { ActiveSession } from '../../domain/callParkState.js';
import type { CallParkCommand, Party, UnansweredCause } from '../../domain/commands.js';
import type { Endpoint, Media } from '../../domain/endpoint.js';
import type { EventStore } from '../../domain/eventStore.js';
import type { PolicySettingsChange } from '../../domain/parkPolicy.js';

export const TENANTS = ['contoso', 'fabrikam'] as const;
const USERS = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test'] as const;
const ENDPOINTS: readonly Endpoint[] = ['teams-desktop', 'teams-desktop', 'lync-2013', 'teams-web', 'mobile', 'common-area-phone'];
const CAUSES: readonly UnansweredCause[] = ['no-answer', 'busy', 'declined', 'timeout'];
export const START = Date.parse('2026-11-22T08:40:00.000Z');

export type Step =
  | { readonly kind: 'park'; readonly tenant: number; readonly user: number; readonly endpoint: number; readonly media: Media; readonly directed: number | null; readonly reuseCall: number | null }
  | { readonly kind: 'retrieve'; readonly tenant: number; readonly user: number; readonly endpoint: number; readonly pick: number; readonly federated: boolean; readonly wrongCode: boolean }
  | { readonly kind: 'ring-back-due' | 'ring-back-answered' | 'hang-up'; readonly tenant: number; readonly pick: number }
  | { readonly kind: 'ring-back-unanswered'; readonly tenant: number; readonly pick: number; readonly cause: number }
  | { readonly kind: 'set-range'; readonly tenant: number; readonly policy: 'Global' | 'Sales'; readonly size: number }
  | { readonly kind: 'grant'; readonly tenant: number; readonly user: number; readonly sales: boolean }
  | { readonly kind: 'remove-sales' | 'new-sales' | 'reset-global'; readonly tenant: number }
  | { readonly kind: 'ring-back-capability'; readonly tenant: number; readonly endpoint: number; readonly allowed: boolean };

export interface TimedStep {
  readonly step: Step;
  /** Seconds since the previous step. */
  readonly after: number;
}

/** A value one time in `odds`, else null. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, odds: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: odds - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

const tenant = fc.nat({ max: TENANTS.length - 1 });
const pick = fc.nat({ max: 7 });

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('park' as const),
      tenant,
      user: fc.nat({ max: USERS.length - 1 }),
      endpoint: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.nat({ max: ENDPOINTS.length - 1 }) }),
      media: fc.oneof({ weight: 12, arbitrary: fc.constant<Media>('audio') }, { weight: 1, arbitrary: fc.constant<Media>('video') }),
      directed: rarely(fc.nat({ max: 3 }), 6),
      reuseCall: rarely(pick, 10),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('retrieve' as const),
      tenant,
      user: fc.nat({ max: USERS.length - 1 }),
      endpoint: fc.nat({ max: ENDPOINTS.length - 1 }),
      pick,
      federated: fc.nat({ max: 7 }).map((n) => n === 0),
      wrongCode: fc.nat({ max: 3 }).map((n) => n === 0),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ring-back-due' as const), tenant, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('ring-back-answered' as const, 'hang-up' as const), tenant, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ring-back-unanswered' as const), tenant, pick, cause: fc.nat({ max: CAUSES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('set-range' as const), tenant, policy: fc.constantFrom('Global' as const, 'Sales' as const), size: fc.integer({ min: 2, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const), tenant, user: fc.nat({ max: USERS.length - 1 }), sales: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('remove-sales' as const, 'new-sales' as const, 'reset-global' as const), tenant }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ring-back-capability' as const), tenant, endpoint: fc.nat({ max: 3 }), allowed: fc.boolean() }) },
);

/** Steps, each some seconds after the one before: mostly seconds apart, now and then most of an hour. */
export const historyArbitrary = (maxSteps = 60): fc.Arbitrary<TimedStep[]> =>
  fc.array(
    fc.record({
      step: stepArbitrary,
      after: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 60, max: 2_700 }) }),
    }),
    { minLength: 1, maxLength: maxSteps, size: 'max' },
  );

const salesSettings: PolicySettingsChange = {
  allowCallPark: true,
  orbitPrefix: '*',
  pickupRangeStart: 1000,
  pickupRangeEnd: 1002,
  allowDirectedPark: true,
  parkTimeoutSeconds: 20,
  ringBackSeconds: 10,
  maxRingBackAttempts: 1,
  orbitReuseQuarantineSeconds: 0,
};

/** Records steps against one store; every command of a history goes through `handler`. */
export class HistoryRecorder {
  readonly handler: CommandHandler;
  private now = START;
  private sequence = 0;

  constructor(readonly store: EventStore = new InMemoryEventStore()) {
    this.handler = new CommandHandler({ store, snapshotEvery: 0, sleep: async () => undefined, random: () => 0.5 });
  }

  get clock(): number {
    return this.now;
  }

  private id(prefix: string): string {
    return `${prefix}-${++this.sequence}`;
  }

  private base(tenantId: string) {
    return { commandId: this.id('cmd'), at: this.now, tenantId };
  }

  async send(command: CallParkCommand): Promise<void> {
    await this.handler.handle(command);
  }

  /** Both tenants: call park on in Global (a small range), a Sales policy with a prefix, carol granted Sales. */
  async setUp(): Promise<void> {
    for (const tenantId of TENANTS) {
      await this.send({
        type: 'SetPolicy',
        ...this.base(tenantId),
        policy: 'Global',
        settings: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 13, maxRingBackAttempts: 2, parkTimeoutSeconds: 30, ringBackSeconds: 10, orbitReuseQuarantineSeconds: 0 },
      });
      await this.send({ type: 'NewPolicy', ...this.base(tenantId), policy: 'Sales', settings: salesSettings });
      await this.send({ type: 'GrantPolicy', ...this.base(tenantId), userId: USERS[2], policy: 'Sales' });
    }
  }

  private sessions(tenantId: string): Promise<ActiveSession[]> {
    return this.handler.query(tenantId, (state) => [...state.sessions.values()].map((session) => ({ ...session })));
  }

  private async picked(tenantId: string, index: number, phase?: ActiveSession['phase']): Promise<ActiveSession | undefined> {
    const sessions = (await this.sessions(tenantId)).filter((session) => phase === undefined || session.phase === phase);
    return sessions.length === 0 ? undefined : sessions[index % sessions.length];
  }

  async record(steps: readonly TimedStep[]): Promise<void> {
    for (const { step, after } of steps) {
      this.now += after * 1000 + 1;
      await this.recordStep(step);
    }
  }

  private async recordStep(step: Step): Promise<void> {
    const tenantId = TENANTS[step.tenant]!;
    switch (step.kind) {
      case 'park': {
        const parker: Party = { userId: USERS[step.user]!, endpoint: ENDPOINTS[step.endpoint]! };
        const reused = step.reuseCall === null ? undefined : (await this.sessions(tenantId))[step.reuseCall];
        const orbit = step.directed === null ? undefined : step.directed === 3 ? '99' : `*${1000 + step.directed}`;
        await this.send({
          type: 'ParkCall',
          ...this.base(tenantId),
          sessionId: this.id('session'),
          callId: reused?.callId ?? this.id('call'),
          parker,
          media: step.media,
          random: 0.5,
          ...(orbit === undefined ? {} : { orbit }),
          ...(step.user === 1 ? { caller: 'sip:+1 555 0100, "front desk"@example.test' } : {}),
        });
        return;
      }
      case 'retrieve': {
        const session = await this.picked(tenantId, step.pick);
        await this.send({
          type: 'RetrieveCall',
          ...this.base(tenantId),
          orbit: session === undefined || step.wrongCode ? '12' : session.orbitCode,
          retriever: { userId: USERS[step.user]!, endpoint: ENDPOINTS[step.endpoint]!, federated: step.federated },
          retrieverCallId: this.id('dialog'),
        });
        return;
      }
      case 'ring-back-due': {
        const session = await this.picked(tenantId, step.pick, 'parked');
        if (session === undefined) return;
        this.now = Math.max(this.now, session.dueAt);
        await this.send({ type: 'RingBackDue', ...this.base(tenantId), callId: session.callId, sessionId: session.sessionId, attempt: session.attempt + 1 });
        return;
      }
      case 'ring-back-answered': {
        const session = await this.picked(tenantId, step.pick, 'ringing-back');
        await this.send({ type: 'RingBackAnswered', ...this.base(tenantId), callId: session?.callId ?? 'call-gone' });
        return;
      }
      case 'ring-back-unanswered': {
        const session = await this.picked(tenantId, step.pick, 'ringing-back');
        if (session === undefined) return;
        await this.send({ type: 'RingBackFailed', ...this.base(tenantId), callId: session.callId, cause: CAUSES[step.cause]! });
        return;
      }
      case 'hang-up': {
        const session = await this.picked(tenantId, step.pick);
        if (session === undefined) return;
        await this.send({ type: 'CallerHungUp', ...this.base(tenantId), callId: session.callId });
        return;
      }
      case 'set-range': {
        const start = step.policy === 'Global' ? 10 : 1000;
        await this.send({ type: 'SetPolicy', ...this.base(tenantId), policy: step.policy, settings: { pickupRangeStart: start, pickupRangeEnd: start + step.size - 1 } });
        return;
      }
      case 'grant':
        await this.send({ type: 'GrantPolicy', ...this.base(tenantId), userId: USERS[step.user]!, policy: step.sales ? 'Sales' : null });
        return;
      case 'remove-sales':
        await this.send({ type: 'RemovePolicy', ...this.base(tenantId), policy: 'Sales' });
        return;
      case 'new-sales':
        await this.send({ type: 'NewPolicy', ...this.base(tenantId), policy: 'Sales', settings: salesSettings });
        return;
      case 'reset-global':
        // Global back to the defaults (call park off), then on again with the test's range.
        await this.send({ type: 'RemovePolicy', ...this.base(tenantId), policy: 'Global' });
        await this.send({ type: 'SetPolicy', ...this.base(tenantId), policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 12 } });
        return;
      case 'ring-back-capability':
        await this.send({
          type: 'SetEndpointCapabilities',
          ...this.base(tenantId),
          endpoint: ENDPOINTS[step.endpoint]!,
          capabilities: { park: true, retrieve: true, ringBack: step.allowed },
        });
        return;
      default: {
        const unhandled: never = step;
        throw new Error(`Unknown step ${JSON.stringify(unhandled)}`);
      }
    }
  }
}

/** A store holding the history the steps record (after the set-up). */
export const recordHistory = async (steps: readonly TimedStep[], store: EventStore = new InMemoryEventStore()): Promise<HistoryRecorder> => {
  const recorder = new HistoryRecorder(store);
  await recorder.setUp();
  await recorder.record(steps);
  return recorder;
};
