/**
 * Configuration comes from the environment, decoded with io-ts at start. A wrong value stops the
 * service with a message that names the variable and what it expected. Nothing here names a
 * host, a secret or a machine path: the defaults are the embedded ones (files under ./data).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { issuesOf } from '../../domain/codec/codec.js';
import { ConfigurationError } from '../runtime/configurationError.js';
import { TokenGrants, roles, type TokenGrant } from '../http/auth.js';
import { DEFAULT_SCHEDULER_SHARDS, MAX_SCHEDULER_SHARDS } from '../scheduler/shards.js';
import { kafkaSettingsFromEnv, type KafkaConfig, type KafkaSettings } from '../kafka/kafkaEnvironment.js';

export { ConfigurationError } from '../runtime/configurationError.js';
export type { KafkaConfig } from '../kafka/kafkaEnvironment.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly eventStore: (
    | { readonly kind: 'sqlite'; readonly synchronous: 'full' | 'normal' }
    | { readonly kind: 'eventstoredb'; readonly connectionString: string }
    | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema: string }
  ) & {
    /** The most one append carries, in bytes (EventStoreDB's MaxAppendSize); the handler splits its batches to fit. */
    readonly maxAppendSize?: number;
  };
  readonly readStore: { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string };
  readonly kafka?: KafkaConfig;
  /** Tokens given in the environment; when there are none, the service keeps an admin token under dataDir. */
  readonly tokens: readonly TokenGrant[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** json (one object a line, the default) or pretty (pino-pretty, for a person at a terminal). */
  readonly logFormat: 'json' | 'pretty';
  readonly snapshotEvery: number;
  readonly shutdownGraceMillis: number;
  /** /readyz reports not ready while a projection is further behind than this many events. */
  readonly maxProjectionLagEvents: number;
  /** The supervisors' page: a call waiting longer than this stands out, unless a supervisor sets their own. */
  readonly longWaitSeconds?: number;
  /** Work shared by the instances of a deployment (adapters/leases): absent, the defaults. */
  readonly leases?: LeaseSettings;
}

/** The default of `CALLPARK_LEASE_RETRY_MS`. */
export const DEFAULT_LEASE_RETRY_MS = 250;

export interface LeaseSettings {
  /** How often an instance tries for the leases it does not hold, in ms: a dead instance's work moves within about this long. */
  readonly retryMs: number;
  /** How many shards of tenants the ring-back scheduler's work is split into, each with a lease (adapters/scheduler/shards.ts). */
  readonly schedulerShards: number;
}

const IntegerString = (min: number, max: number) =>
  new t.Type<number, string, unknown>(
    `a whole number from ${min} to ${max}`,
    (u): u is number => Number.isInteger(u),
    (u, c) => {
      const value = typeof u === 'string' && /^\d+$/.test(u.trim()) ? Number(u.trim()) : Number.NaN;
      return Number.isInteger(value) && value >= min && value <= max ? t.success(value) : t.failure(u, c, `expected a whole number from ${min} to ${max}, got "${String(u)}"`);
    },
    String,
  );

const Choice = <const L extends readonly [string, ...string[]]>(choices: L) =>
  new t.Type<L[number], string, unknown>(
    choices.join(' | '),
    (u): u is L[number] => typeof u === 'string' && choices.includes(u),
    (u, c) => (typeof u === 'string' && choices.includes(u.trim()) ? t.success(u.trim() as L[number]) : t.failure(u, c, `expected one of ${choices.join(', ')}, got "${String(u)}"`)),
    String,
  );

const Matching = (name: string, pattern: RegExp, example: string) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && pattern.test(u),
    (u, c) => (typeof u === 'string' && pattern.test(u.trim()) ? t.success(u.trim()) : t.failure(u, c, `expected ${name} such as ${example}, got "${String(u)}"`)),
    String,
  );

const TopicName = Matching('a Kafka topic name', /^[A-Za-z0-9._-]{1,249}$/, 'callpark.signaling');

/** `host:port[,host:port…]` */
const BrokerList = new t.Type<string[], string, unknown>(
  'a comma-separated list of host:port',
  (u): u is string[] => Array.isArray(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'expected a comma-separated list of host:port');
    const brokers = u.split(',').map((broker) => broker.trim()).filter(Boolean);
    const bad = brokers.find((broker) => !/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker));
    if (brokers.length === 0 || bad !== undefined) return t.failure(u, c, `expected a comma-separated list of host:port${bad ? `; "${bad}" is not one` : ''}`);
    return t.success(brokers);
  },
  (brokers) => brokers.join(','),
);

