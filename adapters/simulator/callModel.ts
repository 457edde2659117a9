/**
 * The traffic model: the media tier of each tenant as a stream of calls.
 *
 * - Parks arrive per tenant as a Poisson process (`ratePerTenant` a second).
 * - Once parked, a call is retrieved by someone after a drawn delay (with `retrieveProbability`),
 *   or its caller hangs up after a drawn delay (with `hangUpProbability`), whichever comes first;
 *   else it waits for the service to ring the parker back.
 * - A ring back is answered after a drawn delay (with `answerProbability`), or declined (486,
 *   480, 603 or 408 from the parker's endpoint).
 *
 * It learns what happened from the directives (over Kafka) or from the answers and the due times
 * they name (over HTTP), and sends only what the wire would carry next.
 */
import { randomUUID } from 'node:crypto';
import type * as t from 'io-ts/lib/index.js';
import type { Party } from '../../domain/commands.js';
import type { Directive } from '../../domain/directives.js';
import type { Endpoint } from '../../domain/endpoint.js';
import type { SignalingMessage } from '../../domain/signaling.js';
import type { SimulatorOptions } from './options.js';
import { drawDelay, exponential, pick } from './randomness.js';
import type { Tally } from './tally.js';

/** A signaling message as it travels (instants as ISO-8601 text). */
export type SignalingRecord = t.OutputOf<typeof SignalingMessage>;

type Phase = 'requested' | 'parked' | 'ringing';

interface Call {
  readonly tenantId: string;
  readonly callId: string;
  readonly parker: Party;
  phase: Phase;
  orbitCode?: string;
  readonly timers: Set<NodeJS.Timeout>;
}

const parkerEndpoints: readonly (readonly [Endpoint, number])[] = [
  ['teams-desktop', 4],
  ['teams-ip-phone', 2],
  ['teams-mobile', 1],
  ['lync-2013', 1],
];
const retrieverEndpoints: readonly (readonly [Endpoint, number])[] = [
  ['teams-desktop', 3],
  ['teams-ip-phone', 2],
  ['common-area-phone', 1],
  ['pbx-phone', 1],
  ['lync-2013', 1],
];
const declines: readonly (readonly [486 | 480 | 603 | 408, number])[] = [
  [486, 3],
  [480, 2],
  [603, 1],
  [408, 2],
];

/** How long after a due ring back the simulator over HTTP expects the parker's phone to ring. */
const RING_BACK_SETTLE_MS = 1_500;

