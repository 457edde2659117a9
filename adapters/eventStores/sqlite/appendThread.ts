/**
 * The event store's writer on a thread of its own. better-sqlite3 is synchronous: a commit at
 * synchronous=FULL holds its thread for the sync of the WAL (a fraction of a millisecond to
 * several, as the disk decides), and on the service's main thread that is time no request is
 * answered. Here the main thread hands each group commit's appends to the writer thread
 * (appendWorker.ts), which holds the write connection, and goes on answering requests; the
 * appends queued meanwhile make the next group commit. An append is still acknowledged only
 * after its transaction has committed.
 *
 * The thread is started with the first append and is kept referenced only while appends are in
 * flight, so an idle store never keeps a process alive.
 */
import type { Worker } from 'node:worker_threads';
import { WrongExpectedRevision } from '../../../domain/eventStore.js';
import { compiledModule, startWorker } from '../../runtime/workerModule.js';
import type { AppendOutcome, WriteRequest } from './appendWriter.js';
import type { ConnectionOptions } from './connection.js';
import { EventIdConflict } from './eventIdConflict.js';

export interface AppendThreadData {
  readonly path: string;
  readonly options: ConnectionOptions;
}

/** An error as it crosses between threads: what is needed to build the same refusal again. */
export type CrossingError =
  | { readonly kind: 'wrong-expected-revision'; readonly streamName: string; readonly expected: WrongExpectedRevision['expected']; readonly actual: WrongExpectedRevision['actual'] }
  | { readonly kind: 'event-id-conflict'; readonly eventId: string; readonly streamName: string; readonly storedAt?: EventIdConflict['storedAt'] }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly code?: string };

export type CrossingOutcome = { readonly accepted: true; readonly result: Extract<AppendOutcome, { accepted: true }>['result'] } | { readonly accepted: false; readonly error: CrossingError };

export type WriterAnswer = { readonly id: number; readonly outcomes: readonly CrossingOutcome[] } | { readonly id: number; readonly failure: CrossingError };

export const toCrossing = (error: unknown): CrossingError => {
  if (error instanceof WrongExpectedRevision) return { kind: 'wrong-expected-revision', streamName: error.streamName, expected: error.expected, actual: error.actual };
  if (error instanceof EventIdConflict) return { kind: 'event-id-conflict', eventId: error.eventId, streamName: error.streamName, ...(error.storedAt ? { storedAt: error.storedAt } : {}) };
  const code = (error as { code?: unknown }).code;
  return error instanceof Error
    ? { kind: 'other', name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) }
    : { kind: 'other', name: 'Error', message: String(error) };
};

export const fromCrossing = (error: CrossingError): Error => {
  switch (error.kind) {
    case 'wrong-expected-revision':
      return new WrongExpectedRevision(error.streamName, error.expected, error.actual);
    case 'event-id-conflict':
      return new EventIdConflict(error.eventId, error.streamName, error.storedAt);
    case 'other':
      return Object.assign(new Error(error.message), { name: error.name, ...(error.code ? { code: error.code } : {}) });
    default: {
      const unknown: never = error;
      return new Error(`Unknown error from the writer thread: ${JSON.stringify(unknown)}`);
    }
  }
};

export class AppendThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (outcomes: AppendOutcome[]) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(private readonly data: AppendThreadData) {}

  /** Write a batch of appends in one transaction on the writer thread: one outcome per append, in order. */
  write(requests: readonly WriteRequest[]): Promise<AppendOutcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    if (this.waiting.size === 0) worker.ref();
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, requests });
    });
  }

  /** Close the thread's connection and end it; the writes in flight are answered first. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failure ??= new Error('The event store is closed.');
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = startWorker(compiledModule(new URL('./appendWorker.js', import.meta.url)), { workerData: this.data });
    worker.on('message', (answer: WriterAnswer) => this.answered(answer));
    const lost = (error: Error): void => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error) => lost(new Error(`The event store's writer thread failed: ${error.message}`)));
    worker.on('exit', (code) => lost(new Error(`The event store's writer thread exited (${code}).`)));
    return worker;
  }

  private answered(answer: WriterAnswer): void {
    const waiter = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (waiter === undefined) return;
    if ('failure' in answer) return waiter.reject(fromCrossing(answer.failure));
    waiter.resolve(answer.outcomes.map((outcome): AppendOutcome => (outcome.accepted ? outcome : { accepted: false, error: fromCrossing(outcome.error) })));
  }
}