/**
 * Tokens: JSON (`[{"token":"…","role":"admin","tenant":"*"}]`, or `"sha256"` in place of `"token"`
 * so the configuration holds no secret) or the compact form `role@tenant=token[,role@tenant=token…]`.
 * Each grant is then held to the HTTP layer's TokenGrant codec. A token is never echoed back.
 */
const Tokens = new t.Type<TokenGrant[], string, unknown>(
  'tokens',
  (u): u is TokenGrant[] => Array.isArray(u),
  (u, c): t.Validation<TokenGrant[]> => {
    const fail = (why: string): t.Validation<TokenGrant[]> =>
      t.failure(u, c, `${why}; expected JSON [{"token","role","tenant"}] or role@tenant=token,… with role one of ${roles.join(', ')}`);
    if (typeof u !== 'string') return fail('not text');
    const text = u.trim();
    let grants: unknown;
    if (text.startsWith('[')) {
      try {
        grants = JSON.parse(text);
      } catch {
        return fail('not valid JSON');
      }
    } else {
      const entries = text.split(',').map((part) => part.trim()).filter(Boolean);
      const parsed = entries.map((entry) => /^([a-z]+)@([^=\s]+)=(\S+)$/.exec(entry));
      const bad = parsed.findIndex((match) => match === null);
      if (bad >= 0) return fail(`entry ${bad + 1} is not role@tenant=token`);
      grants = parsed.map((match) => ({ role: match![1], tenant: match![2], token: match![3] }));
    }
    const decoded = TokenGrants.decode(grants);
    if (E.isRight(decoded)) return t.success(decoded.right);
    // Name the grant and the field, never the value.
    const issue = issuesOf(decoded.left)[0];
    return fail(`${issue?.path.replace(/^\$/, 'grants') ?? 'a grant'} is invalid (${(issue?.message ?? '').replace(/, got .*$/, '')})`);
  },
  (grants) => JSON.stringify(grants),
);

