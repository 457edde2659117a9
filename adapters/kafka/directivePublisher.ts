/**
 * Directives out: a checkpointed subscription to the event log that publishes, for each stored
 * call park event, the directives it calls for (domain/directives.ts) on the directives topic.
 *
 * It is a supervised publisher (supervisedPublisher.ts) with no tables of its own: a directive is
 * published only for a stored event, never lost, possibly twice, each carrying its deterministic
 * `directiveId` (event id + index).
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStreamPrefix } from '../../domain/callPark.js';
import type { RecordedEvent } from '../../domain/eventStore.js';
import { fromStoredForm } from '../../domain/storedForm/storedEvent.js';
import type { Metrics } from '../observability/metrics.js';
import { directiveHeader, directiveRecords } from './directiveRecord.js';
import { kafkaMetricsOf } from './kafkaMetrics.js';
import { SupervisedPublisher, type PublisherOptions } from './supervisedPublisher.js';

export interface DirectivePublisherOptions extends PublisherOptions {
  readonly metrics?: Metrics;
}

/** The checkpoint's name: one per directives topic. */
export const directivePublisherName = (topic: string): string => `kafka-directives:${topic}`;

const decodeRecorded = (recorded: RecordedEvent) => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  // Never skip an event: publishing stops here until the event can be read (a newer schema needs a newer service).
  if (E.isLeft(decoded)) throw new Error(`Event ${recorded.id} (${recorded.streamName}@${recorded.revision}) cannot be read: ${decoded.left.message}`);
  return decoded.right;
};

export class DirectivePublisher extends SupervisedPublisher {
  constructor(options: DirectivePublisherOptions) {
    const kafkaMetrics = kafkaMetricsOf(options.metrics);
    super(options, {
      label: 'directive publisher',
      name: directivePublisherName(options.topic),
      version: 1,
      tables: [],
      migrations: () => [],
      filter: { streamNamePrefixes: [callParkStreamPrefix] },
      records: (events) => events.flatMap((recorded) => directiveRecords(recorded.id, decodeRecorded(recorded))),
      ...(kafkaMetrics ? { onPublished: (messages) => messages.forEach((message) => kafkaMetrics.directives.inc({ type: String(message.headers?.[directiveHeader.directiveType]) })) } : {}),
    });
  }
}
