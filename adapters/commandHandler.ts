/**
 * The application command handler: the one way in. HTTP, Kafka and the ring-back scheduler all
 * send their commands here. For each command it loads the tenant's call park (a snapshot and the
 * events after it), decides, and appends the events with the revision it decided on. Another
 * process that wrote first makes the append fail; the handler then reads what it missed and
 * decides again, a bounded number of times, with jittered back-off. A command id seen before
 * answers with the first outcome and records nothing new (I6).
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStream, decide } from '../domain/callPark.js';
import { evolve, initialState, type CallParkState } from '../domain/callParkState.js';
import type { CallParkCommand } from '../domain/commands.js';
import { WrongExpectedRevision, type EventStore, type Position, type RecordedEvent } from '../domain/eventStore.js';
import type { CallParkEvent } from '../domain/events.js';
import { sentenceFor, type RejectionReason } from '../domain/rejection.js';
import { SNAPSHOT_SCHEMA_VERSION, decodeState, encodeState } from '../domain/snapshot.js';
import { fromStoredForm, toStoredForm, type EventMetadata } from '../domain/storedEvent.js';
import { eventIdFor } from './eventIds.js';

export interface CommandOutcome {
  /** accepted: events were recorded; rejected: refused (with the audit record, if any); no-op: nothing to do. */
  readonly kind: 'accepted' | 'rejected' | 'no-op';
  /** What the command recorded (for a rejection, its audit record when it has one). */
  readonly events: readonly CallParkEvent[];
  readonly rejection?: { readonly reason: RejectionReason; readonly message: string };
  /** The command id was seen before: this is the first outcome again, and nothing new was recorded. */
  readonly duplicate: boolean;
  /** Where the last event was stored, so a reader can wait for its projections to pass it. */
  readonly position?: Position;
  /** How many times it was decided (more than 1 when another writer got in first). */
  readonly attempts: number;
}

export class ConcurrencyExhausted extends Error {
  override readonly name = 'ConcurrencyExhausted';
}

export interface CommandHandlerOptions {
  readonly store: EventStore;
  /** How many times to decide again after another writer got in first. */
  readonly maxAttempts?: number;
  /** How long a command id is remembered (against the time of the tenant's latest event). */
  readonly idempotencyWindowMillis?: number;
  /** Keep a snapshot every this many events; 0 keeps none. */
  readonly snapshotEvery?: number;
  /** Keep tenants' states in memory between commands (the service does; a benchmark of cold loads does not). */
  readonly cache?: boolean;
  readonly maxCachedTenants?: number;
  readonly sleep?: (millis: number) => Promise<void>;
  readonly random?: () => number;
  readonly onSnapshotError?: (error: unknown) => void;
}

/**
 * What a command recorded, for the idempotency window: where its events are in the stream, and
 * the events themselves while this process holds them. A snapshot keeps only the where; after a
 * cold load, a repeated command reads its events back from the stream.
 */
interface Remembered {
  readonly at: number;
  readonly firstRevision: number;
  count: number;
  events: CallParkEvent[] | undefined;
  rejection?: { reason: RejectionReason; message: string };
  position: Position;
}

/** A remembered command in a snapshot: [command id, at, first revision, count, commit, prepare, reason?, message?]. */
type StoredRemembered = [string, number, number, number, string, string, RejectionReason?, string?];

interface Loaded {
  state: CallParkState;
  /** The revision of the last event folded in; undefined for an empty stream. */
  revision: number | undefined;
  /** Command id → what it recorded, for the idempotency window, oldest first. */
  readonly recent: Map<string, Remembered>;
  latestAt: number;
  eventsSinceSnapshot: number;
}

/** What the handler writes into every event's metadata: the command that recorded it. */
type CommandMetadata = Omit<EventMetadata, 'schemaVersion'>;

const snapshotStream = (tenantId: string): string => `callpark-snapshot-${tenantId}`;
const SNAPSHOT_EVENT = 'CallParkSnapshot';

