/**
 * Reading signaling records and dead-lettering the ones that cannot be read, without a broker:
 * each reason, the path it names, and a dead letter's headers read back.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { deadLetterHeader, deadLetterMessage, readDeadLetter } from '../../adapters/kafka/deadLetter.js';
import { decodeSignaling, type Undecodable } from '../../adapters/kafka/signalingDecoding.js';

const park = {
  type: 'park.requested',
  eventId: 'evt-1001',
  occurredAt: '2026-11-22T09:30:00.000Z',
  tenantId: 'contoso',
  callId: 'a84b4c76e66710',
  parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' },
  media: 'audio',
};

const failureOf = (value: Buffer | null): Undecodable => {
  const decoded = decodeSignaling(value);
  if (E.isRight(decoded)) throw new Error('expected the record not to decode');
  return decoded.left;
};

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('reading a signaling record', () => {
  it('reads a park request as the message the codecs define', () => {
    expect(decodeSignaling(json(park))).toEqual(E.right({ ...park, occurredAt: Date.parse(park.occurredAt) }));
  });

  it.each([
    ['no value at all', null, 'empty', '$'],
    ['an empty value', Buffer.alloc(0), 'empty', '$'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid-json', '$'],
    ['text that is not JSON', Buffer.from('{"type": "park.requested",'), 'invalid-json', '$'],
    ['JSON that is not an object', json([park]), 'invalid-message', '$'],
    ['no type', json({ ...park, type: undefined }), 'unknown-type', '$.type'],
    ['a type nobody sends', json({ ...park, type: 'call.transferred' }), 'unknown-type', '$.type'],
    ['an endpoint that does not exist', json({ ...park, parker: { ...park.parker, endpoint: 'fax-machine' } }), 'invalid-message', '$.parker.endpoint'],
    ['an instant without its offset', json({ ...park, occurredAt: '2026-11-22 09:30' }), 'invalid-message', '$.occurredAt'],
    ['a field nobody knows', json({ ...park, priority: 'high' }), 'invalid-message', '$.priority'],
    ['a SIP status the media tier does not send for a ring back', json({ ...park, type: 'ringback.failed', parker: undefined, media: undefined, sipStatus: 500 }), 'invalid-message', '$.sipStatus'],
  ])('refuses %s (%s at %s)', (_, value, reason, path) => {
    const failure = failureOf(value as Buffer | null);
    expect(failure.reason).toBe(reason);
    expect(failure.issues.map((issue) => issue.path)).toContain(path);
  });

  it('reads a message whose text starts with a byte order mark', () => {
    const decoded = decodeSignaling(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(park)]));
    expect(decoded).toEqual(E.right(expect.objectContaining({ type: 'park.requested', eventId: park.eventId })));
  });

  it('names every wrong field of a message, each once', () => {
    const failure = failureOf(json({ ...park, media: 'fax', parker: { userId: '', endpoint: 'teams-desktop' } }));
    expect(failure.issues.map((issue) => issue.path).sort()).toEqual(['$.media', '$.parker.userId']);
  });
});

describe('a dead letter', () => {
  const source = {
    topic: 'callpark.signaling',
    partition: 4,
    message: { key: Buffer.from('a84b4c76e66710'), value: Buffer.from('{"type":'), headers: { 'trace-id': Buffer.from('b7ad6b71') }, offset: '1207', timestamp: '1795338600000' },
  };
  const failure = failureOf(source.message.value);

  it('keeps the key, the bytes and the headers, and says why and from where', () => {
    const record = deadLetterMessage(source, failure, { groupId: 'callpark', at: Date.parse('2026-11-22T09:30:01.000Z') });
    expect(record.key).toBe(source.message.key);
    expect(record.value).toBe(source.message.value);
    expect(readDeadLetter(record.headers)).toEqual({
      reason: 'invalid-json',
      error: failure.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
      issues: failure.issues,
      issueCount: failure.issues.length,
      source: { topic: 'callpark.signaling', partition: 4, offset: '1207', timestamp: '1795338600000' },
      consumerGroup: 'callpark',
      at: '2026-11-22T09:30:01.000Z',
      originalHeaders: { 'trace-id': 'b7ad6b71' },
    });
  });

  it('describes only its latest failure when a replayed dead letter fails again', () => {
    const first = deadLetterMessage(source, failure, { groupId: 'callpark', at: 0 });
    const replayed = { ...source, topic: 'callpark.signaling.replay', message: { ...source.message, headers: first.headers!, offset: '9' } };
    const second = deadLetterMessage(replayed, failure, { groupId: 'callpark', at: 1 });
    const letter = readDeadLetter(second.headers)!;
    expect(letter.source).toMatchObject({ topic: 'callpark.signaling.replay', offset: '9' });
    expect(letter.originalHeaders).toEqual({ 'trace-id': 'b7ad6b71' });
    expect(Object.keys(second.headers!).filter((name) => name === deadLetterHeader.reason)).toHaveLength(1);
  });
});