export class CallModel {
  private readonly calls = new Map<string, Call>();
  /** The retriever's dialog → the parked call it asked for. */
  private readonly dialogs = new Map<string, string>();
  private readonly arrivals = new Set<NodeJS.Timeout>();
  private arriving = false;
  private counter = 0;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly random: () => number,
    private readonly send: (message: SignalingRecord) => void,
    private readonly tally: Tally,
  ) {}

  get active(): number {
    return this.calls.size;
  }

  /** Start the arrivals of every tenant. */
  start(): void {
    this.arriving = true;
    for (const tenantId of this.options.tenants) this.nextArrival(tenantId);
  }

  /** No new calls; the calls under way go on. */
  stopArrivals(): void {
    this.arriving = false;
    for (const timer of this.arrivals) clearTimeout(timer);
    this.arrivals.clear();
  }

  /** Forget everything (the end of the run). */
  close(): void {
    this.stopArrivals();
    for (const call of this.calls.values()) for (const timer of call.timers) clearTimeout(timer);
    this.calls.clear();
  }

  /** A directive of the service, read from the directives topic (Kafka). */
  onDirective(directive: Directive, commandId: string): void {
    switch (directive.type) {
      case 'hold-caller':
        this.tally.answered(directive.type, commandId);
        return this.parked(directive.callId, directive.orbitCode);
      case 'ring-parker':
        this.tally.answered(directive.type, commandId);
        return this.ringing(directive.callId);
      case 'connect-caller':
        this.tally.answered(`connect-caller via ${directive.via}`, commandId);
        return this.ended(directive.callId);
      case 'send-to-fallback':
        this.tally.answered(directive.type, commandId);
        return this.ended(directive.callId);
      case 'stop-ringing': {
        this.tally.answered(directive.type, commandId);
        // Unanswered with attempts left: parked again until the next ring back (an ending that
        // stopped the ring back comes with its own directives next).
        const call = this.calls.get(directive.callId);
        if (call?.phase === 'ringing') call.phase = 'parked';
        return;
      }
      case 'release-orbit':
        this.tally.answered(directive.type, commandId);
        return this.ended(directive.callId);
      case 'refuse-park':
        this.tally.answered(`refuse-park: ${directive.reason}`, commandId);
        return this.ended(directive.callId);
      case 'refuse-retrieval':
        this.tally.answered(`refuse-retrieval: ${directive.reason}`, commandId);
        this.dialogs.delete(directive.callId);
        return;
      default: {
        const unhandled: never = directive;
        return unhandled;
      }
    }
  }

  /** The service's answer to a message sent over HTTP: its status and body. */
  onAnswer(message: SignalingRecord, status: number, body: Record<string, unknown>): void {
    const outcome = typeof body.outcome === 'string' ? body.outcome : typeof body.reason === 'string' ? body.reason : typeof body.title === 'string' ? body.title : 'no outcome';
    this.tally.answered(`${status} ${outcome}`, message.eventId);
    const callId = message.type === 'retrieve.requested' ? this.dialogs.get(message.callId) : message.callId;
    if (message.type === 'retrieve.requested') this.dialogs.delete(message.callId);
    if (callId === undefined) return;
    if (status >= 400) {
      if (message.type === 'park.requested') this.ended(callId);
      return;
    }
    switch (outcome) {
      case 'parked': {
        const orbit = body.orbit as { code?: string } | undefined;
        this.parked(callId, orbit?.code ?? '');
        this.ringBackAt(callId, Date.parse(String(body.ringBackDueAt)));
        return;
      }
      case 'ring-back-unanswered': {
        const call = this.calls.get(callId);
        if (call) call.phase = 'parked';
        this.ringBackAt(callId, Date.parse(String(body.nextRingBackDueAt)));
        return;
      }
      case 'retrieved':
      case 'abandoned':
      case 'expired':
        return this.ended(callId);
      default:
        return;
    }
  }

  private nextArrival(tenantId: string): void {
    if (!this.arriving) return;
    const timer = setTimeout(() => {
      this.arrivals.delete(timer);
      this.arrive(tenantId);
      this.nextArrival(tenantId);
    }, exponential(this.random, 1 / this.options.ratePerTenant) * 1000);
    this.arrivals.add(timer);
  }

  private arrive(tenantId: string): void {
    const callId = `sim-${Date.now().toString(36)}-${(++this.counter).toString(36)}-${randomUUID().slice(0, 8)}`;
    const parker = { userId: this.user(tenantId), endpoint: pick(this.random, parkerEndpoints) };
    this.calls.set(callId, { tenantId, callId, parker, phase: 'requested', timers: new Set() });
    const media = this.random() < this.options.videoProbability ? 'video' : 'audio';
    this.emit({ type: 'park.requested', ...this.envelope(tenantId, callId), parker, media });
  }

  private parked(callId: string, orbitCode: string): void {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase !== 'requested') return;
    call.phase = 'parked';
    call.orbitCode = orbitCode;
    const { retrieveProbability, retrieveDelay, hangUpProbability, hangUpDelay } = this.options;
    const retrieveIn = this.random() < retrieveProbability ? drawDelay(this.random, retrieveDelay) : Number.POSITIVE_INFINITY;
    const hangUpIn = this.random() < hangUpProbability ? drawDelay(this.random, hangUpDelay) : Number.POSITIVE_INFINITY;
    if (retrieveIn < hangUpIn) this.later(call, retrieveIn, () => this.retrieve(call));
    else if (hangUpIn < Number.POSITIVE_INFINITY) this.later(call, hangUpIn, () => this.emit({ type: 'call.ended', ...this.envelope(call.tenantId, call.callId), sipMethod: 'BYE' }));
  }

  private retrieve(call: Call): void {
    if (call.orbitCode === undefined) return;
    const dialog = `${call.callId}-r${(++this.counter).toString(36)}`;
    this.dialogs.set(dialog, call.callId);
    const retriever = { userId: this.user(call.tenantId), endpoint: pick(this.random, retrieverEndpoints) };
    this.emit({ type: 'retrieve.requested', ...this.envelope(call.tenantId, dialog), retriever, orbit: call.orbitCode });
  }

  private ringing(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase === 'ringing') return;
    call.phase = 'ringing';
    const answers = this.random() < this.options.answerProbability;
    this.later(call, drawDelay(this.random, this.options.answerDelay), () => {
      if (call.phase !== 'ringing') return;
      this.emit(
        answers
          ? { type: 'ringback.answered', ...this.envelope(call.tenantId, call.callId) }
          : { type: 'ringback.failed', ...this.envelope(call.tenantId, call.callId), sipStatus: pick(this.random, declines) },
      );
    });
  }

  /** Over HTTP nothing says the phone rings: expect it shortly after the due time. */
  private ringBackAt(callId: string, dueAt: number): void {
    const call = this.calls.get(callId);
    if (call === undefined || !Number.isFinite(dueAt)) return;
    this.later(call, Math.max(0, dueAt - Date.now() + RING_BACK_SETTLE_MS) / 1000, () => this.ringing(callId));
  }

  private ended(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    for (const timer of call.timers) clearTimeout(timer);
    this.calls.delete(callId);
  }

  private later(call: Call, seconds: number, action: () => void): void {
    const timer = setTimeout(() => {
      call.timers.delete(timer);
      if (this.calls.get(call.callId) === call) action();
    }, seconds * 1000);
    call.timers.add(timer);
  }

  private emit(message: SignalingRecord): void {
    this.tally.sentMessage(message.type, message.eventId);
    this.send(message);
  }

  private envelope(tenantId: string, callId: string) {
    return { eventId: `sim-${randomUUID()}`, occurredAt: new Date().toISOString(), tenantId, callId };
  }

  private user(tenantId: string): string {
    return `user-${1 + Math.floor(this.random() * this.options.usersPerTenant)}@${tenantId}`;
  }
}