export class CommandHandler {
  private readonly store: EventStore;
  private readonly maxAttempts: number;
  private readonly windowMillis: number;
  private readonly snapshotEvery: number;
  private readonly caching: boolean;
  private readonly maxCachedTenants: number;
  private readonly sleep: (millis: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onSnapshotError: (error: unknown) => void;
  private readonly cache = new Map<string, Loaded>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: CommandHandlerOptions) {
    this.store = options.store;
    this.maxAttempts = options.maxAttempts ?? 25;
    this.windowMillis = options.idempotencyWindowMillis ?? 60 * 60 * 1000;
    this.snapshotEvery = options.snapshotEvery ?? 500;
    this.caching = options.cache ?? true;
    this.maxCachedTenants = options.maxCachedTenants ?? 10_000;
    this.sleep = options.sleep ?? ((millis) => new Promise((resolve) => setTimeout(resolve, millis)));
    this.random = options.random ?? Math.random;
    this.onSnapshotError = options.onSnapshotError ?? (() => undefined);
  }

  /** Decide and record a command. Commands of one tenant are taken one at a time in this process. */
  handle(command: CallParkCommand): Promise<CommandOutcome> {
    return this.serialized(command.tenantId, async () => {
      const loaded = await this.load(command.tenantId);
      try {
        return await this.decideAndAppend(command, loaded);
      } catch (error) {
        // Whatever happened to the append, the next command reads the stream again.
        this.cache.delete(command.tenantId);
        throw error;
      }
    });
  }

  /** Read a tenant's current state (caught up with the stream) without changing it. */
  query<T>(tenantId: string, read: (state: CallParkState) => T): Promise<T> {
    return this.serialized(tenantId, async () => read((await this.load(tenantId)).state));
  }

