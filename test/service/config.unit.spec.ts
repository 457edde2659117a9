import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../adapters/config/config.js';

const problemsOf = (env: Record<string, string>): { variable: string; message: string }[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigurationError');
};

describe('configuration from the environment', () => {
  it('runs on embedded defaults with nothing set', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      eventStore: { kind: 'sqlite', synchronous: 'full', maxAppendSize: 1_048_576 },
      readStore: { kind: 'sqlite' },
      tokens: [],
      logLevel: 'info',
      logFormat: 'json',
      snapshotEvery: 16,
      shutdownGraceMillis: 10_000,
      maxProjectionLagEvents: 10_000,
      longWaitSeconds: 120,
      leases: { retryMs: 250, schedulerShards: 16 },
    });
  });

  it('reads how often leases are tried and how many shards the ring-back scheduler has, within their bounds', () => {
    expect(loadConfig({ CALLPARK_LEASE_RETRY_MS: '100', CALLPARK_SCHEDULER_SHARDS: '64' }).leases).toEqual({ retryMs: 100, schedulerShards: 64 });
    expect(problemsOf({ CALLPARK_LEASE_RETRY_MS: '10', CALLPARK_SCHEDULER_SHARDS: '0' }).map((problem) => problem.variable)).toEqual(['CALLPARK_LEASE_RETRY_MS', 'CALLPARK_SCHEDULER_SHARDS']);
    expect(problemsOf({ CALLPARK_SCHEDULER_SHARDS: '1025' })).toEqual([{ variable: 'CALLPARK_SCHEDULER_SHARDS', message: 'expected a whole number from 1 to 1024, got "1025"' }]);
    expect(problemsOf({ CALLPARK_LEASE_RETRY_MS: 'fast' }).map((problem) => problem.variable)).toEqual(['CALLPARK_LEASE_RETRY_MS']);
  });

  it('switches the event store, the read store and Kafka on by their variables', () => {
    const config = loadConfig({
      EVENTSTORE_CONNECTION_STRING: 'esdb://eventstore:2113?tls=false',
      DATABASE_URL: 'postgres://callpark@db:5432/callpark',
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      EVENTSTORE_MAX_APPEND_SIZE: '4194304',
    });
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', connectionString: 'esdb://eventstore:2113?tls=false', maxAppendSize: 4_194_304 });
    expect(config.readStore).toEqual({ kind: 'postgres', url: 'postgres://callpark@db:5432/callpark' });
    expect(config.kafka).toMatchObject({ brokers: ['kafka-1:9092', 'kafka-2:9092'], signalingTopic: 'callpark.signaling', groupId: 'callpark' });
  });

  it('chooses the PostgreSQL event store by the scheme of EVENTSTORE_CONNECTION_STRING, in EVENTSTORE_POSTGRES_SCHEMA', () => {
    expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: 'postgres://callpark@db:5432/callpark' }).eventStore).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://callpark@db:5432/callpark',
      schema: 'callpark_events',
      maxAppendSize: 1_048_576,
    });
    expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: 'postgresql://db/callpark', EVENTSTORE_POSTGRES_SCHEMA: 'events_eu' }).eventStore).toMatchObject({ kind: 'postgres', schema: 'events_eu' });
    expect(problemsOf({ EVENTSTORE_CONNECTION_STRING: 'postgres://db/callpark', EVENTSTORE_POSTGRES_SCHEMA: 'Events; DROP' })).toEqual([
      { variable: 'EVENTSTORE_POSTGRES_SCHEMA', message: expect.stringContaining('a schema name') },
    ]);
  });

  it('reads tokens in the compact form and in JSON', () => {
    expect(loadConfig({ CALLPARK_TOKENS: 'admin@*=0123456789abcdef0123, signaling@contoso=fedcba9876543210fedc' }).tokens).toEqual([
      { role: 'admin', tenant: '*', token: '0123456789abcdef0123' },
      { role: 'signaling', tenant: 'contoso', token: 'fedcba9876543210fedc' },
    ]);
    expect(loadConfig({ CALLPARK_TOKENS: '[{"token":"0123456789abcdef0123","role":"supervisor","tenant":"contoso"}]' }).tokens).toEqual([
      { token: '0123456789abcdef0123', role: 'supervisor', tenant: 'contoso' },
    ]);
  });

  it.each([
    ['PORT', 'eighty', 'whole number from 0 to 65535'],
    ['PORT', '70000', 'whole number from 0 to 65535'],
    ['EVENTSTORE_CONNECTION_STRING', 'http://eventstore:2113', 'esdb://'],
    ['EVENTSTORE_MAX_APPEND_SIZE', '1000', '65536'],
    ['DATABASE_URL', 'mysql://db/callpark', 'PostgreSQL URL'],
    ['KAFKA_BROKERS', 'kafka', 'host:port'],
    ['SQLITE_SYNCHRONOUS', 'off', 'full, normal'],
    ['LOG_LEVEL', 'loud', 'one of'],
    ['LOG_FORMAT', 'fancy', 'json, pretty'],
    ['CALLPARK_TOKENS', 'root@*=0123456789abcdef0123', 'expected one of signaling'],
    ['CALLPARK_TOKENS', 'admin@*=short', 'at least 16 characters'],
    ['KAFKA_SIGNALING_TOPIC', 'has spaces', 'Kafka topic name'],
  ])('refuses %s=%s, naming the variable and what it expected', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    expect(problems[0]!.message).toContain(expected);
  });

  it('names every wrong variable at once, and never echoes a token', () => {
    const problems = problemsOf({ PORT: '-1', LOG_LEVEL: 'x', CALLPARK_TOKENS: 'admin@*=tooshortsecret' });
    expect(problems.map((problem) => problem.variable)).toEqual(['PORT', 'CALLPARK_TOKENS', 'LOG_LEVEL']);
    expect(JSON.stringify(problems)).not.toContain('tooshortsecret');
  });
});
