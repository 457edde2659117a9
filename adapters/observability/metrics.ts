/**
 * Metrics in the Prometheus text exposition format, version 0.0.4, by prom-client: the service's
 * own counters, gauges and histograms on a registry of each `Metrics`, and Node.js's and the
 * process's (CPU, memory, heap spaces, event loop lag, GC, open handles and file descriptors,
 * `collectDefaultMetrics`) once per process beside them. Every way in (HTTP, Kafka, the ring-back
 * scheduler) reports what its commands did through `recordCommand`; the scheduler reports how late
 * each timer fired through `observeTimerLateness`.
 *
 * Registering more (as adapters/kafka/kafkaMetrics.ts does): `metrics.registry.counter(name, help,
 * labelNames)`, `.gauge(…)` or `.histogram(…, buckets)`, each once per registry.
 */
import client from 'prom-client';
import type { CommandType } from '../../domain/commands.js';
import type { CallParkEvent } from '../../domain/events.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string>>;

/** One set of labels, in the family's declared order, as a key. A missing label is a mistake. */
const keyOf = (name: string, labelNames: readonly string[], labels: Labels): string =>
  JSON.stringify(
    labelNames.map((label) => {
      const value = labels[label];
      if (value === undefined) throw new Error(`${name} needs the label ${label}.`);
      return value;
    }),
  );

