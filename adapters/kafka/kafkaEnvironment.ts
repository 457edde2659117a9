/**
 * What the bridge reads from the environment beyond KafkaConfig (adapters/config/config.ts): TLS, SASL
 * and the shape of the topics it creates. Decoded at start like the rest of the configuration; a
 * wrong value names its variable. Certificates are named by file, never written into a variable.
 *
 * | variable                         | meaning                                                  |
 * | -------------------------------- | -------------------------------------------------------- |
 * | KAFKA_SSL                        | `true` to connect with TLS (implied by any file below)   |
 * | KAFKA_SSL_CA_FILE                | PEM file of the CA(s) to trust, instead of the system's  |
 * | KAFKA_SSL_CERT_FILE, _KEY_FILE   | PEM client certificate and key (mutual TLS), both or none |
 * | KAFKA_SSL_REJECT_UNAUTHORIZED    | `false` accepts any server certificate (tests only)      |
 * | KAFKA_SASL_MECHANISM             | `plain`, `scram-sha-256` or `scram-sha-512`              |
 * | KAFKA_SASL_USERNAME, _PASSWORD   | SASL credentials, required with a mechanism              |
 * | KAFKA_REPLICATION_FACTOR         | replicas of each created topic (1; 3 in production)      |
 * | KAFKA_SIGNALING_PARTITIONS       | partitions of a created signaling topic (6)              |
 * | KAFKA_DIRECTIVES_PARTITIONS      | partitions of a created directives topic (6)             |
 * | KAFKA_ORBIT_STATE_PARTITIONS     | partitions of a created orbit state topic (6)            |
 * | KAFKA_DEAD_LETTER_MAX_BYTES      | largest dead-letter record batch (1,000,000; at least 16,384): at most the dead-letter topic's max.message.bytes |
 * | KAFKA_MAX_DECOMPRESSED_BYTES     | most a compressed record batch may decompress to (67,108,864: 64 MiB) |
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { issuesOf } from '../../domain/codec/codec.js';
import { ConfigurationError } from '../runtime/configurationError.js';
import { MIN_DEAD_LETTER_BYTES } from './deadLetter.js';
import type { SignalingConsumerTuning } from './signalingConsumer.js';
import type { TopicLayout, TopicNames } from './topics.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSecurity {
  readonly ssl?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
    readonly rejectUnauthorized: boolean;
  };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
}

/** The bridge's part of the service's configuration (adapters/config/config.ts reads it with the rest): where it connects, as whom, and its topics' names. */
export interface KafkaConfig extends TopicNames {
  readonly brokers: readonly string[];
  /** TLS, SASL and the layout of the topics the bridge creates. */
  readonly settings?: KafkaSettings;
  readonly clientId: string;
  readonly groupId: string;
}

export interface KafkaSettings {
  readonly security: KafkaSecurity;
  readonly topics: Partial<TopicLayout>;
  readonly consumer: Partial<Pick<SignalingConsumerTuning, 'deadLetterMaxBytes' | 'sessionTimeoutMs' | 'heartbeatIntervalMs'>>;
  /** The most a compressed record batch may decompress to (compressionCodecs.ts). */
  readonly maxDecompressedBytes?: number;
}

const Flag = new t.Type<boolean, string, unknown>(
  'true or false',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => {
    const value = typeof u === 'string' ? u.trim().toLowerCase() : '';
    if (['true', '1', 'yes'].includes(value)) return t.success(true);
    if (['false', '0', 'no'].includes(value)) return t.success(false);
    return t.failure(u, c, `expected true or false, got "${String(u)}"`);
  },
  String,
);

const WholeNumber = (min: number, max: number) =>
  new t.Type<number, string, unknown>(
    `a whole number from ${min} to ${max}`,
    (u): u is number => Number.isInteger(u),
    (u, c) => {
      const value = typeof u === 'string' && /^\d+$/.test(u.trim()) ? Number(u.trim()) : Number.NaN;
      return value >= min && value <= max ? t.success(value) : t.failure(u, c, `expected a whole number from ${min} to ${max}, got "${String(u)}"`);
    },
    String,
  );

const Count = (max: number) => WholeNumber(1, max);

const NonEmpty = (name: string) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && u.length > 0,
    (u, c) => (typeof u === 'string' && u.trim().length > 0 ? t.success(u.trim()) : t.failure(u, c, `expected ${name}`)),
    String,
  );

const Mechanism = new t.Type<SaslMechanism, string, unknown>(
  'a SASL mechanism',
  (u): u is SaslMechanism => u === 'plain' || u === 'scram-sha-256' || u === 'scram-sha-512',
  (u, c) => {
    const value = typeof u === 'string' ? u.trim().toLowerCase() : '';
    return value === 'plain' || value === 'scram-sha-256' || value === 'scram-sha-512'
      ? t.success(value)
      : t.failure(u, c, `expected plain, scram-sha-256 or scram-sha-512, got "${String(u)}"`);
  },
  String,
);

