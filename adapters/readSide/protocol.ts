/**
 * The messages between the service's main thread and its read-side thread (readSideThread.ts,
 * readSideWorker.ts). Everything in them survives the structured clone: positions are bigints,
 * events are plain objects.
 */
import type { Position, RecordedEvent } from '../../domain/eventStore.js';
import type { Config } from '../config/config.js';
import type { Lag, RunnerStatus } from '../../projections/runner.js';

/** What the read-side thread needs to open its own connections to the stores. */
export type StoreSettings = Pick<Config, 'dataDir' | 'eventStore' | 'readStore' | 'leases'>;

export interface ReadSideWorkerData {
  readonly stores: StoreSettings;
  /** The names of the projections to run, from readSideProjections. */
  readonly projections: readonly string[];
  /**
   * One Int32 that the main thread bumps (and notifies) after each commit of appends: the
   * thread's subscriptions then look for them at once. A message would do the same at a hundred
   * times the cost to the main thread, once for every commit.
   */
  readonly appends: SharedArrayBuffer;
}

/** Main thread to read-side thread. */
export type ToReadSide =
  /** Send the events of each batch of this build along with it (someone listens to them). */
  | { readonly kind: 'listen'; readonly build: string }
  | { readonly kind: 'lag'; readonly id: number; readonly build: string }
  | { readonly kind: 'wait-for'; readonly id: number; readonly build: string; readonly position: Position }
  | { readonly kind: 'catch-up'; readonly id: number; readonly build: string }
  | { readonly kind: 'stop' };

/** Read-side thread to main thread. */
export type FromReadSide =
  /** `leases`: the projections' leases this instance holds (`projection:<build>`), whose runners run here. */
  | { readonly kind: 'started'; readonly statuses: readonly RunnerStatus[]; readonly leases: readonly string[] }
  | { readonly kind: 'start-failed'; readonly message: string }
  | {
      readonly kind: 'applied';
      readonly build: string;
      readonly checkpoint: Position;
      readonly committedAt: number;
      /** The batch's events, when the build is listened to; else none. */
      readonly events: readonly RecordedEvent[];
      readonly status: RunnerStatus;
    }
  | { readonly kind: 'statuses'; readonly statuses: readonly RunnerStatus[]; readonly leases: readonly string[] }
  | { readonly kind: 'answer'; readonly id: number; readonly lag?: Lag; readonly error?: string }
  | { readonly kind: 'stopped'; readonly statuses: readonly RunnerStatus[]; readonly leases: readonly string[] };
