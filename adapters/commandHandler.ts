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
import { fromStoredForm, toStoredForm, type DecodedEvent, type EventMetadata } from '../domain/storedEvent.js';
import { eventIdFor } from './eventIds.js';
import { IdempotencyWindow, type Rejection, type Remembered } from './idempotencyWindow.js';
import { fullSnapshotStream, latestSnapshot, snapshotStream, type StoredSnapshot } from './tenantSnapshots.js';

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
  /** Make a snapshot a full one (with the whole idempotency window) once this many events passed since the last full one. */
  readonly fullSnapshotEvery?: number;
  /** Keep tenants' states in memory between commands (the service does; a benchmark of cold loads does not). */
  readonly cache?: boolean;
  readonly maxCachedTenants?: number;
  readonly sleep?: (millis: number) => Promise<void>;
  readonly random?: () => number;
  readonly onSnapshotError?: (error: unknown) => void;
}

interface Loaded {
  state: CallParkState;
  /** The revision of the last event folded in; undefined for an empty stream. */
  revision: number | undefined;
  /** The commands recorded within the idempotency window. */
  readonly window: IdempotencyWindow;
  latestAt: number;
  /** The revision of the newest snapshot read or written (-1: none), counted from by the next one. */
  snapshotRevision: number;
  /** The revision of the newest full snapshot known to be stored (-1: none), which the next snapshots extend. */
  fullSnapshotRevision: number;
}

/** What the handler writes into every event's metadata: the command that recorded it. */
type CommandMetadata = Omit<EventMetadata, 'schemaVersion'>;

const rejectionOf = ({ event, metadata }: DecodedEvent | { event: CallParkEvent; metadata: CommandMetadata }): Rejection | undefined =>
  event.type === 'ParkRejected' || event.type === 'RetrievalRejected' ? { reason: event.reason, message: metadata.rejectionMessage ?? sentenceFor(event.reason) } : undefined;

/**
 * How much further apart than the configured intervals a tenant's snapshots are:
 * - a snapshot holds every call parked, so a tenant with many (a thousand calls held at once)
 *   makes large ones; spaced at least one event per parked call, writing and encoding them never
 *   costs more than the events between them, and a cold load's tail stays as long as its snapshot;
 * - by a fixed share (up to half again) drawn from the tenant's id, so tenants that grew the same
 *   history together do not all stop to snapshot in the same moment.
 */
const snapshotScale = (tenantId: string, state: CallParkState, snapshotEvery: number): number => {
  let hash = 0;
  for (let i = 0; i < tenantId.length; i++) hash = (Math.imul(hash, 31) + tenantId.charCodeAt(i)) | 0;
  const spread = 1 + ((hash >>> 0) % 1024) / 2048;
  return Math.max(1, state.sessions.size / snapshotEvery) * spread;
};

