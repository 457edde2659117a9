/** The kafkajs client of the bridge: brokers and client id from KafkaConfig, TLS and SASL from KafkaSecurity, every compression codec Kafka supports. */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkajsConfig, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from './kafkaEnvironment.js';
import { kafkajsLogCreator, type BridgeLogger } from './bridgeLogger.js';
import { registerCompressionCodecs } from './compressionCodecs.js';
import type { KafkaSecurity } from './kafkaEnvironment.js';

export interface KafkaClientOptions {
  readonly security?: KafkaSecurity;
  /** kafkajs's own log level (WARN). */
  readonly logLevel?: logLevel;
  /** How long a connection may take to open, in ms (3,000). */
  readonly connectionTimeoutMs?: number;
  /** How long a request may take, in ms (30,000). */
  readonly requestTimeoutMs?: number;
  /** The most a compressed record batch may decompress to (64 MiB; for the whole process, as kafkajs's codecs are). */
  readonly maxDecompressedBytes?: number;
}

const sslOptions = (ssl: NonNullable<KafkaSecurity['ssl']>): KafkajsConfig['ssl'] => ({
  rejectUnauthorized: ssl.rejectUnauthorized,
  ...(ssl.caFile ? { ca: [readFileSync(ssl.caFile, 'utf8')] } : {}),
  ...(ssl.certFile ? { cert: readFileSync(ssl.certFile, 'utf8') } : {}),
  ...(ssl.keyFile ? { key: readFileSync(ssl.keyFile, 'utf8') } : {}),
});

const saslOptions = ({ mechanism, username, password }: NonNullable<KafkaSecurity['sasl']>): SASLOptions => {
  switch (mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
    default: {
      const unhandled: never = mechanism;
      return unhandled;
    }
  }
};

export const createKafka = (config: Pick<KafkaConfig, 'brokers' | 'clientId'>, logger: BridgeLogger, options: KafkaClientOptions = {}): Kafka => {
  const { security = {} } = options;
  // Whatever codec the media tier compresses with.
  registerCompressionCodecs(options.maxDecompressedBytes === undefined ? {} : { maxDecompressedBytes: options.maxDecompressedBytes });
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ...(security.ssl ? { ssl: sslOptions(security.ssl) } : {}),
    ...(security.sasl ? { sasl: saslOptions(security.sasl) } : {}),
  });
};
