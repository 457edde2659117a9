/** TLS, SASL and topic settings from the environment; directive records as the media tier reads them. */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../adapters/config/config.js';
import { DirectiveMessage, directiveHeader, directiveRecords } from '../../adapters/kafka/directiveRecord.js';
import { kafkaSettingsFromEnv } from '../../adapters/kafka/kafkaEnvironment.js';
import { decode } from '../../domain/codec/codec.js';
import { TENANT, alice, at, bob, parkedEvent } from '../support/callParkFixtures.js';

describe('Kafka settings from the environment', () => {
  it('asks for nothing by default: plaintext, no SASL, the default topic layout', () => {
    expect(kafkaSettingsFromEnv({})).toEqual({ security: {}, topics: {}, consumer: {} });
  });

  it('reads TLS with a CA and a client certificate, SASL/SCRAM and the topic layout', () => {
    const settings = kafkaSettingsFromEnv({
      KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
      KAFKA_SSL_CERT_FILE: '/etc/kafka/client.pem',
      KAFKA_SSL_KEY_FILE: '/etc/kafka/client.key',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'callpark',
      KAFKA_SASL_PASSWORD: 'not-a-real-secret',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_SIGNALING_PARTITIONS: '12',
      KAFKA_DEAD_LETTER_MAX_BYTES: '500000',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    expect(settings).toEqual({
      security: {
        ssl: { caFile: '/etc/kafka/ca.pem', certFile: '/etc/kafka/client.pem', keyFile: '/etc/kafka/client.key', rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'callpark', password: 'not-a-real-secret' },
      },
      topics: { replicationFactor: 3, signalingPartitions: 12 },
      // Heartbeats a tenth of the session timeout apart.
      consumer: { deadLetterMaxBytes: 500_000, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 600 },
    });
  });

  it('names each wrong variable, and never echoes the password', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        kafkaSettingsFromEnv(env);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as ConfigurationError).problems.map((problem) => problem.variable);
      }
    };
    expect(problems({ KAFKA_SSL: 'maybe', KAFKA_REPLICATION_FACTOR: '0' })).toEqual(['KAFKA_SSL', 'KAFKA_REPLICATION_FACTOR']);
    expect(problems({ KAFKA_SSL_CERT_FILE: '/etc/kafka/client.pem' })).toEqual(['KAFKA_SSL_KEY_FILE']);
    // Too small to carry the capped headers and a prefix of the value.
    expect(problems({ KAFKA_DEAD_LETTER_MAX_BYTES: '1000' })).toEqual(['KAFKA_DEAD_LETTER_MAX_BYTES']);
    expect(problems({ KAFKA_DEAD_LETTER_MAX_BYTES: '1MB' })).toEqual(['KAFKA_DEAD_LETTER_MAX_BYTES']);
    // Under the broker's group.min.session.timeout.ms, the group would refuse the consumer.
    expect(problems({ KAFKA_SESSION_TIMEOUT_MS: '1000' })).toEqual(['KAFKA_SESSION_TIMEOUT_MS']);
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'callpark' })).toEqual(['KAFKA_SASL_PASSWORD']);
    expect(problems({ KAFKA_SASL_USERNAME: 'callpark', KAFKA_SASL_PASSWORD: 'hunter2-hunter2' })).toEqual(['KAFKA_SASL_MECHANISM']);
    try {
      kafkaSettingsFromEnv({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'callpark', KAFKA_SASL_PASSWORD: 'hunter2-hunter2' });
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});

describe('directive records', () => {
  it('carry, keyed by Call-ID, the event they came from and a directive id made of its id and index', () => {
    const parked = parkedEvent();
    const retrieved = { type: 'Retrieved' as const, tenantId: TENANT, policy: 'Global', sessionId: 'session-1', callId: 'call-1', orbit: 10, orbitCode: '10', parker: alice, at: at(20), retriever: bob, via: 'orbit' as const, parkedAt: parked.at };
    const records = directiveRecords('6f0c8a9e-0000-5000-8000-000000000001', { event: retrieved, metadata: { commandId: 'evt-1002', schemaVersion: 1 } });
    expect(records.map((record) => record.key)).toEqual(['call-1', 'call-1']);
    const values = records.map((record) => decode(DirectiveMessage, JSON.parse(String(record.value))));
    expect(values.map((value) => E.isRight(value) && value.right.directive.type)).toEqual(['connect-caller', 'release-orbit']);
    expect(values.map((value) => E.isRight(value) && value.right.directiveId)).toEqual(['6f0c8a9e-0000-5000-8000-000000000001:0', '6f0c8a9e-0000-5000-8000-000000000001:1']);
    expect(records[0]!.headers).toMatchObject({
      [directiveHeader.directiveId]: '6f0c8a9e-0000-5000-8000-000000000001:0',
      [directiveHeader.eventType]: 'Retrieved',
      [directiveHeader.commandId]: 'evt-1002',
      [directiveHeader.tenantId]: TENANT,
    });
    expect(JSON.parse(String(records[0]!.value)).directive.at).toBe(new Date(at(20)).toISOString());
  });
});
