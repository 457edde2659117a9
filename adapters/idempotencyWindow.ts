/**
 * The idempotency window (I6): the commands a tenant recorded within the last hour of its own
 * time, and where their events are in its stream, so that a repeated command id answers with the
 * first outcome and records nothing new.
 *
 * A busy tenant has thousands of commands in its window, and a cold load must not pay for each
 * of them. So a snapshot keeps the window as one string, a line per command
 * (`\n<command id>\t<at>\t<first revision>\t<count>`), which a lookup searches as it was read
 * instead of decoding it entry by entry; the events, the rejection and the position of a command
 * found there are read back from the stream. A handler that keeps the tenant in memory (so it
 * looks up a second time) turns the lines into a map once. Command ids carry no control
 * characters (CommandId), so neither a tab nor a newline occurs inside one.
 */
import type { Position } from '../domain/eventStore.js';
import type { CallParkEvent } from '../domain/events.js';
import type { RejectionReason } from '../domain/rejection.js';

export type Rejection = { readonly reason: RejectionReason; readonly message: string };

/** What a command recorded. The events, rejection and position are known once read (or folded here). */
export interface Remembered {
  readonly commandId: string;
  /** When its first event happened, in the tenant's time. */
  readonly at: number;
  readonly firstRevision: number;
  count: number;
  events: CallParkEvent[] | undefined;
  rejection?: Rejection;
  position?: Position;
}

/** Stored lines of a window: the commands first recorded after revision `after`, up to revision `through`. */
export interface StoredLines {
  readonly after: number;
  readonly through: number;
  readonly lines: string;
}

const FIELD = '\t';
const LINE = '\n';

const storable = (commandId: string): boolean => !commandId.includes(LINE) && !commandId.includes(FIELD);

const lineOf = ({ commandId, at, firstRevision, count }: Remembered): string => `${LINE}${commandId}${FIELD}${at}${FIELD}${firstRevision}${FIELD}${count}`;

const entryOf = (commandId: string, fields: string): Remembered => {
  const [at, firstRevision, count] = fields.split(FIELD).map(Number) as [number, number, number];
  if (!Number.isFinite(at) || !Number.isInteger(firstRevision) || !Number.isInteger(count)) {
    throw new Error(`A snapshot's idempotency window has a malformed line for command ${commandId}.`);
  }
  return { commandId, at, firstRevision, count, events: undefined };
};

/** The command's line in `lines`, found by searching the text. */
const findLine = (lines: string, commandId: string): Remembered | undefined => {
  const key = `${LINE}${commandId}${FIELD}`;
  const start = lines.indexOf(key);
  if (start < 0) return undefined;
  const end = lines.indexOf(LINE, start + key.length);
  return entryOf(commandId, lines.slice(start + key.length, end < 0 ? undefined : end));
};

const entriesOf = (lines: string): Remembered[] =>
  lines
    .split(LINE)
    .filter((line) => line.length > 0)
    .map((line) => {
      const tab = line.indexOf(FIELD);
      return entryOf(line.slice(0, tab), line.slice(tab + 1));
    });

export class IdempotencyWindow {
  /** Command id → what it recorded, oldest first. */
  private readonly entries = new Map<string, Remembered>();
  private lookups = 0;

  constructor(private stored: StoredLines[] = []) {}

  /** What `commandId` recorded, if it did so at or after `notBefore`. */
  find(commandId: string, notBefore: number): Remembered | undefined {
    if (this.stored.length > 0 && ++this.lookups > 1) this.index(notBefore);
    const entry = this.entries.get(commandId);
    if (entry !== undefined) return entry.at >= notBefore ? entry : undefined;
    if (!storable(commandId)) return undefined;
    for (const { lines } of this.stored) {
      const found = findLine(lines, commandId);
      if (found !== undefined && found.at >= notBefore) return found;
    }
    return undefined;
  }

  /** Note that the command recorded an event at `revision`; the first event of a command starts its entry. */
  record(commandId: string, event: CallParkEvent, revision: number, position: Position, rejection: Rejection | undefined): void {
    let entry = this.entries.get(commandId);
    if (entry === undefined) {
      entry = { commandId, at: event.at, firstRevision: revision, count: 0, events: [] };
      this.entries.set(commandId, entry);
    }
    entry.events?.push(event);
    entry.count++;
    entry.position = position;
    if (rejection !== undefined) entry.rejection = rejection;
  }

  /** Forget commands that fell out of the window, oldest first. */
  forget(notBefore: number): void {
    for (const [commandId, entry] of this.entries) {
      if (entry.at >= notBefore) break;
      this.entries.delete(commandId);
    }
    this.stored = this.stored.filter(({ lines }) => {
      const last = lines.lastIndexOf(LINE);
      return last >= 0 && entriesOf(lines.slice(last))[0]!.at >= notBefore;
    });
  }

  /** The window's lines for the commands first recorded after revision `after` (-1: all of them). */
  lines(after: number, notBefore: number): string {
    const seen = new Set<string>();
    let text = '';
    const add = (entry: Remembered): void => {
      if (entry.firstRevision <= after || entry.at < notBefore || seen.has(entry.commandId)) return;
      if (!storable(entry.commandId)) throw new Error(`Command id ${JSON.stringify(entry.commandId)} has a control character: it cannot be kept in a snapshot.`);
      seen.add(entry.commandId);
      text += lineOf(entry);
    };
    for (const { through, lines } of this.stored) if (through > after) entriesOf(lines).forEach(add);
    this.entries.forEach(add);
    return text;
  }

  /** Turn the stored lines into entries of the map, once: this window is being kept. */
  private index(notBefore: number): void {
    const folded = [...this.entries.values()];
    this.entries.clear();
    for (const { lines } of this.stored) {
      for (const entry of entriesOf(lines)) if (entry.at >= notBefore && !this.entries.has(entry.commandId)) this.entries.set(entry.commandId, entry);
    }
    for (const entry of folded) this.entries.set(entry.commandId, entry);
    this.stored = [];
  }
}