const variables = {
  KAFKA_SSL: Flag,
  KAFKA_SSL_CA_FILE: NonEmpty('a file name'),
  KAFKA_SSL_CERT_FILE: NonEmpty('a file name'),
  KAFKA_SSL_KEY_FILE: NonEmpty('a file name'),
  KAFKA_SSL_REJECT_UNAUTHORIZED: Flag,
  KAFKA_SASL_MECHANISM: Mechanism,
  KAFKA_SASL_USERNAME: NonEmpty('a user name'),
  // The password is never echoed back in an error.
  KAFKA_SASL_PASSWORD: new t.Type<string, string, unknown>('a password', (u): u is string => typeof u === 'string', (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c, 'expected a password')), String),
  KAFKA_REPLICATION_FACTOR: Count(32),
  KAFKA_SIGNALING_PARTITIONS: Count(10_000),
  KAFKA_DIRECTIVES_PARTITIONS: Count(10_000),
  KAFKA_ORBIT_STATE_PARTITIONS: Count(10_000),
  KAFKA_DEAD_LETTER_MAX_BYTES: WholeNumber(MIN_DEAD_LETTER_BYTES, 100 * 1024 * 1024),
  KAFKA_MAX_DECOMPRESSED_BYTES: WholeNumber(1024 * 1024, 1024 * 1024 * 1024),
  // The broker's bounds by default (group.min/max.session.timeout.ms): 6 s to 30 min.
  KAFKA_SESSION_TIMEOUT_MS: WholeNumber(6_000, 1_800_000),
} as const;

export type KafkaVariableName = keyof typeof variables;
export const kafkaVariableNames = Object.keys(variables) as KafkaVariableName[];

type Decoded = { -readonly [K in KafkaVariableName]?: t.TypeOf<(typeof variables)[K]> };

/** Heartbeats a tenth of the session timeout apart (at most 3 s): a member misses several before the group gives it up. */
export const heartbeatFor = (sessionTimeoutMs: number): number => Math.min(3_000, Math.floor(sessionTimeoutMs / 10));

/** Decode the bridge's TLS, SASL and topic settings, or throw a ConfigurationError naming each wrong variable. */
export const kafkaSettingsFromEnv = (env: Readonly<Record<string, string | undefined>>): KafkaSettings => {
  const problems: { variable: string; message: string }[] = [];
  const v: Decoded = {};
  for (const name of kafkaVariableNames) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const result = (variables[name] as t.Type<unknown, string, unknown>).decode(raw);
    if (E.isLeft(result)) problems.push(...issuesOf(result.left).map((issue) => ({ variable: name, message: issue.message })));
    else (v as Record<string, unknown>)[name] = result.right;
  }
  if ((v.KAFKA_SSL_CERT_FILE === undefined) !== (v.KAFKA_SSL_KEY_FILE === undefined)) {
    problems.push({ variable: v.KAFKA_SSL_CERT_FILE === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE', message: 'a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE' });
  }
  const credentials = v.KAFKA_SASL_USERNAME !== undefined || v.KAFKA_SASL_PASSWORD !== undefined;
  if (v.KAFKA_SASL_MECHANISM !== undefined && (v.KAFKA_SASL_USERNAME === undefined || v.KAFKA_SASL_PASSWORD === undefined)) {
    problems.push({ variable: v.KAFKA_SASL_USERNAME === undefined ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD', message: `required with KAFKA_SASL_MECHANISM=${v.KAFKA_SASL_MECHANISM}` });
  } else if (v.KAFKA_SASL_MECHANISM === undefined && credentials) {
    problems.push({ variable: 'KAFKA_SASL_MECHANISM', message: 'SASL credentials are given without a mechanism: set plain, scram-sha-256 or scram-sha-512' });
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const files = { caFile: v.KAFKA_SSL_CA_FILE, certFile: v.KAFKA_SSL_CERT_FILE, keyFile: v.KAFKA_SSL_KEY_FILE };
  const anyFile = Object.values(files).some((file) => file !== undefined);
  const ssl = v.KAFKA_SSL ?? anyFile;
  const security: KafkaSecurity = {
    ...(ssl
      ? {
          ssl: {
            ...Object.fromEntries(Object.entries(files).filter(([, file]) => file !== undefined)),
            rejectUnauthorized: v.KAFKA_SSL_REJECT_UNAUTHORIZED ?? true,
          },
        }
      : {}),
    ...(v.KAFKA_SASL_MECHANISM ? { sasl: { mechanism: v.KAFKA_SASL_MECHANISM, username: v.KAFKA_SASL_USERNAME!, password: v.KAFKA_SASL_PASSWORD! } } : {}),
  };
  const topics: Partial<TopicLayout> = {
    ...(v.KAFKA_REPLICATION_FACTOR ? { replicationFactor: v.KAFKA_REPLICATION_FACTOR } : {}),
    ...(v.KAFKA_SIGNALING_PARTITIONS ? { signalingPartitions: v.KAFKA_SIGNALING_PARTITIONS } : {}),
    ...(v.KAFKA_DIRECTIVES_PARTITIONS ? { directivesPartitions: v.KAFKA_DIRECTIVES_PARTITIONS } : {}),
    ...(v.KAFKA_ORBIT_STATE_PARTITIONS ? { orbitStatePartitions: v.KAFKA_ORBIT_STATE_PARTITIONS } : {}),
  };
  const consumer = {
    ...(v.KAFKA_DEAD_LETTER_MAX_BYTES ? { deadLetterMaxBytes: v.KAFKA_DEAD_LETTER_MAX_BYTES } : {}),
    ...(v.KAFKA_SESSION_TIMEOUT_MS ? { sessionTimeoutMs: v.KAFKA_SESSION_TIMEOUT_MS, heartbeatIntervalMs: heartbeatFor(v.KAFKA_SESSION_TIMEOUT_MS) } : {}),
  };
  return { security, topics, consumer, ...(v.KAFKA_MAX_DECOMPRESSED_BYTES ? { maxDecompressedBytes: v.KAFKA_MAX_DECOMPRESSED_BYTES } : {}) };
};
