/**
 * An append carries an event id that the store already holds somewhere else: in another stream,
 * at another revision of the same stream, or twice in the append itself.
 *
 * Event ids are unique across the whole SQLite store. A retry of an append that succeeded finds
 * its ids at the same place (the same stream, consecutive revisions, in the same order) and is
 * answered as the first append was. Anything else is not a retry but a mistake (an id reused for
 * a different event, or a retry sent to another stream); writing the event again would give one
 * id two meanings, and answering with the other event's place would hide the mistake, so the
 * append is refused, and nothing of it is written.
 */
export class EventIdConflict extends Error {
  override readonly name = 'EventIdConflict';
  constructor(
    readonly eventId: string,
    /** The stream the refused append was for. */
    readonly streamName: string,
    /** Where the id is already stored, when it is (absent when the append itself repeats it). */
    readonly storedAt?: { readonly streamName: string; readonly revision: number },
  ) {
    super(
      storedAt === undefined
        ? `Stream ${streamName}: the append holds event ${eventId} more than once.`
        : `Stream ${streamName}: event ${eventId} is already stored as revision ${storedAt.revision} of stream ${storedAt.streamName}, and this append is not a retry of that one.`,
    );
  }
}
