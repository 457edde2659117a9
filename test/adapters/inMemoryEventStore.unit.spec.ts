import { DEFAULT_MAX_APPEND_SIZE } from '../../adapters/eventStores/appendSize.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import type { EventStore } from '../../domain/eventStore.js';
import { eventStoreContract } from '../contract/eventStore.contract.js';

/** Another "connection" to an in-memory store: the same log, and closing it leaves the store open. */
const anotherConnectionTo = (store: EventStore): EventStore => ({
  appendToStream: (streamName, events, options) => store.appendToStream(streamName, events, options),
  readStream: (streamName, options) => store.readStream(streamName, options),
  subscribeToAll: (options) => store.subscribeToAll(options),
  headPosition: () => store.headPosition(),
  maxAppendSize: store.maxAppendSize,
  writeSnapshot: (...args) => store.writeSnapshot(...args),
  readSnapshot: (...args) => store.readSnapshot(...args),
  ...(store.findEvent ? { findEvent: store.findEvent } : {}),
  close: async () => {},
});

eventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore(Date.now, { maxAppendSize: DEFAULT_MAX_APPEND_SIZE });
  return {
    store,
    openAnother: async () => anotherConnectionTo(store),
    cleanup: () => store.close(),
  };
});
