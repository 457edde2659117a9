/** Deterministic event ids: the same command writes the same ids, so a retried append is a duplicate the store drops. */
import { createHash } from 'node:crypto';

/** The namespace of callpark's name-based UUIDs (RFC 9562, version 5). */
const NAMESPACE = Buffer.from('6f1c2a52-3f0e-4b8f-9a55-0c1d6a1e7c11'.replace(/-/g, ''), 'hex');

export const uuidV5 = (name: string): string => {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** The id of the `index`th event a command records in a stream. */
export const eventIdFor = (streamName: string, commandId: string, index: number): string => uuidV5(`${streamName}\u0000${commandId}\u0000${index}`);