/** Every variable the service reads, with its codec and default. */
const variables = {
  PORT: { codec: IntegerString(0, 65535), default: '8080' },
  HOST: { codec: Matching('a listen address', /^[0-9A-Za-z.:[\]-]+$/, '0.0.0.0 or ::'), default: '0.0.0.0' },
  CALLPARK_DATA_DIR: { codec: Matching('a directory', /^[^\0]+$/, './data'), default: './data' },
  EVENTSTORE_CONNECTION_STRING: {
    codec: Matching('an EventStoreDB or PostgreSQL connection string', /^(esdb(\+discover)?|postgres(ql)?):\/\/\S+$/, 'esdb://host:2113?tls=false or postgres://user@host:5432/callpark'),
    default: undefined,
  },
  EVENTSTORE_POSTGRES_SCHEMA: { codec: Matching('a schema name', /^[a-z_][a-z0-9_]{0,62}$/, 'callpark_events'), default: 'callpark_events' },
  SQLITE_SYNCHRONOUS: { codec: Choice(['full', 'normal']), default: 'full' },
  EVENTSTORE_MAX_APPEND_SIZE: { codec: IntegerString(65_536, 1_073_741_824), default: '1048576' },
  DATABASE_URL: { codec: Matching('a PostgreSQL URL', /^postgres(ql)?:\/\/\S+$/, 'postgres://user@host:5432/callpark'), default: undefined },
  DATABASE_SCHEMA: { codec: Matching('a schema name', /^[a-z_][a-z0-9_]{0,62}$/, 'callpark'), default: undefined },
  KAFKA_BROKERS: { codec: BrokerList, default: undefined },
  KAFKA_CLIENT_ID: { codec: Matching('a client id', /^[A-Za-z0-9._-]{1,100}$/, 'callpark'), default: 'callpark' },
  KAFKA_GROUP_ID: { codec: Matching('a consumer group id', /^[A-Za-z0-9._-]{1,200}$/, 'callpark'), default: 'callpark' },
  KAFKA_SIGNALING_TOPIC: { codec: TopicName, default: 'callpark.signaling' },
  KAFKA_DIRECTIVES_TOPIC: { codec: TopicName, default: 'callpark.directives' },
  KAFKA_DEAD_LETTER_TOPIC: { codec: TopicName, default: 'callpark.signaling.dead-letter' },
  KAFKA_ORBIT_STATE_TOPIC: { codec: TopicName, default: 'callpark.orbit-state' },
  CALLPARK_TOKENS: { codec: Tokens, default: undefined },
  LOG_LEVEL: { codec: Choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info' },
  LOG_FORMAT: { codec: Choice(['json', 'pretty']), default: 'json' },
  CALLPARK_SNAPSHOT_EVERY: { codec: IntegerString(0, 1_000_000), default: String(DEFAULT_SCHEDULER_SHARDS) },
  CALLPARK_SHUTDOWN_GRACE_MS: { codec: IntegerString(0, 600_000), default: '10000' },
  CALLPARK_MAX_PROJECTION_LAG_EVENTS: { codec: IntegerString(1, 100_000_000), default: '10000' },
  CALLPARK_LONG_WAIT_SECONDS: { codec: IntegerString(1, 3_600), default: '120' },
  CALLPARK_LEASE_RETRY_MS: { codec: IntegerString(50, 60_000), default: String(DEFAULT_LEASE_RETRY_MS) },
  CALLPARK_SCHEDULER_SHARDS: { codec: IntegerString(1, MAX_SCHEDULER_SHARDS), default: String(DEFAULT_SCHEDULER_SHARDS) },
} as const;

export type VariableName = keyof typeof variables;
export const variableNames = Object.keys(variables) as VariableName[];

type Decoded = { [K in VariableName]: t.TypeOf<(typeof variables)[K]['codec']> | undefined };

/** The event store the connection string's scheme names: PostgreSQL (`postgres://`), EventStoreDB (`esdb://`), else SQLite under the data folder. */
const eventStoreOf = (connectionString: string | undefined, schema: string, synchronous: 'full' | 'normal'): Config['eventStore'] => {
  if (connectionString === undefined) return { kind: 'sqlite', synchronous };
  return /^postgres(ql)?:/.test(connectionString) ? { kind: 'postgres', connectionString, schema } : { kind: 'eventstoredb', connectionString };
};

/** Decode the configuration from an environment, or throw a ConfigurationError naming each wrong variable. */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): Config => {
  const problems: { variable: string; message: string }[] = [];
  const decoded = {} as Record<string, unknown>;
  for (const name of variableNames) {
    const { codec, default: fallback } = variables[name];
    const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
    if (raw === undefined) continue;
    const result = (codec as t.Type<unknown, string, unknown>).decode(raw);
    if (E.isLeft(result)) problems.push(...issuesOf(result.left).map((issue) => ({ variable: name, message: issue.message })));
    else decoded[name] = result.right;
  }
  let kafkaSettings: KafkaSettings | undefined;
  if (decoded.KAFKA_BROKERS !== undefined) {
    try {
      kafkaSettings = kafkaSettingsFromEnv(env);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const v = decoded as Decoded;
  return {
    port: v.PORT!,
    host: v.HOST!,
    dataDir: v.CALLPARK_DATA_DIR!,
    eventStore: {
      ...eventStoreOf(v.EVENTSTORE_CONNECTION_STRING, v.EVENTSTORE_POSTGRES_SCHEMA!, v.SQLITE_SYNCHRONOUS!),
      maxAppendSize: v.EVENTSTORE_MAX_APPEND_SIZE!,
    },
    readStore: v.DATABASE_URL ? { kind: 'postgres', url: v.DATABASE_URL, ...(v.DATABASE_SCHEMA ? { schema: v.DATABASE_SCHEMA } : {}) } : { kind: 'sqlite' },
    ...(v.KAFKA_BROKERS
      ? {
          kafka: {
            brokers: v.KAFKA_BROKERS,
            clientId: v.KAFKA_CLIENT_ID!,
            groupId: v.KAFKA_GROUP_ID!,
            signalingTopic: v.KAFKA_SIGNALING_TOPIC!,
            directivesTopic: v.KAFKA_DIRECTIVES_TOPIC!,
            deadLetterTopic: v.KAFKA_DEAD_LETTER_TOPIC!,
            orbitStateTopic: v.KAFKA_ORBIT_STATE_TOPIC!,
            ...(kafkaSettings ? { settings: kafkaSettings } : {}),
          },
        }
      : {}),
    tokens: v.CALLPARK_TOKENS ?? [],
    logLevel: v.LOG_LEVEL!,
    logFormat: v.LOG_FORMAT!,
    snapshotEvery: v.CALLPARK_SNAPSHOT_EVERY!,
    shutdownGraceMillis: v.CALLPARK_SHUTDOWN_GRACE_MS!,
    maxProjectionLagEvents: v.CALLPARK_MAX_PROJECTION_LAG_EVENTS!,
    longWaitSeconds: v.CALLPARK_LONG_WAIT_SECONDS!,
    leases: { retryMs: v.CALLPARK_LEASE_RETRY_MS!, schedulerShards: v.CALLPARK_SCHEDULER_SHARDS! },
  };
};
