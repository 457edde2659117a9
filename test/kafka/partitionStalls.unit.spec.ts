/**
 * What keeps signaling from advancing, as readiness and the metrics tell it: a partition failing
 * again and again at one offset, a consumer failing again and again without a fetch going
 * through; and the wait before a new consumer, growing with the failures in a row.
 */
import { describe, expect, it } from 'vitest';
import { kafkaMetricsOf } from '../../adapters/kafka/kafkaMetrics.js';
import { PartitionStalls, restartDelayMs } from '../../adapters/kafka/partitionStalls.js';
import { Metrics } from '../../adapters/observability/metrics.js';

const at = Date.parse('2026-11-22T09:30:00.000Z');

const stalls = () => {
  const metrics = new Metrics();
  return { metrics, stalls: new PartitionStalls(3, () => at, kafkaMetricsOf(metrics)) };
};

describe('partition stalls', () => {
  it('names a partition from its third failure in a row at one offset, until it advances', async () => {
    const { metrics, stalls: s } = stalls();
    s.failed(4, '120', 'disk I/O error');
    s.failed(4, '120', 'disk I/O error');
    expect(s.describe('callpark.signaling')).toBeUndefined();
    s.failed(4, '120', 'database is locked');
    expect(s.stalled()).toEqual([{ partition: 4, offset: '120', failures: 3, since: at, error: 'database is locked' }]);
    expect(s.describe('callpark.signaling')).toBe(
      'signaling partition callpark.signaling/4 cannot advance past offset 120: database is locked (3 failures in a row since 2026-11-22T09:30:00.000Z)',
    );
    s.failed(4, '120', 'database is locked');
    expect(await metrics.render()).toMatch(/callpark_kafka_partition_stalls_total 1\b/);
    expect(await metrics.render()).toMatch(/callpark_kafka_stalled_partitions 1\b/);

    s.advanced(4);
    expect(s.stalled()).toEqual([]);
    expect(s.describe('callpark.signaling')).toBeUndefined();
    expect(await metrics.render()).toMatch(/callpark_kafka_stalled_partitions 0\b/);
  });

  it('counts afresh when a partition fails at another offset, and forgets partitions no longer assigned', () => {
    const { stalls: s } = stalls();
    s.failed(1, '10', 'e');
    s.failed(1, '10', 'e');
    s.failed(1, '11', 'e');
    s.failed(2, '5', 'e');
    s.failed(2, '5', 'e');
    s.failed(2, '5', 'e');
    expect(s.stalled().map((stall) => [stall.partition, stall.failures])).toEqual([[2, 3]]);
    s.keepOnly([1]);
    expect(s.stalled()).toEqual([]);
  });

  it('names a consumer that fails again and again without a fetch going through, until one does', async () => {
    const { metrics, stalls: s } = stalls();
    expect(s.crashed('LZ4 compression not implemented')).toBe(1);
    expect(s.readFailed('a lz4 record batch cannot be decompressed: invalid magic number')).toBe(2);
    expect(s.describe('callpark.signaling')).toBeUndefined();
    expect(s.crashed('LZ4 compression not implemented')).toBe(3);
    expect(s.describe('callpark.signaling')).toBe(
      'the signaling consumer of callpark.signaling failed 3 times in a row since 2026-11-22T09:30:00.000Z without a fetch going through: LZ4 compression not implemented',
    );
    expect(await metrics.render()).toMatch(/callpark_kafka_consumer_crashes_total 2\b/);
    s.fetched();
    expect(s.failuresInARow()).toBe(0);
    expect(s.describe('callpark.signaling')).toBeUndefined();
  });

  it('waits longer before each new consumer while they keep failing: 1 s, doubling up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });
});
