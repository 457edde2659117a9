/**
 * A tenant as the command handler holds it: its state folded to a revision, the time of its
 * latest event, the commands of its idempotency window, and how it is folded on and caught up.
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStream } from '../../domain/callPark.js';
import { evolve, initialState, type CallParkState } from '../../domain/callParkState.js';
import type { EventStore, Position, RecordedEvent } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import { sentenceFor } from '../../domain/rejection.js';
import { fromStoredForm, type DecodedEvent, type EventMetadata } from '../../domain/storedForm/storedEvent.js';
import { IdempotencyWindow } from './idempotencyWindow.js';
import type { Rejection } from './commandOutcome.js';

export interface LoadedTenant {
  state: CallParkState;
  /** The revision of the last event folded in; undefined for an empty stream. */
  revision: number | undefined;
  /** The commands recorded within the idempotency window. */
  readonly window: IdempotencyWindow;
  latestAt: number;
  /** The revision of the newest snapshot read or written (-1: none), counted from by the next one. */
  snapshotRevision: number;
}

/** What the handler writes into every event's metadata: the command that recorded it. */
export type CommandMetadata = Omit<EventMetadata, 'schemaVersion'>;

export const emptyTenant = (): LoadedTenant => ({
  state: initialState(),
  revision: undefined,
  window: new IdempotencyWindow(),
  latestAt: Number.NEGATIVE_INFINITY,
  snapshotRevision: -1,
});

export const rejectionOf = ({ event, metadata }: { readonly event: CallParkEvent; readonly metadata: CommandMetadata }): Rejection | undefined =>
  event.type === 'ParkRejected' || event.type === 'RetrievalRejected' ? { reason: event.reason, message: metadata.rejectionMessage ?? sentenceFor(event.reason) } : undefined;

export const decodeRecorded = (recorded: RecordedEvent): DecodedEvent => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  if (E.isLeft(decoded)) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
  return decoded.right;
};

/** Fold one event into the tenant, and into its window (forgetting what the window left behind). */
export const fold = (tenant: LoadedTenant, windowMillis: number, event: CallParkEvent, metadata: CommandMetadata, revision: number, position: Position): void => {
  tenant.state = evolve(tenant.state, event);
  tenant.revision = revision;
  tenant.latestAt = Math.max(tenant.latestAt, event.at);
  tenant.window.record(metadata.commandId, event, revision, position, rejectionOf({ event, metadata }));
  tenant.window.forget(tenant.latestAt - windowMillis);
};

/** Fold in what was appended (by this process or another) since `tenant.revision`. */
export const catchUp = async (store: EventStore, tenantId: string, tenant: LoadedTenant, windowMillis: number): Promise<void> => {
  const fromRevision = tenant.revision === undefined ? 0 : tenant.revision + 1;
  for await (const recorded of store.readStream(callParkStream(tenantId), { fromRevision })) {
    const { event, metadata } = decodeRecorded(recorded);
    fold(tenant, windowMillis, event, metadata, recorded.revision, recorded.position);
  }
};
