/**
 * The read side on a thread of its own. The service's main thread answers requests and records
 * commands; the projections (ring-back timers, occupancy, audit history, reporting) follow the log on a
 * worker thread (readSideWorker.ts) with their own connections to the stores, so their work (a
 * decode, a fold and table writes for every event) neither slows the main thread nor makes a
 * request wait behind a batch. On a machine with two cores that is the difference between one
 * core doing everything and each doing half.
 *
 * The main thread sees each runner through a `RemoteRunner`: its status (as of the last batch or
 * the last report, at most a second old), its lag, the batches it commits (with their events for
 * whoever listens, like the live occupancy board and the ring-back scheduler), waitFor and
 * catchUp. The scheduler stays on the main thread: it fires its commands through the command
 * handler, and reads the timers' table through the main thread's connection to the read store.
 */
import type { Worker } from 'node:worker_threads';
import type { Position } from '../../domain/eventStore.js';
import { buildName, type Projection } from '../../projections/projection.js';
import type { AppliedBatch, Lag, ProjectionRunner, RunnerStatus } from '../../projections/runner.js';
import { compiledModule, startWorker } from '../runtime/workerModule.js';
import { projectionLease } from '../leases/projectionLeases.js';
import type { FromReadSide, ReadSideWorkerData, StoreSettings, ToReadSide } from './protocol.js';

/** What the service needs of a projection runner, wherever it runs. */
export type RunnerView = Pick<ProjectionRunner, 'build' | 'projection' | 'status' | 'lag' | 'onApplied' | 'waitFor' | 'catchUp'>;

type Listener = (batch: AppliedBatch) => void;

class RemoteRunner implements RunnerView {
  readonly build: string;
  private readonly listeners = new Set<Listener>();
  private current: RunnerStatus;

  constructor(
    readonly projection: Projection,
    private readonly thread: ReadSideThread,
  ) {
    this.build = buildName(projection, '');
    this.current = {
      projection: projection.name,
      build: this.build,
      version: projection.version,
      state: 'idle',
      checkpoint: undefined,
      appliedEvents: 0,
      committedBatches: 0,
      conflicts: 0,
      retries: 0,
      lastCommittedAt: undefined,
      lastError: undefined,
    };
  }

  status(): RunnerStatus {
    return this.current;
  }

  async lag(): Promise<Lag> {
    return (await this.thread.ask({ kind: 'lag', build: this.build })).lag!;
  }

  onApplied(listener: Listener): () => void {
    if (this.listeners.size === 0) this.thread.send({ kind: 'listen', build: this.build });
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async waitFor(position: Position): Promise<void> {
    await this.thread.ask({ kind: 'wait-for', build: this.build, position });
  }

  async catchUp(): Promise<void> {
    await this.thread.ask({ kind: 'catch-up', build: this.build });
  }

  /** The thread's word on this runner. */
  reported(status: RunnerStatus): void {
    this.current = status;
  }

  applied(message: Extract<FromReadSide, { kind: 'applied' }>): void {
    this.current = message.status;
    const batch: AppliedBatch = { projection: this.projection.name, build: this.build, checkpoint: message.checkpoint, events: message.events, committedAt: message.committedAt };
    for (const listener of this.listeners) listener(batch);
  }

  /** The thread is gone: so is the runner. */
  lost(reason: string): void {
    if (this.current.state === 'stopped') return;
    this.current = { ...this.current, state: 'failed', lastError: reason };
  }
}

type Question = { kind: 'lag'; build: string } | { kind: 'wait-for'; build: string; position: Position } | { kind: 'catch-up'; build: string };
type Answer = Extract<FromReadSide, { kind: 'answer' }>;

export class ReadSideThread {
  readonly runners: readonly RemoteRunner[];
  private readonly worker: Worker;
  private readonly questions = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  private nextQuestion = 0;
  private readonly appends = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private gone: string | undefined;
  private leases: readonly string[] = [];
  private readonly leaseListeners = new Set<() => void>();
  private stopping: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;

