/**
 * The one way a command is recorded: decide, put in stored form, fold, append with the expected
 * revision. A single command is a batch of one.
 *
 * Commands of one tenant are decided in the order given, each against the state its predecessors
 * left (folded ahead of the append, at the revisions the append will give them), and recorded by
 * one append: as many as fit the store's maximum append size, then the rest by the next append.
 * Each gets the outcome it would have had alone: a command id seen before (or earlier in the
 * batch, if that recorded something) answers its first outcome; another writer that got in first
 * makes the batch be decided again, after a pause with jitter; a command whose events alone are
 * over the limit fails with CommandTooLarge, which no retry would change.
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStream, decide } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { WrongExpectedRevision, type EventData, type EventStore, type ExpectedRevision, type Position } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import { toStoredForm } from '../../domain/storedForm/storedEvent.js';
import { eventSize } from '../eventStores/appendSize.js';
import { eventIdFor } from '../eventStores/eventIds.js';
import type { Remembered } from './idempotencyWindow.js';
import { CommandTooLarge, ConcurrencyExhausted, type CommandOutcome, type Rejection } from './commandOutcome.js';
import { findMissed, rememberedOutcome } from './idempotencyLookup.js';
import { fold, type CommandMetadata, type LoadedTenant } from './loadedTenant.js';
import type { SnapshotPolicy } from './snapshotPolicy.js';
import type { TenantCache } from './tenantCache.js';
import type { TenantLoader } from './tenantLoader.js';

export interface RecorderSettings {
  readonly store: EventStore;
  readonly loader: TenantLoader;
  readonly cache: TenantCache;
  readonly caching: boolean;
  readonly snapshots: SnapshotPolicy;
  readonly windowMillis: number;
  /** How many times to decide again after another writer got in first. */
  readonly maxAttempts: number;
  readonly sleep: (millis: number) => Promise<void>;
  readonly random: () => number;
}

/**
 * How long to wait before deciding again after losing a race for the stream. The first retry goes
 * at once: the loser has just read what it missed, and the winner does not wait either. Later ones
 * wait a random time up to an exponentially growing cap (full jitter, up to 250 ms), so that
 * writers of several processes that keep colliding spread out instead of colliding again.
 */
export const backoffMillis = (attempts: number, random: () => number): number => (attempts <= 1 ? 0 : Math.floor(random() * Math.min(250, 2 ** (attempts + 1))));

/** The position of an event folded ahead of its append; replaced by the append's once it succeeds. */
const PENDING_POSITION: Position = { commit: -1n, prepare: -1n };

/** One command of a batch: answered from memory or the store (seen before, maybe earlier in the batch), or decided now. */
type Step = { readonly kind: 'seen'; readonly seen: Remembered } | { readonly kind: 'decided'; readonly events: readonly CallParkEvent[]; readonly rejection?: Rejection };

interface Draft {
  /** One per command taken, in order: the first `steps.length` commands. */
  readonly steps: readonly Step[];
  /** The events to append, every decided command's in order. */
  readonly data: readonly EventData[];
  /** The commands whose events are in `data`. */
  readonly recorded: readonly string[];
  /** Whether any command was decided now (not answered as seen before). */
  readonly decided: boolean;
  readonly expectedRevision: ExpectedRevision;
}

export class DecideAndAppend {
  constructor(private readonly settings: RecorderSettings) {}

  /** Decide and record the tenant's commands, in order: one outcome each. */
  async record(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    const stranger = commands.find((command) => command.tenantId !== tenantId);
    if (stranger) throw new Error(`Command ${stranger.commandId} is for tenant ${stranger.tenantId}, not ${tenantId}.`);
    const outcomes: CommandOutcome[] = [];
    while (outcomes.length < commands.length) outcomes.push(...(await this.appendOnce(tenantId, commands.slice(outcomes.length))));
    return outcomes;
  }

