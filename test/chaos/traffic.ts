/**
 * The chaos test's traffic: parks and retrievals over HTTP, spread across the live instances (a
 * request that meets a dead one is sent again, with the same `eventId`, to another), and parks
 * into Kafka's signaling topic. What counts as acknowledged: an HTTP answer carrying the command
 * id and an outcome, or Kafka's acknowledgement of the produce.
 */
import type { Producer } from 'kafkajs';
import type { Instance } from './instances.js';

export interface Acknowledged {
  readonly commandId: string;
  readonly via: 'http' | 'kafka';
  /** What the service answered (`no-op` records nothing); unknown for Kafka. */
  readonly outcome: string | undefined;
}

export interface TrafficOptions {
  readonly instances: readonly Instance[];
  readonly token: string;
  readonly tenants: readonly string[];
  readonly producer: Producer;
  readonly signalingTopic: string;
  /** Parks a second over HTTP and over Kafka, each (4). */
  readonly ratePerSecond?: number;
  readonly random?: () => number;
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

export class Traffic {
  readonly acknowledged: Acknowledged[] = [];
  /** Requests given up after every instance failed them (they may or may not be recorded). */
  unanswered = 0;
  private active = false;
  private readonly inFlight = new Set<Promise<void>>();
  private next = 0;
  private readonly random: () => number;

  constructor(private readonly options: TrafficOptions) {
    this.random = options.random ?? Math.random;
  }

  get running(): boolean {
    return this.active;
  }

  start(): void {
    this.active = true;
    const every = 1000 / (this.options.ratePerSecond ?? 4);
    void this.loop(every, () => this.parkOverHttp());
    void this.loop(every, () => this.parkOverKafka());
  }

  async stop(): Promise<void> {
    this.active = false;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private async loop(everyMs: number, send: () => Promise<void>): Promise<void> {
    while (this.active) {
      const work = send().finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
      await sleep(everyMs * (0.5 + this.random()));
    }
  }

  private tenant(): string {
    return this.options.tenants[Math.floor(this.random() * this.options.tenants.length)]!;
  }

  private parkMessage(prefix: string) {
    const n = ++this.next;
    const tenantId = this.tenant();
    return {
      eventId: `${prefix}-${n}`,
      tenantId,
      callId: `${prefix}-call-${n}`,
      parker: { userId: `user-${n % 20}@${tenantId}`, endpoint: 'teams-desktop' },
      media: 'audio',
    };
  }

  private async parkOverHttp(): Promise<void> {
    const park = this.parkMessage('h');
    const answer = await this.send('/v1/calls/park', park);
    if (answer?.outcome !== 'parked' || this.random() < 0.4) return;
    // Most parked calls are picked up by someone, 1 to 4 s later, through any instance.
    await sleep(1_000 + this.random() * 3_000);
    const orbit = (answer.orbit as { code: string }).code;
    await this.send('/v1/calls/retrieve', {
      eventId: `${park.eventId}-r`,
      tenantId: park.tenantId,
      callId: `${park.callId}-r`,
      retriever: { userId: `picker@${park.tenantId}`, endpoint: 'teams-desktop' },
      orbit,
    });
  }

  /** Send until an instance answers (the same eventId each time), or every try failed. */
  private async send(path: string, body: { readonly eventId: string } & Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const live = this.options.instances.filter((instance) => instance.live);
      const instance = live[Math.floor(this.random() * live.length)];
      if (instance !== undefined) {
        try {
          const response = await fetch(`${instance.url}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
          const answer = (await response.json()) as Record<string, unknown>;
          if (response.status < 500 && answer.commandId === body.eventId) {
            this.acknowledged.push({ commandId: body.eventId, via: 'http', outcome: typeof answer.outcome === 'string' ? answer.outcome : String(answer.reason) });
            return answer;
          }
        } catch {
          // The instance died under the request, or is restarting: another one is asked.
        }
      }
      await sleep(250);
    }
    this.unanswered++;
    return undefined;
  }

  private async parkOverKafka(): Promise<void> {
    const park = { type: 'park.requested', occurredAt: new Date().toISOString(), ...this.parkMessage('k') };
    try {
      await this.options.producer.send({ topic: this.options.signalingTopic, messages: [{ key: park.callId, value: JSON.stringify(park) }] });
      this.acknowledged.push({ commandId: park.eventId, via: 'kafka', outcome: undefined });
    } catch {
      this.unanswered++;
    }
  }
}