  private constructor(stores: StoreSettings, projections: readonly Projection[]) {
    const workerData: ReadSideWorkerData = { stores, projections: projections.map((projection) => projection.name), appends: this.appends.buffer as SharedArrayBuffer };
    this.worker = startWorker(compiledModule(new URL('./readSideWorker.js', import.meta.url)), { workerData });
    this.runners = projections.map((projection) => new RemoteRunner(projection, this));
  }

  /** Start the thread and its runners (migrating their tables); rejects with the reason when they cannot start. */
  static async start(stores: StoreSettings, projections: readonly Projection[]): Promise<ReadSideThread> {
    const thread = new ReadSideThread(stores, projections);
    await thread.started();
    return thread;
  }

  private started(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const byBuild = new Map(this.runners.map((runner) => [runner.build, runner]));
      const report = (statuses: readonly RunnerStatus[], leases: readonly string[]): void => {
        for (const status of statuses) byBuild.get(status.build)?.reported(status);
        const changed = leases.length !== this.leases.length || leases.some((lease, index) => lease !== this.leases[index]);
        this.leases = leases;
        if (changed) for (const listener of [...this.leaseListeners]) listener();
      };
      this.worker.on('message', (message: FromReadSide) => {
        switch (message.kind) {
          case 'started':
            report(message.statuses, message.leases);
            return resolve();
          case 'start-failed':
            this.lose(`the read side could not start: ${message.message}`);
            return reject(new Error(`The read side could not start: ${message.message}`));
          case 'applied':
            return byBuild.get(message.build)?.applied(message);
          case 'statuses':
            return report(message.statuses, message.leases);
          case 'answer': {
            const question = this.questions.get(message.id);
            this.questions.delete(message.id);
            if (message.error !== undefined) question?.reject(new Error(message.error));
            else question?.resolve(message);
            return;
          }
          case 'stopped':
            report(message.statuses, message.leases);
            this.onStopped?.();
            return;
          default: {
            const unknown: never = message;
            throw new Error(`Unknown message from the read-side thread: ${JSON.stringify(unknown)}`);
          }
        }
      });
      this.worker.on('error', (error) => {
        this.lose(`the read-side thread failed: ${error.message}`);
        reject(error);
      });
      this.worker.on('exit', (code) => {
        this.lose(`the read-side thread exited (${code})`);
        this.onStopped?.();
        reject(new Error(`The read-side thread exited (${code}) before it started.`));
      });
    });
  }

  /** The projections' leases this instance holds (as of the thread's last report: at once when one is taken or lost, else at most a second old). */
  leasesHeld(): readonly string[] {
    return this.leases;
  }

  /** Call `listener` each time the projections' leases held here change; answers the function that stops the calls. */
  onLeasesChanged(listener: () => void): () => void {
    const own = (): void => listener();
    this.leaseListeners.add(own);
    return () => void this.leaseListeners.delete(own);
  }

  /** Whether this instance runs the runner of `build` (holds its lease). */
  runsHere(build: string): boolean {
    return this.leases.includes(projectionLease(build));
  }

  /** Events were appended: the thread's subscriptions look for them at once. */
  wake(): void {
    Atomics.add(this.appends, 0, 1);
    Atomics.notify(this.appends, 0);
  }

  send(message: ToReadSide): void {
    if (this.gone === undefined) this.worker.postMessage(message);
  }

  ask(question: Question): Promise<Answer> {
    if (this.gone !== undefined) return Promise.reject(new Error(`The read side is not running: ${this.gone}.`));
    const id = ++this.nextQuestion;
    return new Promise<Answer>((resolve, reject) => {
      this.questions.set(id, { resolve, reject });
      this.send({ ...question, id });
    });
  }

  /** Let the runners finish their batches, close the thread's stores, and end the thread. Safe to call twice. */
  stop(): Promise<void> {
    return (this.stopping ??= new Promise<void>((resolve) => {
      if (this.gone !== undefined) return resolve();
      this.onStopped = () => resolve();
      this.send({ kind: 'stop' });
    }).then(() => {
      this.lose('stopped');
    }));
  }

  private lose(reason: string): void {
    if (this.gone !== undefined) return;
    this.gone = reason;
    for (const runner of this.runners) runner.lost(reason);
    for (const question of this.questions.values()) question.reject(new Error(`The read side is not running: ${reason}.`));
    this.questions.clear();
  }
}
