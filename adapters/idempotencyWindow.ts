/**
 * The idempotency window (I6): the commands a tenant recorded within the last hour of its own
 * time, and where their events are in its stream, so that a repeated command id answers with the
 * first outcome and records nothing new.
 *
 * A busy tenant has thousands of commands in its window, and a cold load must not pay for each
 * of them. So a snapshot keeps the window as one string, a line per command
 * (`\n<command id>\t<at>\t<first revision>\t<count>`) in the order of the command ids, which a
 * lookup bisects as it was read (a dozen lines looked at) instead of decoding it entry by entry;
 * the events, the rejection and the position of a command found there are read back from the
 * stream. A handler that keeps the tenant in memory (so it looks up a second time) turns the
 * lines into a map once. Command ids carry no control characters (CommandId), so neither a tab
 * nor a newline occurs inside one.
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

/** The command's line in `lines` (in command id order), found by bisecting the text. */
const findLine = (lines: string, commandId: string): Remembered | undefined => {
  // `low` and `high` are where lines start (at their newline); the line sought is between them.
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const start = lines.lastIndexOf(LINE, (low + high) >>> 1);
    const tab = lines.indexOf(FIELD, start);
    const end = lines.indexOf(LINE, tab);
    const id = lines.slice(start + 1, tab);
    if (id === commandId) return entryOf(commandId, lines.slice(tab + 1, end < 0 ? undefined : end));
    if (id < commandId) low = end < 0 ? lines.length : end;
    else high = start;
  }
  return undefined;
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
  /** Command id → what it recorded. */
  private readonly entries = new Map<string, Remembered>();
  /** The same entries in the order of their first revision, from `oldest` on: a snapshot takes only the newest ones. */
  private order: Remembered[] = [];
  private oldest = 0;
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
      this.order.push(entry);
    }
    entry.events?.push(event);
    entry.count++;
    entry.position = position;
    if (rejection !== undefined) entry.rejection = rejection;
  }

  /** Forget commands that fell out of the window, oldest first (stored lines are checked when found, and go when indexed). */
  forget(notBefore: number): void {
    while (this.oldest < this.order.length && this.order[this.oldest]!.at < notBefore) this.entries.delete(this.order[this.oldest++]!.commandId);
    if (this.oldest > 1024 && this.oldest > this.order.length / 2) {
      this.order = this.order.slice(this.oldest);
      this.oldest = 0;
    }
  }

  /** The window's lines for the commands first recorded after revision `after` (-1: all of them), in command id order. */
  lines(after: number, notBefore: number): string {
    const kept = new Map<string, Remembered>();
    const add = (entry: Remembered): void => {
      if (entry.firstRevision <= after || entry.at < notBefore) return;
      if (!storable(entry.commandId)) throw new Error(`Command id ${JSON.stringify(entry.commandId)} has a control character: it cannot be kept in a snapshot.`);
      kept.set(entry.commandId, entry);
    };
    for (const { through, lines } of this.stored) if (through > after) entriesOf(lines).forEach(add);
    let low = this.oldest;
    let high = this.order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.order[middle]!.firstRevision <= after) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < this.order.length; i++) add(this.order[i]!);
    // Ordered as `<` orders strings, as findLine compares them.
    const ids = [...kept.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return ids.map((id) => lineOf(kept.get(id)!)).join('');
  }

  /** Turn the stored lines into entries of the map, once: this window is being kept. */
  private index(notBefore: number): void {
    const folded = this.order.slice(this.oldest);
    this.entries.clear();
    // Oldest first again (stored lines are in command id order), so that forget can stop at the first one it keeps.
    const stored = this.stored.flatMap(({ lines }) => entriesOf(lines)).sort((a, b) => a.firstRevision - b.firstRevision);
    for (const entry of stored) if (entry.at >= notBefore && !this.entries.has(entry.commandId)) this.entries.set(entry.commandId, entry);
    for (const entry of folded) this.entries.set(entry.commandId, entry);
    this.order = [...this.entries.values()];
    this.oldest = 0;
    this.stored = [];
  }
}
