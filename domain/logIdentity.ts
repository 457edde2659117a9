/**
 * Which log an event store holds: an optional capability of the EventStore port. A store that has
 * it answers an id made once, when its log was created, and kept with the log (SQLite: a row in
 * the file; in memory: made with the store). Two stores answer the same id only when they hold
 * the same log (a copy or a backup of one file included), so a read store that records the id of
 * the log it was built from can tell, at start, that it is being pointed at another one.
 */
import type { EventStore } from './eventStore.js';

export interface IdentifiedLog {
  /** The id of the log this store holds; the same for the whole life of the log. */
  logIdentity(): Promise<string>;
}

const isIdentified = (store: object): store is IdentifiedLog => typeof (store as Partial<IdentifiedLog>).logIdentity === 'function';

/** The id of the log `store` holds, or undefined for a store that cannot tell. */
export const logIdentityOf = (store: EventStore): Promise<string | undefined> => (isIdentified(store) ? store.logIdentity() : Promise.resolve(undefined));
