/**
 * The server-side `$all` filter of a Read request: on the stream name or on the event type, by
 * prefixes or by a regular expression (EventStoreDB matches .NET regular expressions anywhere in
 * the name; JavaScript's do the same for the patterns clients send). Filtered subscriptions also
 * send a checkpoint every `checkpointIntervalMultiplier × search window` events considered.
 */
import type { ReadReq } from './generatedProtocol.js';
import type { StoredEvent } from './transactionLog.js';

export interface EventFilter {
  readonly matches: (event: StoredEvent) => boolean;
  /** How many events are considered between two checkpoints. */
  readonly checkpointInterval: number;
}

/** EventStoreDB's read batch size, the search window when the client asks for `count`. */
const DEFAULT_SEARCH_WINDOW = 32;

export const eventFilterOf = (options: InstanceType<typeof ReadReq.Options>): EventFilter | undefined => {
  const filter = options.getFilter();
  if (!options.hasFilter() || filter === undefined) return undefined;
  const onStreamName = filter.hasStreamIdentifier();
  const expression = onStreamName ? filter.getStreamIdentifier() : filter.getEventType();
  const field = (event: StoredEvent): string => (onStreamName ? event.streamName : event.type);
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  const matches =
    prefixes.length > 0
      ? (event: StoredEvent) => prefixes.some((prefix) => field(event).startsWith(prefix))
      : regex
        ? (event: StoredEvent) => regex.test(field(event))
        : () => true;
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_SEARCH_WINDOW;
  return { matches, checkpointInterval: Math.max(1, filter.getCheckpointintervalmultiplier()) * window };
};
