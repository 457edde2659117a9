import { InMemoryEventStore } from '../../adapters/inMemoryEventStore.js';
import type { EventStore } from '../../domain/eventStore.js';
import { eventStoreContract } from '../contract/eventStore.contract.js';

/** Another "connection" to an in-memory store: the same log, and closing it leaves the store open. */
const anotherConnectionTo = (store: EventStore): EventStore => ({
  appendToStream: (streamName, events, options) => store.appendToStream(streamName, events, options),
  readStream: (streamName, options) => store.readStream(streamName, options),
  subscribeToAll: (options) => store.subscribeToAll(options),
  headPosition: () => store.headPosition(),
  close: async () => {},
});

eventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return {
    store,
    openAnother: async () => anotherConnectionTo(store),
    cleanup: () => store.close(),
  };
});