  /** Decide as many of `commands` (from the first) as one append takes, and record them: their outcomes. */
  private async appendOnce(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    const { store, loader, cache, windowMillis, maxAttempts } = this.settings;
    const streamName = callParkStream(tenantId);
    let caughtUp = !this.settings.caching;
    let taking = commands;
    for (let attempts = 1; ; attempts++) {
      const tenant = await loader.load(tenantId);
      const lookup = findMissed(store, tenant, taking, tenant.latestAt - windowMillis);
      const missed = lookup instanceof Map ? lookup : await lookup;
      const before = tenant.revision;
      let draft: Draft;
      try {
        draft = this.draft(streamName, tenant, taking, missed);
      } catch (error) {
        // Whatever was folded ahead is not in the store.
        cache.drop(tenantId);
        throw error;
      }
      if (draft.data.length === 0) {
        // Nothing to append means no expected revision to catch a stale state: another process may
        // have moved the stream since this one last read it. Read on, and decide again if it had.
        if (!caughtUp && draft.decided) {
          caughtUp = true;
          await loader.catchUp(tenantId, tenant);
          if (tenant.revision !== before) continue;
        }
        return this.outcomes(tenantId, draft.steps, undefined, attempts);
      }
      try {
        const result = await store.appendToStream(streamName, draft.data, { expectedRevision: draft.expectedRevision });
        if (result.nextExpectedRevision !== tenant.revision) {
          // The store held these events already, elsewhere in the stream (another process recorded
          // them first, or they fell out of the window), and answered as to a retry: this state is
          // behind. A batch is taken again one command at a time; one command's outcome is what was stored then.
          cache.drop(tenantId);
          if (draft.steps.length > 1) {
            taking = taking.slice(0, 1);
            continue;
          }
          const firstRevision = result.nextExpectedRevision - draft.data.length + 1;
          return [await rememberedOutcome(store, tenantId, { commandId: taking[0]!.commandId, firstRevision, count: draft.data.length, events: undefined }, attempts)];
        }
        tenant.window.settle(draft.recorded, result.position);
        this.settings.snapshots.consider(tenantId, tenant);
        return this.outcomes(tenantId, draft.steps, result.position, attempts);
      } catch (error) {
        // The state was folded ahead of the append: it is read again whatever the failure.
        cache.drop(tenantId);
        if (!(error instanceof WrongExpectedRevision)) throw error;
        if (attempts >= maxAttempts) {
          throw new ConcurrencyExhausted(`Gave up on ${taking.length === 1 ? `command ${taking[0]!.commandId}` : `a batch of ${taking.length} commands`} after ${attempts} attempts: other writers kept changing ${streamName}.`);
        }
        const pause = backoffMillis(attempts, this.settings.random);
        if (pause > 0) await this.settings.sleep(pause);
      }
    }
  }

  /**
   * Decide each command against the state the ones before it leave, folding its events into the
   * tenant at the revisions the append will give them (the state is not copied: a failed append
   * drops the tenant from the cache), until the next command's events would take the append over
   * the store's limit.
   */
  private draft(streamName: string, tenant: LoadedTenant, commands: readonly CallParkCommand[], missed: ReadonlyMap<string, Remembered>): Draft {
    const { windowMillis } = this.settings;
    const { maxAppendSize } = this.settings.store;
    const expectedRevision: ExpectedRevision = tenant.revision ?? 'no_stream';
    const steps: Step[] = [];
    const data: EventData[] = [];
    const recorded: string[] = [];
    let revision = tenant.revision ?? -1;
    let size = 0;
    let decided = false;
    for (const command of commands) {
      const seen = tenant.window.find(command.commandId, tenant.latestAt - windowMillis) ?? missed.get(command.commandId);
      if (seen) {
        steps.push({ kind: 'seen', seen });
        continue;
      }
      const decision = decide(command, tenant.state);
      const rejection = E.isLeft(decision) ? { reason: decision.left.reason, message: decision.left.message } : undefined;
      const events: readonly CallParkEvent[] = E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right;
      const metadata: CommandMetadata = { commandId: command.commandId, ...(rejection ? { rejectionMessage: rejection.message } : {}) };
      const stored = events.map((event, index) => ({ id: eventIdFor(streamName, command.commandId, index), ...toStoredForm(event, metadata) }));
      // Measured only against a limit (the in-memory store of the tests and benchmarks may have none).
      const bytes = Number.isFinite(maxAppendSize) ? stored.reduce((total, event) => total + eventSize(event), 0) : 0;
      if (size + bytes > maxAppendSize) {
        if (steps.length === 0) throw new CommandTooLarge(command.commandId, bytes, maxAppendSize);
        break;
      }
      decided = true;
      size += bytes;
      data.push(...stored);
      events.forEach((event) => fold(tenant, windowMillis, event, metadata, ++revision, PENDING_POSITION));
      if (events.length > 0) recorded.push(command.commandId);
      steps.push({ kind: 'decided', events, ...(rejection ? { rejection } : {}) });
    }
    return { steps, data, recorded, decided, expectedRevision };
  }

  private outcomes(tenantId: string, steps: readonly Step[], position: Position | undefined, attempts: number): Promise<CommandOutcome[]> {
    return Promise.all(
      steps.map(async (step): Promise<CommandOutcome> => {
        if (step.kind === 'seen') return rememberedOutcome(this.settings.store, tenantId, step.seen, attempts);
        const { events, rejection } = step;
        const kind = rejection ? 'rejected' : events.length > 0 ? 'accepted' : 'no-op';
        return { kind, events, duplicate: false, attempts, ...(events.length > 0 && position ? { position } : {}), ...(rejection ? { rejection } : {}) };
      }),
    );
  }
}
