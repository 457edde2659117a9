/**
 * The identity of the log in an EventStoreDB database (domain/logIdentity.ts): a random id in the
 * metadata of the well-known stream `callpark-log`, written once, with the expected revision of a
 * stream that does not exist yet, so two processes asking at once agree on the first one written.
 * Metadata is a system event (`$metadata` in `$$callpark-log`): no subscription or head of the
 * log sees it.
 */
import { randomUUID } from 'node:crypto';
import esdb from '@eventstore/db-client';
import type { EventStoreDBClient } from '@eventstore/db-client';

const { NO_STREAM, WrongExpectedVersionError } = esdb;

export const LOG_IDENTITY_STREAM = 'callpark-log';

type LogMetadata = { readonly callparkLogId?: unknown };

export const readOrCreateEsdbLogIdentity = async (client: EventStoreDBClient): Promise<string> => {
  const read = async (): Promise<string | undefined> => {
    const { metadata } = await client.getStreamMetadata<LogMetadata>(LOG_IDENTITY_STREAM);
    return typeof metadata?.callparkLogId === 'string' ? metadata.callparkLogId : undefined;
  };
  const known = await read();
  if (known !== undefined) return known;
  try {
    await client.setStreamMetadata<LogMetadata>(LOG_IDENTITY_STREAM, { callparkLogId: randomUUID() }, { expectedRevision: NO_STREAM });
  } catch (error) {
    // Another process wrote it first: its id is the log's.
    if (!(error instanceof WrongExpectedVersionError)) throw error;
  }
  const written = await read();
  if (written === undefined) throw new Error(`EventStoreDB kept no log identity in the metadata of ${LOG_IDENTITY_STREAM}.`);
  return written;
};
