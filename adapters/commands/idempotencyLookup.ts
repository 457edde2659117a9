/**
 * The idempotency record (I6) beyond what a handler folded (ADR 0003): a command recorded before
 * the snapshot its tenant was loaded from is found in the store by the id of its first event,
 * which is derived from the stream and the command id (eventIds.ts), so the store's own index of
 * event ids is the record: nothing more is written, and its size does not grow with the ids'.
 * Its outcome is then read back from the stream, where that event is.
 */
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { EventStore } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import { eventIdFor } from '../eventStores/eventIds.js';
import type { Remembered } from './idempotencyWindow.js';
import type { CommandOutcome } from './commandOutcome.js';
import { decodeRecorded, rejectionOf, type LoadedTenant } from './loadedTenant.js';

/** The most events one command records (a rejection's audit record, a park, a policy change…), with room to spare. */
const MAX_EVENTS_OF_A_COMMAND = 64;

/**
 * The commands (not folded by this handler) that the store says were recorded before, by command
 * id: asked only while the tenant's window may miss commands recorded before its snapshot.
 */
export const findMissed = (store: EventStore, tenant: LoadedTenant, commands: readonly CallParkCommand[], notBefore: number): ReadonlyMap<string, Remembered> | Promise<ReadonlyMap<string, Remembered>> => {
  const find = store.findEvent;
  // Nothing to ask (the usual case): answered without a turn of the event loop.
  if (find === undefined || !tenant.window.mayMiss(notBefore)) return NOTHING_MISSED;
  return lookUp(find, tenant, commands, notBefore);
};

const NOTHING_MISSED: ReadonlyMap<string, Remembered> = new Map();

const lookUp = async (
  find: NonNullable<EventStore['findEvent']>,
  tenant: LoadedTenant,
  commands: readonly CallParkCommand[],
  notBefore: number,
): Promise<ReadonlyMap<string, Remembered>> => {
  const found = new Map<string, Remembered>();
  for (const { tenantId, commandId } of commands) {
    if (found.has(commandId) || tenant.window.find(commandId, notBefore) !== undefined) continue;
    const streamName = callParkStream(tenantId);
    const firstRevision = await find(streamName, eventIdFor(streamName, commandId, 0));
    if (firstRevision !== undefined) found.set(commandId, { commandId, firstRevision, count: undefined, events: undefined });
  }
  return found;
};

/** The first outcome of a command seen before, its events read back from the stream when they are not in memory. */
export const rememberedOutcome = async (store: EventStore, tenantId: string, seen: Remembered, attempts: number): Promise<CommandOutcome> => {
  if (seen.events === undefined) {
    const events: CallParkEvent[] = [];
    const maxCount = seen.count ?? MAX_EVENTS_OF_A_COMMAND;
    for await (const recorded of store.readStream(callParkStream(tenantId), { fromRevision: seen.firstRevision, maxCount })) {
      const decoded = decodeRecorded(recorded);
      if (decoded.metadata.commandId !== seen.commandId) {
        if (seen.count === undefined && events.length > 0) break;
        throw new Error(`Event ${recorded.revision} of ${recorded.streamName} is not of command ${seen.commandId}, as its idempotency record says.`);
      }
      events.push(decoded.event);
      seen.position = recorded.position;
      seen.rejection = rejectionOf(decoded) ?? seen.rejection;
    }
    if (events.length === 0 || (seen.count !== undefined && events.length !== seen.count)) {
      throw new Error(`Command ${seen.commandId} recorded ${String(seen.count ?? 'some')} events from revision ${seen.firstRevision}, but ${events.length} were read.`);
    }
    seen.count = events.length;
    seen.events = events;
  }
  const kind = seen.rejection ? 'rejected' : seen.events.length > 0 ? 'accepted' : 'no-op';
  return { kind, events: seen.events, duplicate: true, ...(seen.position ? { position: seen.position } : {}), attempts, ...(seen.rejection ? { rejection: seen.rejection } : {}) };
};
