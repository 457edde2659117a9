/**
 * Apache Kafka's own console producer (kafka.tools.ConsoleProducer, from the jars kafka.sh
 * fetched into infra/kafka/lib), for records as a Java media tier writes them: in record batches
 * compressed with any codec Kafka supports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireService } from '../../support/services.js';

export type KafkaCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

const kafkaDir = fileURLToPath(new URL('../../../infra/kafka/', import.meta.url));
/** Kafka's jars: where infra/kafka/kafka.sh keeps them (its KAFKA_LIB_DIR, as .ci/run sets it for a copy of the tree). */
const lib = process.env.KAFKA_LIB_DIR ?? join(kafkaDir, 'lib');
const java = (): string => (process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java');

/** Whether Java and Kafka's jars are here; under CI their absence fails the suite. */
export const requireKafkaTools = (): Promise<boolean> =>
  requireService(
    "Kafka's console producer (Java and infra/kafka/lib)",
    async () => existsSync(join(lib, 'kafka_2.13-3.9.1.jar')) && spawnSync(java(), ['-version'], { stdio: 'ignore' }).status === 0,
    'install Java 17+, then bash infra/kafka/kafka.sh fetch',
  );

/**
 * Produce `records` (key and value, one a line) with the console producer, compressed with
 * `codec`, in as few batches as they fit (one, for a few records), with producer properties
 * (`name=value`) besides. Resolves once it has exited after sending them all.
 */
export const produceWithJava = async (
  brokers: string,
  topic: string,
  codec: KafkaCodec,
  records: readonly { key: string; value: string }[],
  producerProperties: readonly string[] = [],
): Promise<void> => {
  const logs = mkdtempSync(join(tmpdir(), 'callpark-console-producer-'));
  const child = spawn(
    java(),
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${join(kafkaDir, 'log4j.properties')}`,
      `-Dkafka.logs.dir=${logs}`,
      '-Dkafka.log.name=tools.log',
      '-cp',
      `${lib}/*`,
      'kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      brokers.split(',')[0]!,
      '--topic',
      topic,
      '--compression-codec',
      codec,
      // Every line in one batch: nothing is sent before the last line is read.
      '--producer-property',
      'linger.ms=60000',
      '--producer-property',
      'batch.size=1048576',
      ...producerProperties.flatMap((property) => ['--producer-property', property]),
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=\t',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  for (const { key, value } of records) {
    if (/[\t\n]/.test(key + value)) throw new Error('a record for the console producer has a tab or a line break');
    child.stdin!.write(`${key}\t${value}\n`);
  }
  child.stdin!.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`the console producer (${codec}) exited with ${code}: ${stderr.trim()}`);
};
