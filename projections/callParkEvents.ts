/**
 * The events the read side projects: those of the tenants' call park streams
 * (`callpark-tenant-{id}`), decoded from their stored form. A stored event that does not decode
 * fails the batch, naming the stream and revision: a projection never skips what it cannot read,
 * it stops and says so (the runner retries, then reports it failed).
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStreamPrefix } from '../domain/callPark.js';
import type { RecordedEvent, SubscriptionFilter } from '../domain/eventStore.js';
import type { CallParkEvent, EventType } from '../domain/events.js';
import { fromStoredForm, type EventMetadata } from '../domain/storedForm/storedEvent.js';

/** The tenants' call park events of these types only: the runner skips the others without reading them. */
export const callParkEventsOf = (types: readonly EventType[]): SubscriptionFilter => ({ streamNamePrefixes: [callParkStreamPrefix], eventTypePrefixes: types });

export const sessionEventTypes: readonly EventType[] = ['Parked', 'RingBackStarted', 'RingBackUnanswered', 'Retrieved', 'Expired', 'Abandoned'];
export const refusalEventTypes: readonly EventType[] = ['ParkRejected', 'RetrievalRejected'];
export const policyEventTypes: readonly EventType[] = ['PolicyCreated', 'PolicySettingsChanged', 'PolicyRemoved'];

export interface ProjectedEvent {
  readonly event: CallParkEvent;
  readonly metadata: EventMetadata;
  /** The event's revision in its tenant's stream: unique per tenant, in the order of record. */
  readonly revision: number;
}

export class UnreadableEvent extends Error {
  override readonly name = 'UnreadableEvent';
}

export const decodeEvent = (recorded: RecordedEvent): ProjectedEvent => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  if (E.isLeft(decoded)) throw new UnreadableEvent(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
  return { event: decoded.right.event, metadata: decoded.right.metadata, revision: recorded.revision };
};

/** The call park events of a batch, in log order; events of other streams are left out. */
export const decodeEvents = (events: readonly RecordedEvent[]): ProjectedEvent[] => {
  const decoded: ProjectedEvent[] = [];
  for (const recorded of events) if (recorded.streamName.startsWith(callParkStreamPrefix)) decoded.push(decodeEvent(recorded));
  return decoded;
};

const HOUR = 3_600_000;

/** The start of the UTC hour an instant falls in, in milliseconds since the epoch. */
export const hourOf = (at: number): number => Math.floor(at / HOUR) * HOUR;

/** An hour as people read it in a report: `2026-11-22T09:00Z`. */
export const hourLabel = (hourStart: number): string => `${new Date(hourStart).toISOString().slice(0, 13)}:00Z`;
