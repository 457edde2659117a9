/**
 * The bridge's own metrics, on the service's registry next to the command metrics. Registered
 * once per registry, so bridges started again in one process (tests) share the series.
 */
import type { Counter, Gauge, MetricRegistry, Metrics } from '../observability/metrics.js';

export interface KafkaMetrics {
  /** Signaling records by what became of them: a command outcome, `dead-letter` or `error`. */
  readonly signaling: Counter;
  readonly deadLetters: Counter;
  readonly directives: Counter;
  readonly pauses: Counter;
  readonly pausedPartitions: Gauge;
  /** Times a signaling partition was found unable to advance (partitionStalls.ts). */
  readonly partitionStalls: Counter;
  readonly stalledPartitions: Gauge;
  readonly consumerCrashes: Counter;
}

const byRegistry = new WeakMap<MetricRegistry, KafkaMetrics>();

export const kafkaMetricsOf = (metrics: Metrics | undefined): KafkaMetrics | undefined => {
  if (metrics === undefined) return undefined;
  const registry = metrics.registry;
  let kafka = byRegistry.get(registry);
  if (kafka === undefined) {
    kafka = {
      signaling: registry.counter('callpark_kafka_signaling_records_total', 'Signaling records read from Kafka, by what became of them.', ['outcome']),
      deadLetters: registry.counter('callpark_kafka_dead_letters_total', 'Signaling records sent to the dead-letter topic, by reason.', ['reason']),
      directives: registry.counter('callpark_kafka_directives_total', 'Directives acknowledged by Kafka, by directive type.', ['type']),
      pauses: registry.counter('callpark_kafka_partition_pauses_total', 'Times a signaling partition was paused because the store was slow.'),
      pausedPartitions: registry.gauge('callpark_kafka_paused_partitions', 'Signaling partitions paused now.'),
      partitionStalls: registry.counter('callpark_kafka_partition_stalls_total', 'Times a signaling partition failed again and again at one offset and was reported as not advancing.'),
      stalledPartitions: registry.gauge('callpark_kafka_stalled_partitions', 'Signaling partitions that cannot advance now.'),
      consumerCrashes: registry.counter('callpark_kafka_consumer_crashes_total', 'Crashes of the signaling consumer (a failed fetch, a batch that failed).'),
    };
    byRegistry.set(registry, kafka);
  }
  return kafka;
};
