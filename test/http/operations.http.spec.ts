/**
 * Running the service: /healthz, /readyz reflecting readiness, and /metrics in the Prometheus text
 * format 0.0.4, every line of which parses, counting what the commands did.
 */
import { describe, expect, it } from 'vitest';
import { Metrics, MetricRegistry } from '../../adapters/observability/metrics.js';
import { alice, bob, json, startService, tokens } from './httpFixtures.js';

/** One line of the exposition: a comment (HELP, TYPE) or a sample. */
const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${LABEL})(?:,${LABEL})*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[+-]Inf|NaN)( -?[0-9]+)?$`);

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parse the exposition, failing on any line that is not valid 0.0.4. */
const parseExposition = (text: string): { types: Map<string, string>; samples: Sample[] } => {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (HELP.test(line)) continue;
    const type = TYPE.exec(line);
    if (type) {
      expect(types.has(type[1]!), `TYPE ${type[1]} twice`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = SAMPLE.exec(line);
    expect(sample, `not a valid exposition line: ${JSON.stringify(line)}`).not.toBeNull();
    const name = sample![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `${name} has no TYPE before it`).toBe(true);
    const labels = Object.fromEntries(
      [...(sample![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1]!, match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')]),
    );
    const raw = sample![3]!;
    samples.push({ name, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return { types, samples };
};

const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;

describe('/metrics', () => {
  it('is the Prometheus text format, every line valid, counting commands by type and outcome, latency, active parks, timer lateness and HTTP requests', async () => {
    const service = await startService();
    await service.allowPark();
    await service.park('call-1');
    await service.park('call-2');
    await service.retrieve('10', bob);
    await service.retrieve('10', { ...bob, federated: true });
    const message = service.message('park.requested', { callId: 'call-3', parker: alice, media: 'audio' });
    await service.signal(message);
    await service.signal(message);
    service.metrics.observeTimerLateness(42);
    service.metrics.observeTimerLateness(-3);

    const response = await service.request({ url: '/metrics', token: tokens.allReporting });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parseExposition(response.body);

    expect(types.get('callpark_commands_total')).toBe('counter');
    expect(types.get('callpark_command_duration_seconds')).toBe('histogram');
    expect(types.get('callpark_active_parks')).toBe('gauge');
    expect(types.get('callpark_timer_lateness_seconds')).toBe('histogram');
    expect(types.get('callpark_http_requests_total')).toBe('counter');

    expect(valueOf(samples, 'callpark_commands_total', { command: 'ParkCall', outcome: 'accepted' })).toBe(3);
    expect(valueOf(samples, 'callpark_commands_total', { command: 'ParkCall', outcome: 'duplicate' })).toBe(1);
    expect(valueOf(samples, 'callpark_commands_total', { command: 'RetrieveCall', outcome: 'accepted' })).toBe(1);
    expect(valueOf(samples, 'callpark_commands_total', { command: 'RetrieveCall', outcome: 'rejected' })).toBe(1);
    expect(valueOf(samples, 'callpark_command_rejections_total', { command: 'RetrieveCall', reason: 'federated-user' })).toBe(1);
    expect(valueOf(samples, 'callpark_command_duration_seconds_count', { command: 'ParkCall' })).toBe(4);
    expect(valueOf(samples, 'callpark_active_parks', { tenant: 'contoso' })).toBe(2);
    expect(valueOf(samples, 'callpark_timer_lateness_seconds_count')).toBe(2);
    expect(valueOf(samples, 'callpark_timer_lateness_seconds_sum')).toBeCloseTo(0.042);
    expect(valueOf(samples, 'callpark_timer_lateness_seconds_bucket', { le: '0.001' })).toBe(1);
    expect(valueOf(samples, 'callpark_http_requests_total', { method: 'POST', route: '/v1/signaling', status: '201' })).toBe(4);
    expect(valueOf(samples, 'callpark_http_requests_total', { method: 'POST', route: '/v1/signaling', status: '403' })).toBe(1);

    // Histogram buckets are cumulative and end at +Inf with the count.
    const buckets = samples.filter((sample) => sample.name === 'callpark_command_duration_seconds_bucket' && sample.labels.command === 'ParkCall');
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(4);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
  });

  it('escapes label values and help text', async () => {
    const registry = new MetricRegistry();
    registry.counter('odd_total', 'Help with \\ and\na new line.', ['label']).inc({ label: 'quote " backslash \\ new\nline' });
    const text = await registry.render();
    expect(text).toContain('# HELP odd_total Help with \\\\ and\\na new line.');
    expect(text).toContain('odd_total{label="quote \\" backslash \\\\ new\\nline"} 1');
    const { samples } = parseExposition(text);
    expect(samples[0]!.labels.label).toBe('quote " backslash \\ new\nline');
  });

  it('moves active parks with what the commands recorded, and can be set from the stores at start', () => {
    const metrics = new Metrics();
    metrics.setActiveParks('contoso', 7);
    metrics.recordCommand({ type: 'CallerHungUp', tenantId: 'contoso' }, 'accepted', 0.001, { events: [{ type: 'Abandoned' } as never] });
    expect(metrics.activeParksOf('contoso')).toBe(6);
    metrics.recordCommand({ type: 'CallerHungUp', tenantId: 'contoso' }, 'duplicate', 0.001, { events: [{ type: 'Abandoned' } as never] });
    expect(metrics.activeParksOf('contoso')).toBe(6);
  });

  it('reads active parks from a source at every scrape, when given one', async () => {
    const service = await startService();
    let counts: [string, number][] = [['contoso', 3], ['fabrikam', 1]];
    service.metrics.useActiveParksSource(async () => counts);
    const scrape = async () => parseExposition((await service.request({ url: '/metrics', token: tokens.allAdmin })).body).samples;
    expect(valueOf(await scrape(), 'callpark_active_parks', { tenant: 'fabrikam' })).toBe(1);
    counts = [['contoso', 2]];
    const samples = await scrape();
    expect(valueOf(samples, 'callpark_active_parks', { tenant: 'contoso' })).toBe(2);
    expect(valueOf(samples, 'callpark_active_parks', { tenant: 'fabrikam' })).toBeUndefined();
  });
});

describe('health', () => {
  it('/healthz answers 200 while the process runs, whatever readiness says', async () => {
    const service = await startService();
    service.setReadiness({ ready: false, checks: { eventStore: { ok: false, detail: 'connection refused' } } });
    const response = await service.request({ url: '/healthz' });
    expect([response.statusCode, json(response)]).toEqual([200, { status: 'ok' }]);
  });

  it('/readyz is 200 only when readiness says ready, else 503 with the checks', async () => {
    const service = await startService();
    const ready = await service.request({ url: '/readyz' });
    expect([ready.statusCode, json(ready)]).toEqual([200, { status: 'ready', checks: { eventStore: { ok: true } } }]);

    service.setReadiness({ ready: false, checks: { eventStore: { ok: true }, readStore: { ok: false, detail: 'connection refused' } } });
    const notReady = await service.request({ url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(String(notReady.headers['content-type']).startsWith('application/problem+json')).toBe(true);
    expect(json(notReady)).toMatchObject({ status: 503, checks: { readStore: { ok: false, detail: 'connection refused' } } });

    service.setReadiness(async () => {
      throw new Error('probe timed out');
    });
    const failing = await service.request({ url: '/readyz' });
    expect(failing.statusCode).toBe(503);
    expect(json(failing)).toMatchObject({ checks: { readiness: { ok: false, detail: 'probe timed out' } } });

    service.setReadiness({ ready: true, checks: {} });
    expect((await service.request({ url: '/readyz' })).statusCode).toBe(200);
  });
});
