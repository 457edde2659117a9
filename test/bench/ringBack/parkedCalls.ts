/**
 * The ring-back benchmark's log: each tenant's policy and parked calls, decided by the call
 * park decider exactly as the command handler would decide them, and appended a few hundred
 * events at a time so that setting up 100,000 parks takes seconds rather than a minute. The
 * events, their ids and their metadata are the ones the handler would have written.
 */
import * as E from 'fp-ts/lib/Either.js';
import { eventIdFor } from '../../../adapters/eventStores/eventIds.js';
import { callParkStream, decide } from '../../../domain/callPark.js';
import { evolve, initialState } from '../../../domain/callParkState.js';
import type { CallParkCommand } from '../../../domain/commands.js';
import type { EventData, EventStore } from '../../../domain/eventStore.js';
import { toStoredForm } from '../../../domain/storedForm/storedEvent.js';

const APPEND_BATCH = 250;

/** Decide `commands` (all of one tenant) in order and append what they record. */
export const recordDirectly = async (store: EventStore, tenantId: string, commands: readonly CallParkCommand[]): Promise<void> => {
  const stream = callParkStream(tenantId);
  let state = initialState();
  let pending: EventData[] = [];
  let revision: number | 'no_stream' = 'no_stream';
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    revision = (await store.appendToStream(stream, pending, { expectedRevision: revision })).nextExpectedRevision;
    pending = [];
  };
  for (const command of commands) {
    const decision = decide(command, state);
    if (E.isLeft(decision)) throw new Error(`${command.commandId} was refused: ${decision.left.reason}`);
    decision.right.forEach((event, index) => {
      state = evolve(state, event);
      pending.push({ id: eventIdFor(stream, command.commandId, index), ...toStoredForm(event, { commandId: command.commandId }) });
    });
    if (pending.length >= APPEND_BATCH) await flush();
  }
  await flush();
};
