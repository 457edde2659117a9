/**
 * /metrics by prom-client: the service's own series under their names, and the Node.js and process
 * metrics an operator's dashboards expect (event loop lag, heap, CPU, handles), once per process.
 */
import { describe, expect, it } from 'vitest';
import { MetricRegistry, Metrics } from '../../adapters/observability/metrics.js';

const familiesOf = (exposition: string): Map<string, string> =>
  new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));

describe('the service’s metrics', () => {
  it('keeps the service’s series, names and types', async () => {
    const metrics = new Metrics();
    metrics.recordCommand({ type: 'ParkCall', tenantId: 'contoso' }, 'accepted', 0.003, { events: [{ type: 'Parked' } as never] });
    metrics.recordCommand({ type: 'ParkCall', tenantId: 'contoso' }, 'rejected', 0.001, { reason: 'no-free-orbit' });
    metrics.observeTimerLateness(12);
    metrics.recordHttpRequest('POST', '/v1/calls/park', 201, 0.004);
    const exposition = await metrics.render();
    const families = familiesOf(exposition);
    expect(Object.fromEntries([...families].filter(([name]) => name.startsWith('callpark_')))).toEqual({
      callpark_commands_total: 'counter',
      callpark_command_rejections_total: 'counter',
      callpark_command_duration_seconds: 'histogram',
      callpark_active_parks: 'gauge',
      callpark_timer_lateness_seconds: 'histogram',
      callpark_http_requests_total: 'counter',
      callpark_http_request_duration_seconds: 'histogram',
      callpark_projection_lag_events: 'gauge',
      callpark_projection_lag_seconds: 'gauge',
      callpark_lease_held: 'gauge',
    });
    expect(exposition).toContain('callpark_commands_total{command="ParkCall",outcome="accepted",source="request"} 1');
    expect(exposition).toContain('callpark_command_rejections_total{command="ParkCall",reason="no-free-orbit"} 1');
    expect(exposition).toContain('callpark_active_parks{tenant="contoso"} 1');
    expect(exposition).toContain('callpark_timer_lateness_seconds_bucket{le="0.025"} 1');
    expect(exposition).toContain('callpark_http_requests_total{method="POST",route="/v1/calls/park",status="201"} 1');
    expect(exposition.endsWith('\n')).toBe(true);
  });

  it('adds Node.js’s and the process’s metrics, one set for all registries', async () => {
    const first = familiesOf(await new Metrics().render());
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_active_handles_total', 'nodejs_gc_duration_seconds']) {
      expect(first.has(name), name).toBe(true);
    }
    // Two registries in one process render the same process metrics, and each its own series once.
    const second = await new Metrics().render();
    expect(second.match(/^# TYPE nodejs_heap_size_used_bytes /gm)).toHaveLength(1);
    expect(second.match(/^# TYPE callpark_commands_total /gm)).toHaveLength(1);
    expect(familiesOf(await new MetricRegistry({ processMetrics: false }).render()).size).toBe(0);
  });

  it('refuses a family registered twice, and a series without its labels', () => {
    const registry = new MetricRegistry({ processMetrics: false });
    const counter = registry.counter('callpark_things_total', 'Things.', ['kind']);
    expect(() => registry.counter('callpark_things_total', 'Things again.')).toThrow();
    expect(() => counter.inc({})).toThrow(/needs the label kind/);
    expect(() => counter.inc({ kind: 'a' }, -1)).toThrow(/only goes up/);
  });
});