export class CommandHandler {
  private readonly store: EventStore;
  private readonly maxAttempts: number;
  private readonly windowMillis: number;
  private readonly snapshotEvery: number;
  private readonly fullSnapshotEvery: number;
  private readonly caching: boolean;
  private readonly maxCachedTenants: number;
  private readonly sleep: (millis: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onSnapshotError: (error: unknown) => void;
  private readonly cache = new Map<string, Loaded>();
  /** Per tenant with work queued or under way: the end of its queue, and how many pieces are in it. */
  private readonly queues = new Map<string, { tail: Promise<unknown>; pending: number }>();
  /** Per tenant, the commands that arrived while it was busy: they go next, together. */
  private readonly waiting = new Map<string, WaitingBatch>();

  constructor(options: CommandHandlerOptions) {
    this.store = options.store;
    this.maxAttempts = options.maxAttempts ?? 25;
    this.windowMillis = options.idempotencyWindowMillis ?? 60 * 60 * 1000;
    // A cold load folds the events since the latest snapshot: a few, like a new tenant's history.
    this.snapshotEvery = options.snapshotEvery ?? 16;
    this.fullSnapshotEvery = options.fullSnapshotEvery ?? 256;
    this.caching = options.cache ?? true;
    this.maxCachedTenants = options.maxCachedTenants ?? 10_000;
    this.sleep = options.sleep ?? ((millis) => new Promise((resolve) => setTimeout(resolve, millis)));
    this.random = options.random ?? Math.random;
    this.onSnapshotError = options.onSnapshotError ?? (() => undefined);
  }

  /**
   * Decide and record a command. Commands of one tenant are taken one at a time in this process:
   * one that arrives while the tenant is idle goes at once; those that arrive while it is busy
   * wait together, and go next as one batch (handleBatch: decided in the order they came, recorded
   * by one append), so a busy tenant pays for one commit per batch rather than one per command.
   * Each is answered as it would have been alone.
   */
  handle(command: CallParkCommand): Promise<CommandOutcome> {
    const { tenantId } = command;
    if (!this.queues.has(tenantId)) return this.serialized(tenantId, () => this.handleOne(command));
    let waiting = this.waiting.get(tenantId);
    if (waiting === undefined) {
      const batch: WaitingBatch = { commands: [], answers: [] };
      this.waiting.set(tenantId, batch);
      void this.serialized(tenantId, () => this.handleWaiting(tenantId, batch));
      waiting = batch;
    }
    const joined = waiting;
    return new Promise<CommandOutcome>((resolve, reject) => {
      joined.commands.push(command);
      joined.answers.push({ resolve, reject });
    });
  }

  /** Read a tenant's current state (caught up with the stream) without changing it. */
  query<T>(tenantId: string, read: (state: CallParkState) => T): Promise<T> {
    // Commands sent after this reads wait for it.
    this.waiting.delete(tenantId);
    return this.serialized(tenantId, async () => read((await this.load(tenantId)).state));
  }

  private async handleOne(command: CallParkCommand): Promise<CommandOutcome> {
    const loaded = await this.load(command.tenantId);
    try {
      return await this.decideAndAppend(command, loaded);
    } catch (error) {
      // Whatever happened to the append, the next command reads the stream again.
      this.cache.delete(command.tenantId);
      throw error;
    }
  }

  /**
   * The commands that waited while the tenant was busy: one alone as usual; several as a batch.
   * A batch that fails for any reason but other writers (one command's events refused by the
   * store, say) is taken again one command at a time, so that the failure is that command's alone.
   */
  private async handleWaiting(tenantId: string, batch: WaitingBatch): Promise<void> {
    if (this.waiting.get(tenantId) === batch) this.waiting.delete(tenantId);
    const { commands, answers } = batch;
    if (commands.length > 1) {
      try {
        const outcomes = await this.decideAndAppendBatch(tenantId, commands);
        outcomes.forEach((outcome, index) => answers[index]!.resolve(outcome));
        return;
      } catch (error) {
        // Whatever failed, the state may hold the batch's events folded ahead: read it again.
        this.cache.delete(tenantId);
        if (error instanceof ConcurrencyExhausted) {
          for (const answer of answers) answer.reject(error);
          return;
        }
      }
    }
    for (const [index, command] of commands.entries()) {
      await this.handleOne(command).then(answers[index]!.resolve, answers[index]!.reject);
    }
  }

  private async decideAndAppend(command: CallParkCommand, loaded: Loaded): Promise<CommandOutcome> {
    const streamName = callParkStream(command.tenantId);
    let caughtUp = !this.caching;
    for (let attempts = 1; ; attempts++) {
      const seen = loaded.window.find(command.commandId, loaded.latestAt - this.windowMillis);
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
        if (firstRevision !== (loaded.revision ?? -1) + 1) {
          // The store held these events already, elsewhere in the stream (another process recorded
          // this command first, or it fell out of the window), and answered as to a retry: this
          // state is behind, and the command's outcome is what was stored then.
          this.cache.delete(command.tenantId);
          return this.remembered(command.tenantId, { commandId: command.commandId, at: command.at, firstRevision, count: events.length, events: undefined }, attempts);
        }
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
      // Found in a snapshot's window: its outcome is in the stream, where the window says.
      const events: CallParkEvent[] = [];
      for await (const recorded of this.store.readStream(callParkStream(tenantId), { fromRevision: seen.firstRevision, maxCount: seen.count })) {
        const decoded = decodeRecorded(recorded);
        if (decoded.metadata.commandId !== seen.commandId) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} is not of command ${seen.commandId}, as the snapshot says.`);
        events.push(decoded.event);
        seen.position = recorded.position;
        seen.rejection = rejectionOf(decoded) ?? seen.rejection;
      }
      if (events.length !== seen.count) throw new Error(`Command ${seen.commandId} recorded ${seen.count} events from revision ${seen.firstRevision}, but ${events.length} were read.`);
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
    const loaded = (await this.fromSnapshot(tenantId)) ?? {
      state: initialState(),
      revision: undefined,
      window: new IdempotencyWindow(),
      latestAt: Number.NEGATIVE_INFINITY,
      snapshotRevision: -1,
      fullSnapshotRevision: -1,
    };
    await this.catchUp(tenantId, loaded);
    // A long fold is kept, even when the command then records nothing.
    this.maybeSnapshot(tenantId, loaded);
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
    const { event, metadata } = decodeRecorded(recorded);
    this.fold(loaded, event, metadata, recorded.revision, recorded.position);
  }

  private fold(loaded: Loaded, event: CallParkEvent, metadata: CommandMetadata, revision: number, position: Position): void {
    loaded.state = evolve(loaded.state, event);
    loaded.revision = revision;
    loaded.latestAt = Math.max(loaded.latestAt, event.at);
    loaded.window.record(metadata.commandId, event, revision, position, rejectionOf({ event, metadata }));
    loaded.window.forget(loaded.latestAt - this.windowMillis);
  }

  /**
   * The newest snapshot and the newest full one. The snapshot is used when it extends a full
   * snapshot no newer than the stored full one (so the two windows leave no gap between them);
   * otherwise the full snapshot alone, and the events after it.
   */
  private async fromSnapshot(tenantId: string): Promise<Loaded | undefined> {
    if (this.snapshotEvery <= 0) return undefined;
    const [latest, full] = await Promise.all([latestSnapshot(this.store, snapshotStream(tenantId)), latestSnapshot(this.store, fullSnapshotStream(tenantId))]);
    if (full === undefined) return undefined;
    const extendsFull = latest !== undefined && latest.window.after <= full.revision && latest.revision > full.revision;
    const base = extendsFull ? latest : full;
    const state = decodeState(base.state);
    if (E.isLeft(state)) return undefined;
    const stored = [{ after: full.window.after, through: full.revision, lines: full.window.lines }];
    if (extendsFull) stored.push({ after: latest.window.after, through: latest.revision, lines: latest.window.lines });
    return {
      state: state.right,
      revision: base.revision,
      window: new IdempotencyWindow(stored),
      latestAt: base.latestAt,
      snapshotRevision: base.revision,
      fullSnapshotRevision: full.revision,
    };
  }

  private maybeSnapshot(tenantId: string, loaded: Loaded): void {
    const { revision } = loaded;
    if (this.snapshotEvery <= 0 || revision === undefined) return;
    const scale = snapshotScale(tenantId, loaded.state, this.snapshotEvery);
    if (revision - loaded.snapshotRevision < this.snapshotEvery * scale) return;
    loaded.snapshotRevision = revision;
    // Full until one is stored, and again once the window since the last one has grown long.
    const full = loaded.fullSnapshotRevision < 0 || revision - loaded.fullSnapshotRevision >= this.fullSnapshotEvery * scale;
    const after = full ? -1 : loaded.fullSnapshotRevision;
    let data: StoredSnapshot;
    try {
      // Encoded now, while the state is this revision's; written without holding up the command.
      const lines = loaded.window.lines(after, loaded.latestAt - this.windowMillis);
      data = { schemaVersion: SNAPSHOT_SCHEMA_VERSION, revision, latestAt: loaded.latestAt, state: encodeState(loaded.state), window: { after, lines } };
    } catch (error) {
      this.onSnapshotError(error);
      return;
    }
    const streamName = full ? fullSnapshotStream(tenantId) : snapshotStream(tenantId);
    this.store.writeSnapshot(streamName, { revision, data }).then(() => {
      // Only a full snapshot known to be stored may be extended: a snapshot must never point at a gap.
      if (full) loaded.fullSnapshotRevision = Math.max(loaded.fullSnapshotRevision, revision);
    }, this.onSnapshotError);
  }

  /** Run `work` after every earlier piece of work of the same tenant in this process. */
  private serialized<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const queue = this.queues.get(tenantId) ?? { tail: Promise.resolve(), pending: 0 };
    queue.pending++;
    const run = async (): Promise<T> => {
      try {
        return await work();
      } finally {
        // The last piece of work done: the tenant is idle, and the next command goes at once.
        if (--queue.pending === 0 && this.queues.get(tenantId) === queue) this.queues.delete(tenantId);
      }
    };
    const next = queue.tail.then(run, run);
    queue.tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(tenantId, queue);
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
    // Commands sent after this batch wait for it.
    this.waiting.delete(tenantId);
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
        if (result.nextExpectedRevision !== (loaded.revision ?? -1)) {
          // Answered as a retry of an append made before (see decideAndAppend): this state is
          // behind. Each command is then taken alone, on the log as it is.
          this.cache.delete(tenantId);
          return this.oneByOne(commands);
        }
        for (const commandId of draft.recorded) loaded.window.find(commandId, Number.NEGATIVE_INFINITY)!.position = result.position;
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

  private async oneByOne(commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    const outcomes: CommandOutcome[] = [];
    for (const command of commands) outcomes.push(await this.handleOne(command));
    return outcomes;
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
      const seen = loaded.window.find(command.commandId, loaded.latestAt - this.windowMillis);
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

/** Commands of one tenant waiting for it to be free, and how to answer each. */
interface WaitingBatch {
  readonly commands: CallParkCommand[];
  readonly answers: { resolve: (outcome: CommandOutcome) => void; reject: (error: unknown) => void }[];
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

const decodeRecorded = (recorded: RecordedEvent): DecodedEvent => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  if (E.isLeft(decoded)) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
  return decoded.right;
};
