/**
 * A read store knows which log it follows: each checkpoint records the identity of the log its
 * tables were built from (domain/logIdentity.ts) besides its position in it. A runner checks both
 * before it follows the log, and refuses to start (ForeignReadStore) when
 * - the checkpoint follows another log: the service was started on a new or another event store
 *   with the read store of the old one (a new data folder, a restored backup of another store);
 * - the checkpoint is past the end of the log: the event store is older than the read store (a
 *   restored backup of the same store), or another log without an identity.
 * Trusting such a checkpoint would skip the log's events up to it, silently: parks missing from
 * the occupancy and the audit, ring backs never timed (I7), and `/readyz` saying all is well. The
 * refusal says what to do: rebuild the read store from this log (`npx callpark projections
 * rebuild`), or point the service at the read store that follows this log.
 *
 * A checkpoint that does not name its log (written before checkpoints recorded it) and is not
 * past the end is taken to follow this log, and is marked as following it from then on.
 */
import { comparePositions, type EventStore, type Position } from '../domain/eventStore.js';
import { logIdentityOf } from '../domain/logIdentity.js';
import { adoptLog, readCheckpoint } from './checkpoints.js';
import type { ReadStore } from './readStore.js';

export class ForeignReadStore extends Error {
  override readonly name = 'ForeignReadStore';
}

const positionText = (position: Position | undefined): string => (position === undefined ? 'its start' : `position ${position.commit}`);

const pointElsewhere = 'or point DATABASE_URL (or DATABASE_SCHEMA) at the read store that was built from this log.';

/** What to do: rebuild a projection's tables; for one without tables (the directive publisher), start its checkpoint again. */
const whatToDo = (projection: string, build: string, hasTables: boolean): string =>
  hasTables
    ? `Rebuild the read store from this event log (\`npx callpark projections rebuild ${projection}\`, or \`npx callpark projections rebuild\` for every projection, ` +
      `with the same CALLPARK_DATA_DIR or EVENTSTORE_CONNECTION_STRING and DATABASE_URL as the service), ${pointElsewhere}`
    : `It keeps no tables, only its checkpoint: delete it (\`DELETE FROM projection_checkpoints WHERE name = '${build}'\` in the read store) ` +
      `to start again from the start of this log, ${pointElsewhere}`;

/** The identity of the log `eventStore` holds, to record in a new checkpoint. */
export const followedLog = (eventStore: EventStore): Promise<string | undefined> => logIdentityOf(eventStore);

/**
 * Check that the checkpoint of `build` follows the log of `eventStore` and is not past its end;
 * throws ForeignReadStore, naming what to do, when it does not.
 */
export const checkLogFollowed = async (
  { eventStore, readStore }: { readonly eventStore: EventStore; readonly readStore: ReadStore },
  { projection, build, hasTables, logId }: { readonly projection: string; readonly build: string; readonly hasTables: boolean; readonly logId: string | undefined },
): Promise<void> => {
  const checkpoint = await readCheckpoint(readStore, build);
  if (checkpoint === undefined) return;
  if (logId !== undefined && checkpoint.logId !== undefined && checkpoint.logId !== logId) {
    throw new ForeignReadStore(
      `The read store's ${build} tables follow another event log (log ${checkpoint.logId}, up to ${positionText(checkpoint.position)}); ` +
        `this event store holds log ${logId}. They are not this log's and will not be trusted. ${whatToDo(projection, build, hasTables)}`,
    );
  }
  // Read after the checkpoint: the head only moves on.
  const head = await eventStore.headPosition();
  if (checkpoint.position !== undefined && (head === undefined || comparePositions(checkpoint.position, head) > 0)) {
    throw new ForeignReadStore(
      `The read store's ${build} checkpoint is at ${positionText(checkpoint.position)}, past the end of the event log (${head === undefined ? 'empty' : `which ends at position ${head.commit}`}): ` +
        `the event store is older than the read store (a restored backup?) or another log. ${whatToDo(projection, build, hasTables)}`,
    );
  }
  if (logId !== undefined && checkpoint.logId === undefined) await adoptLog(readStore, build, logId);
};
