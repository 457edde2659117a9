/**
 * Metrics in the Prometheus text exposition format, version 0.0.4: a small registry of counters,
 * gauges and histograms, and the service's own metrics on it. Every way in (HTTP, Kafka, the
 * ring-back scheduler) reports what its commands did through `recordCommand`; the scheduler
 * reports how late each timer fired through `observeTimerLateness`.
 */
import type { CommandType } from '../domain/commands.js';
import type { CallParkEvent } from '../domain/events.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string>>;

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values escape backslash, double quote and line feed; help text escapes backslash and line feed. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export const formatValue = (value: number): string => {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
};

const formatLabels = (labels: Labels): string => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
};

abstract class Family {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!metricName.test(name)) throw new Error(`"${name}" is not a Prometheus metric name.`);
    for (const label of labelNames) if (!labelName.test(label) || label.startsWith('__') || label === 'le') throw new Error(`"${label}" is not a label name ${name} may use.`);
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  /** The labels in declared order, so one set of labels is one series. */
  protected labelsOf(labels: Labels): { key: string; labels: Labels } {
    const ordered: Record<string, string> = {};
    for (const label of this.labelNames) {
      const value = labels[label];
      if (value === undefined) throw new Error(`${this.name} needs the label ${label}.`);
      ordered[label] = value;
    }
    return { key: JSON.stringify(Object.values(ordered)), labels: ordered };
  }

  render(): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()];
  }

  protected samples(): string[] {
    return [...this.series.values()].map(({ labels, value }) => `${this.name}${formatLabels(labels)} ${formatValue(value)}`);
  }
}

export class Counter extends Family {
  readonly type = 'counter';

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name} only goes up.`);
    const { key, labels: ordered } = this.labelsOf(labels);
    const current = this.series.get(key);
    if (current) current.value += by;
    else this.series.set(key, { labels: ordered, value: by });
  }
}

export class Gauge extends Family {
  readonly type = 'gauge';

  set(labels: Labels, value: number): void {
    const { key, labels: ordered } = this.labelsOf(labels);
    this.series.set(key, { labels: ordered, value });
  }

  add(labels: Labels, by: number): void {
    const { key, labels: ordered } = this.labelsOf(labels);
    const current = this.series.get(key);
    if (current) current.value += by;
    else this.series.set(key, { labels: ordered, value: by });
  }

  /** Forget every series (before setting them all again from a source). */
  clear(): void {
    this.series.clear();
  }

  value(labels: Labels = {}): number | undefined {
    return this.series.get(this.labelsOf(labels).key)?.value;
  }
}

interface HistogramSeries {
  readonly labels: Labels;
  /** Per bucket (not cumulative); the last is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family {
  readonly type = 'histogram';
  private readonly histograms = new Map<string, HistogramSeries>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (buckets.length === 0 || buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]!))) {
      throw new Error(`${name}: buckets must be finite and increasing.`);
    }
  }

  observe(labels: Labels, value: number): void {
    const { key, labels: ordered } = this.labelsOf(labels);
    let series = this.histograms.get(key);
    if (series === undefined) {
      series = { labels: ordered, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.histograms.set(key, series);
    }
    const index = this.buckets.findIndex((bound) => value <= bound);
    series.counts[index < 0 ? this.buckets.length : index]!++;
    series.sum += value;
    series.count++;
  }

  protected override samples(): string[] {
    const lines: string[] = [];
    for (const { labels, counts, sum, count } of this.histograms.values()) {
      let cumulative = 0;
      [...this.buckets, Number.POSITIVE_INFINITY].forEach((bound, i) => {
        cumulative += counts[i]!;
        lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatValue(bound) })} ${cumulative}`);
      });
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${count}`);
    }
    return lines;
  }
}

export class MetricRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The exposition: every family with its HELP and TYPE, then its samples; ends with a line feed. */
  render(): string {
    return `${[...this.families.values()].flatMap((family) => family.render()).join('\n')}\n`;
  }

  private add<F extends Family>(family: F): F {
    if (this.families.has(family.name)) throw new Error(`${family.name} is registered already.`);
    this.families.set(family.name, family);
    return family;
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
  private activeParksSource: ActiveParksSource | undefined;
  private projectionLagSource: ProjectionLagSource | undefined;
  readonly registry = new MetricRegistry();
  private readonly commands = this.registry.counter('callpark_commands_total', 'Commands handled, by command type, outcome and source (request: HTTP or Kafka; scheduler: a ring-back timer).', [
    'command',
    'outcome',
    'source',
  ]);
  private readonly rejections = this.registry.counter('callpark_command_rejections_total', 'Commands refused, by command type and reason.', ['command', 'reason']);
  private readonly latency = this.registry.histogram('callpark_command_duration_seconds', 'Time to decide and record a command, in seconds.', ['command'], LATENCY_BUCKETS);
  private readonly activeParks = this.registry.gauge('callpark_active_parks', 'Calls parked now, by tenant.', ['tenant']);
  private readonly lateness = this.registry.histogram('callpark_timer_lateness_seconds', 'How late ring-back and expiry timers fired (fire time minus due time), in seconds.', [], LATENESS_BUCKETS);
  private readonly httpRequests = this.registry.counter('callpark_http_requests_total', 'HTTP requests, by method, route and status.', ['method', 'route', 'status']);
  private readonly httpDuration = this.registry.histogram('callpark_http_request_duration_seconds', 'Time to answer an HTTP request, in seconds, by route.', ['route'], LATENCY_BUCKETS);
  private readonly lagEvents = this.registry.gauge('callpark_projection_lag_events', 'How far a projection is behind the head of the log, in log positions (events for SQLite).', ['projection']);
  private readonly lagSeconds = this.registry.gauge('callpark_projection_lag_seconds', 'How long the oldest event a projection has not yet applied has waited, in seconds.', ['projection']);

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

  render(): string {
    return this.registry.render();
  }
}