export class Counter {
  constructor(
    private readonly counter: client.Counter,
    readonly name: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name} only goes up.`);
    keyOf(this.name, this.labelNames, labels);
    this.counter.inc(labels, by);
  }
}

export class Gauge {
  /** What was set, to read back without prom-client's asynchronous `get`. */
  private readonly values = new Map<string, number>();

  constructor(
    private readonly gauge: client.Gauge,
    readonly name: string,
    private readonly labelNames: readonly string[],
  ) {}

  set(labels: Labels, value: number): void {
    this.values.set(keyOf(this.name, this.labelNames, labels), value);
    this.gauge.set(labels, value);
  }

  add(labels: Labels, by: number): void {
    const key = keyOf(this.name, this.labelNames, labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
    this.gauge.inc(labels, by);
  }

  /** Forget every series (before setting them all again from a source). */
  clear(): void {
    this.values.clear();
    this.gauge.reset();
  }

  value(labels: Labels = {}): number | undefined {
    return this.values.get(keyOf(this.name, this.labelNames, labels));
  }
}

export class Histogram {
  constructor(
    private readonly histogram: client.Histogram,
    readonly name: string,
    private readonly labelNames: readonly string[],
  ) {}

  observe(labels: Labels, value: number): void {
    keyOf(this.name, this.labelNames, labels);
    this.histogram.observe(labels, value);
  }
}

/** Node.js's and the process's metrics: one set per process, however many registries render them. */
let processRegistry: client.Registry | undefined;
const processMetrics = (): client.Registry => {
  if (processRegistry === undefined) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
};

export class MetricRegistry {
  private readonly registry = new client.Registry();

  constructor(private readonly options: { readonly processMetrics: boolean } = { processMetrics: true }) {}

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter(new client.Counter({ name, help, labelNames, registers: [this.registry] }), name, labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return new Gauge(new client.Gauge({ name, help, labelNames, registers: [this.registry] }), name, labelNames);
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return new Histogram(new client.Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] }), name, labelNames);
  }

  /** The exposition: this registry's families, then the process's (unless left out); ends with a line feed. */
  async render(): Promise<string> {
    const parts = [await this.registry.metrics(), ...(this.options.processMetrics ? [await processMetrics().metrics()] : [])];
    // prom-client leaves an empty line after each family; the format ignores them, readers need not see them.
    // It writes NaN as "Nan" (an event loop lag before its first sample): the format spells it NaN.
    const text = parts.join('\n').replace(/\n{2,}/g, '\n').replace(/^\n/, '').replace(/ Nan$/gm, ' NaN');
    return text === '' || text.endsWith('\n') ? text : `${text}\n`;
  }
}

/** How a command ended, as a metric label. */
export type CommandResult = 'accepted' | 'rejected' | 'no-op' | 'duplicate' | 'error';
/** Who sent a command: a client (over HTTP or Kafka), or the ring-back scheduler's timers. */
export type CommandSource = 'request' | 'scheduler';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const parkDelta = (event: CallParkEvent): number => {
  switch (event.type) {
    case 'Parked':
      return 1;
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return -1;
    default:
      return 0;
  }
};

/** Active parks by tenant, as the stores hold them. */
export type ActiveParksSource = () => Promise<Iterable<readonly [tenantId: string, count: number]>>;

/** How far each projection is behind the head of the log. */
export type ProjectionLagSource = () => Promise<Iterable<{ readonly projection: string; readonly events: number; readonly seconds: number }>>;

/** The service's metrics. */
export class Metrics {
  /** `new Metrics(new MetricRegistry({ processMetrics: false }))` leaves out Node.js's metrics. */
  constructor(readonly registry: MetricRegistry = new MetricRegistry()) {
    this.commands = registry.counter('callpark_commands_total', 'Commands handled, by command type, outcome and source (request: HTTP or Kafka; scheduler: a ring-back timer).', ['command', 'outcome', 'source']);
    this.rejections = registry.counter('callpark_command_rejections_total', 'Commands refused, by command type and reason.', ['command', 'reason']);
    this.latency = registry.histogram('callpark_command_duration_seconds', 'Time to decide and record a command, in seconds.', ['command'], LATENCY_BUCKETS);
    this.activeParks = registry.gauge('callpark_active_parks', 'Calls parked now, by tenant.', ['tenant']);
    this.lateness = registry.histogram('callpark_timer_lateness_seconds', 'How late ring-back and expiry timers fired (fire time minus due time), in seconds.', [], LATENESS_BUCKETS);
    this.httpRequests = registry.counter('callpark_http_requests_total', 'HTTP requests, by method, route and status.', ['method', 'route', 'status']);
    this.httpDuration = registry.histogram('callpark_http_request_duration_seconds', 'Time to answer an HTTP request, in seconds, by route.', ['route'], LATENCY_BUCKETS);
    this.leaseHeld = registry.gauge('callpark_lease_held', 'Whether this instance holds a lease (1) and so runs its work (a projection, the ring-back scheduler), or not (0).', ['lease']);
    this.lagEvents = registry.gauge('callpark_projection_lag_events', 'How far a projection is behind the head of the log, in log positions (events for SQLite).', ['projection']);
    this.lagSeconds = registry.gauge('callpark_projection_lag_seconds', 'How long the oldest event a projection has not yet applied has waited, in seconds.', ['projection']);
  }

  private activeParksSource: ActiveParksSource | undefined;
  private projectionLagSource: ProjectionLagSource | undefined;
  private leaseSource: (() => readonly { readonly lease: string; readonly held: boolean }[]) | undefined;
  private readonly leaseHeld: Gauge;
  private readonly commands: Counter;
  private readonly rejections: Counter;
  private readonly latency: Histogram;
  private readonly activeParks: Gauge;
  private readonly lateness: Histogram;
  private readonly httpRequests: Counter;
  private readonly httpDuration: Histogram;
  private readonly lagEvents: Gauge;
  private readonly lagSeconds: Gauge;

  /**
   * What a command did. Its events move the active parks of its tenant (a duplicate recorded
   * nothing new, so it moves nothing).
   */
  recordCommand(
    command: { readonly type: CommandType; readonly tenantId: string },
    result: CommandResult,
    seconds: number,
    details: { reason?: string; events?: readonly CallParkEvent[]; source?: CommandSource } = {},
  ): void {
    this.commands.inc({ command: command.type, outcome: result, source: details.source ?? 'request' });
    this.latency.observe({ command: command.type }, seconds);
    if (result === 'rejected' && details.reason !== undefined) this.rejections.inc({ command: command.type, reason: details.reason });
    if (result === 'duplicate' || result === 'error') return;
    const delta = (details.events ?? []).reduce((sum, event) => sum + parkDelta(event), 0);
    if (delta !== 0) this.activeParks.add({ tenant: command.tenantId }, delta);
  }

  /** Set a tenant's active parks outright: at start, from the occupancy the stores hold. */
  setActiveParks(tenantId: string, count: number): void {
    this.activeParks.set({ tenant: tenantId }, count);
  }

  /**
   * Take active parks from the stores at every scrape instead of counting them from the commands
   * this process saw: exact after a restart and with several processes on one store.
   */
  useActiveParksSource(source: ActiveParksSource): void {
    this.activeParksSource = source;
  }

  /** Read which leases this instance holds at every scrape (`callpark_lease_held`). */
  useLeaseSource(source: () => readonly { readonly lease: string; readonly held: boolean }[]): void {
    this.leaseSource = source;
  }

  /** Read every projection's lag at every scrape. */
  useProjectionLagSource(source: ProjectionLagSource): void {
    this.projectionLagSource = source;
  }

  /** Bring what is read at scrape time up to date: active parks and projection lag, from their sources. */
  async collect(): Promise<void> {
    if (this.activeParksSource !== undefined) {
      const counts = [...(await this.activeParksSource())];
      this.activeParks.clear();
      for (const [tenantId, count] of counts) this.activeParks.set({ tenant: tenantId }, count);
    }
    for (const { lease, held } of this.leaseSource?.() ?? []) this.leaseHeld.set({ lease }, held ? 1 : 0);
    if (this.projectionLagSource !== undefined) {
      for (const { projection, events, seconds } of await this.projectionLagSource()) {
        this.lagEvents.set({ projection }, events);
        this.lagSeconds.set({ projection }, seconds);
      }
    }
  }

  activeParksOf(tenantId: string): number {
    return this.activeParks.value({ tenant: tenantId }) ?? 0;
  }

  /** A timer fired `millis` after it was due (early counts as on time). */
  observeTimerLateness(millis: number): void {
    this.lateness.observe({}, Math.max(0, millis) / 1000);
  }

  recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }

  render(): Promise<string> {
    return this.registry.render();
  }
}