  private async decideAndAppend(command: CallParkCommand, loaded: Loaded): Promise<CommandOutcome> {
    const streamName = callParkStream(command.tenantId);
    let caughtUp = !this.caching;
    for (let attempts = 1; ; attempts++) {
      const seen = loaded.recent.get(command.commandId);
      if (seen) return this.remembered(command.tenantId, seen, attempts);

      const decision = decide(command, loaded.state);
      const rejection = E.isLeft(decision) ? { reason: decision.left.reason, message: decision.left.message } : undefined;
      const events: readonly CallParkEvent[] = E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right;
      if (events.length === 0) {
        // Nothing to append means no expected revision to catch a stale state: another process may
        // have moved the stream since this one last read it. Read on, and decide again if it had.
        const before = loaded.revision;
        if (!caughtUp) {
          caughtUp = true;
          await this.catchUp(command.tenantId, loaded);
          if (loaded.revision !== before) continue;
        }
        return { kind: rejection ? 'rejected' : 'no-op', events, duplicate: false, attempts, ...(rejection ? { rejection } : {}) };
      }

      const metadata: CommandMetadata = { commandId: command.commandId, ...(rejection ? { rejectionMessage: rejection.message } : {}) };
      const data = events.map((event, index) => ({ id: eventIdFor(streamName, command.commandId, index), ...toStoredForm(event, metadata) }));
      try {
        const result = await this.store.appendToStream(streamName, data, { expectedRevision: loaded.revision ?? 'no_stream' });
        const firstRevision = result.nextExpectedRevision - events.length + 1;
        events.forEach((event, index) => this.fold(loaded, event, metadata, firstRevision + index, result.position));
        this.maybeSnapshot(command.tenantId, loaded);
        return { kind: rejection ? 'rejected' : 'accepted', events, duplicate: false, position: result.position, attempts, ...(rejection ? { rejection } : {}) };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision)) throw error;
        if (attempts >= this.maxAttempts) throw new ConcurrencyExhausted(`Gave up on command ${command.commandId} after ${attempts} attempts: other writers kept changing ${streamName}.`);
        await this.catchUp(command.tenantId, loaded);
        const pause = this.backoff(attempts);
        if (pause > 0) await this.sleep(pause);
      }
    }
  }

  private async remembered(tenantId: string, seen: Remembered, attempts: number): Promise<CommandOutcome> {
    if (seen.events === undefined) {
      const events: CallParkEvent[] = [];
      for await (const recorded of this.store.readStream(callParkStream(tenantId), { fromRevision: seen.firstRevision, maxCount: seen.count })) {
        const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
        if (E.isLeft(decoded)) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
        events.push(decoded.right.event);
      }
      seen.events = events;
    }
    const kind = seen.rejection ? 'rejected' : seen.events.length > 0 ? 'accepted' : 'no-op';
    return { kind, events: seen.events, duplicate: true, position: seen.position, attempts, ...(seen.rejection ? { rejection: seen.rejection } : {}) };
  }

  /**
   * The first retries go at once: the loser of a race has just read what it missed, and the
   * winner does not wait either, so waiting would only make the loser lose again. Later ones
   * wait a random time up to an exponentially growing cap (full jitter), to break up a pile-up.
   */
  private backoff(attempts: number): number {
    return attempts <= 2 ? 0 : Math.floor(this.random() * Math.min(100, 2 ** attempts));
  }

  private async load(tenantId: string): Promise<Loaded> {
    const cached = this.cache.get(tenantId);
    if (cached) {
      // Most recently used last, so the oldest is the first to go.
      this.cache.delete(tenantId);
      this.cache.set(tenantId, cached);
      return cached;
    }
    const loaded = (await this.fromSnapshot(tenantId)) ?? { state: initialState(), revision: undefined, recent: new Map(), latestAt: Number.NEGATIVE_INFINITY, eventsSinceSnapshot: 0 };
    await this.catchUp(tenantId, loaded);
    if (this.caching) {
      this.cache.set(tenantId, loaded);
      if (this.cache.size > this.maxCachedTenants) this.cache.delete(this.cache.keys().next().value!);
    }
    return loaded;
  }

  /** Fold in what other writers appended since `loaded.revision`. */
  private async catchUp(tenantId: string, loaded: Loaded): Promise<void> {
    const fromRevision = loaded.revision === undefined ? 0 : loaded.revision + 1;
    for await (const recorded of this.store.readStream(callParkStream(tenantId), { fromRevision })) {
      this.foldRecorded(loaded, recorded);
    }
  }

  private foldRecorded(loaded: Loaded, recorded: RecordedEvent): void {
    const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
    if (E.isLeft(decoded)) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
    this.fold(loaded, decoded.right.event, decoded.right.metadata, recorded.revision, recorded.position);
  }

  private fold(loaded: Loaded, event: CallParkEvent, metadata: CommandMetadata, revision: number, position: Position): void {
    loaded.state = evolve(loaded.state, event);
    loaded.revision = revision;
    loaded.latestAt = Math.max(loaded.latestAt, event.at);
    loaded.eventsSinceSnapshot++;
    let entry = loaded.recent.get(metadata.commandId);
    if (entry === undefined) {
      entry = { at: event.at, firstRevision: revision, count: 0, events: [], position };
      loaded.recent.set(metadata.commandId, entry);
    }
    entry.events?.push(event);
    entry.count++;
    entry.position = position;
    if (event.type === 'ParkRejected' || event.type === 'RetrievalRejected') {
      entry.rejection = { reason: event.reason, message: metadata.rejectionMessage ?? sentenceFor(event.reason) };
    }
    this.forgetOld(loaded);
  }

  /** Forget command ids that fell out of the window, oldest first. */
  private forgetOld(loaded: Loaded): void {
    for (const [commandId, remembered] of loaded.recent) {
      if (remembered.at >= loaded.latestAt - this.windowMillis) break;
      loaded.recent.delete(commandId);
    }
  }

  private async fromSnapshot(tenantId: string): Promise<Loaded | undefined> {
    if (this.snapshotEvery <= 0) return undefined;
    for await (const snapshot of this.store.readStream(snapshotStream(tenantId), { direction: 'backwards', maxCount: 1 })) {
      const data = snapshot.data as { schemaVersion?: number; revision?: number; latestAt?: number; state?: unknown; recent?: StoredRemembered[] };
      if (data.schemaVersion !== SNAPSHOT_SCHEMA_VERSION || typeof data.revision !== 'number' || !Array.isArray(data.recent)) return undefined;
      const state = decodeState(data.state);
      if (E.isLeft(state)) return undefined;
      const loaded: Loaded = { state: state.right, revision: data.revision, recent: new Map(), latestAt: data.latestAt ?? Number.NEGATIVE_INFINITY, eventsSinceSnapshot: 0 };
      for (const [commandId, at, firstRevision, count, commit, prepare, reason, message] of data.recent) {
        loaded.recent.set(commandId, {
          at,
          firstRevision,
          count,
          events: undefined,
          position: { commit: BigInt(commit), prepare: BigInt(prepare) },
          ...(reason ? { rejection: { reason, message: message ?? sentenceFor(reason) } } : {}),
        });
      }
      return loaded;
    }
    return undefined;
  }

  private maybeSnapshot(tenantId: string, loaded: Loaded): void {
    if (this.snapshotEvery <= 0 || loaded.eventsSinceSnapshot < this.snapshotEvery) return;
    loaded.eventsSinceSnapshot = 0;
    // Encoded now, while the state is this revision's; written without holding up the command.
    const data = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      revision: loaded.revision,
      latestAt: loaded.latestAt,
      state: encodeState(loaded.state),
      recent: [...loaded.recent].map(([commandId, remembered]): StoredRemembered => {
        const { at, firstRevision, count, position, rejection } = remembered;
        const where: StoredRemembered = [commandId, at, firstRevision, count, String(position.commit), String(position.prepare)];
        if (rejection) where.push(rejection.reason, rejection.message);
        return where;
      }),
    };
    const id = eventIdFor(snapshotStream(tenantId), 'snapshot', loaded.revision ?? -1);
    this.store.appendToStream(snapshotStream(tenantId), [{ id, type: SNAPSHOT_EVENT, data }], { expectedRevision: 'any' }).catch(this.onSnapshotError);
  }

  /** Run `work` after every earlier piece of work of the same tenant in this process. */
  private serialized<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(tenantId, settled);
    void settled.then(() => {
      if (this.queues.get(tenantId) === settled) this.queues.delete(tenantId);
    });
    return next;
  }

  /**
   * Decide several commands of one tenant, in the order given, and record what they decided in
   * one append (one expected revision, so one transaction and one sync of the store): the way in
   * for a batch of signaling records. Each command gets the outcome `handle` would have given it
   * had they come one after the other: each is decided against the state its predecessors left,
   * a command id seen before (or earlier in the batch, if that recorded something) answers its
   * first outcome, and another writer that got in first makes the whole batch be decided again.
   * Every outcome of a decided command carries the position of the batch's last event: a reader
   * that waits for it waits at most for the rest of the batch.
   */
  handleBatch(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    const stranger = commands.find((command) => command.tenantId !== tenantId);
    if (stranger) return Promise.reject(new Error(`Command ${stranger.commandId} is for tenant ${stranger.tenantId}, not ${tenantId}.`));
    if (commands.length === 0) return Promise.resolve([]);
    return this.serialized(tenantId, async () => {
      try {
        return await this.decideAndAppendBatch(tenantId, commands);
      } catch (error) {
        // Whatever happened to the append, the next command reads the stream again.
        this.cache.delete(tenantId);
        throw error;
      }
    });
  }

  private async decideAndAppendBatch(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    const streamName = callParkStream(tenantId);
    let caughtUp = !this.caching;
    for (let attempts = 1; ; attempts++) {
      const loaded = await this.load(tenantId);
      const expectedRevision = loaded.revision ?? 'no_stream';
      const draft = this.draftBatch(streamName, commands, loaded);
      if (draft.data.length === 0) {
        // As in decideAndAppend: nothing to append checks no revision, so read on first.
        const before = loaded.revision;
        if (!caughtUp && draft.decided) {
          caughtUp = true;
          await this.catchUp(tenantId, loaded);
          if (loaded.revision !== before) continue;
        }
        return this.batchOutcomes(tenantId, draft.steps, undefined, attempts);
      }
      try {
        const result = await this.store.appendToStream(streamName, draft.data, { expectedRevision });
        for (const commandId of draft.recorded) loaded.recent.get(commandId)!.position = result.position;
        this.maybeSnapshot(tenantId, loaded);
        return this.batchOutcomes(tenantId, draft.steps, result.position, attempts);
      } catch (error) {
        // The state was folded ahead of the append: it is read again whatever the failure.
        this.cache.delete(tenantId);
        if (!(error instanceof WrongExpectedRevision)) throw error;
        if (attempts >= this.maxAttempts) throw new ConcurrencyExhausted(`Gave up on a batch of ${commands.length} commands after ${attempts} attempts: other writers kept changing ${streamName}.`);
        const pause = this.backoff(attempts);
        if (pause > 0) await this.sleep(pause);
      }
    }
  }

  /**
   * Decide each command against the state the ones before it leave, folding its events into
   * `loaded` at the revisions the append will give them (the state belongs to the fold, so it is
   * not copied: a failed append throws this `loaded` away). A repeated command id finds the entry
   * its first occurrence left, as it would one by one.
   */
  private draftBatch(streamName: string, commands: readonly CallParkCommand[], loaded: Loaded): BatchDraft {
    const steps: BatchStep[] = [];
    const data: BatchEventData[] = [];
    const recorded: string[] = [];
    let revision = loaded.revision ?? -1;
    let decided = false;
    for (const command of commands) {
      const seen = loaded.recent.get(command.commandId);
      if (seen) {
        steps.push({ kind: 'seen', seen });
        continue;
      }
      decided = true;
      const decision = decide(command, loaded.state);
      const rejection = E.isLeft(decision) ? { reason: decision.left.reason, message: decision.left.message } : undefined;
      const events: readonly CallParkEvent[] = E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right;
      const metadata: CommandMetadata = { commandId: command.commandId, ...(rejection ? { rejectionMessage: rejection.message } : {}) };
      events.forEach((event, index) => {
        data.push({ id: eventIdFor(streamName, command.commandId, index), ...toStoredForm(event, metadata) });
        this.fold(loaded, event, metadata, ++revision, PENDING_POSITION);
      });
      if (events.length > 0) recorded.push(command.commandId);
      steps.push({ kind: 'decided', events, ...(rejection ? { rejection } : {}) });
    }
    return { steps, data, recorded, decided };
  }

  private batchOutcomes(tenantId: string, steps: readonly BatchStep[], position: Position | undefined, attempts: number): Promise<CommandOutcome[]> {
    return Promise.all(
      steps.map(async (step): Promise<CommandOutcome> => {
        if (step.kind === 'seen') return this.remembered(tenantId, step.seen, attempts);
        const { events, rejection } = step;
        const kind = rejection ? 'rejected' : events.length > 0 ? 'accepted' : 'no-op';
        return { kind, events, duplicate: false, attempts, ...(events.length > 0 && position ? { position } : {}), ...(rejection ? { rejection } : {}) };
      }),
    );
  }
}

/** The position of an event folded ahead of its append; replaced by the append's once it succeeds. */
const PENDING_POSITION: Position = { commit: -1n, prepare: -1n };

/** One command of a batch: answered from memory (seen before, maybe earlier in the batch), or decided now. */
type BatchStep =
  | { readonly kind: 'seen'; readonly seen: Remembered }
  | { readonly kind: 'decided'; readonly events: readonly CallParkEvent[]; readonly rejection?: { reason: RejectionReason; message: string } };

/** An event to append (EventData, named through the port so that this file's imports stay as they are). */
type BatchEventData = Parameters<EventStore['appendToStream']>[1][number];

interface BatchDraft {
  readonly steps: readonly BatchStep[];
  /** The events to append, every decided command's in order. */
  readonly data: readonly BatchEventData[];
  /** The commands whose events are in `data`. */
  readonly recorded: readonly string[];
  /** Whether any command was decided now (not answered from memory). */
  readonly decided: boolean;
}
