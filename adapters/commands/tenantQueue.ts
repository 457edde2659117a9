/**
 * Per-tenant queueing and batching. A tenant's work is taken one piece at a time in this process
 * (its stream is the consistency boundary, ADR 0001): a command that arrives while the tenant is
 * idle goes at once; those that arrive while it is busy wait together, and go next as one batch
 * (recorded by one append), so a busy tenant pays for one commit per batch rather than one per
 * command. A batch that fails for any reason but other writers (one command the store refuses,
 * say) is taken again one command at a time, so that the failure is that command's alone.
 */
import { ConcurrencyExhausted } from './commandOutcome.js';

interface Waiting<C, O> {
  readonly commands: C[];
  readonly answers: { resolve: (outcome: O) => void; reject: (error: unknown) => void }[];
}

export class TenantQueue<C extends { readonly tenantId: string }, O> {
  /** Per tenant with work queued or under way: the end of its queue, and how many pieces are in it. */
  private readonly queues = new Map<string, { tail: Promise<unknown>; pending: number }>();
  /** Per tenant, the commands that arrived while it was busy: they go next, together. */
  private readonly waiting = new Map<string, Waiting<C, O>>();

  /** @param record decides and records commands of one tenant, in order, one outcome each. */
  constructor(private readonly record: (tenantId: string, commands: readonly C[]) => Promise<O[]>) {}

  /** A command: at once when its tenant is idle, else with the others that wait for it. */
  submit(command: C): Promise<O> {
    const { tenantId } = command;
    if (!this.queues.has(tenantId)) return this.exclusive(tenantId, async () => (await this.record(tenantId, [command]))[0]!);
    let waiting = this.waiting.get(tenantId);
    if (waiting === undefined) {
      const batch: Waiting<C, O> = { commands: [], answers: [] };
      this.waiting.set(tenantId, batch);
      void this.serialized(tenantId, () => this.recordWaiting(tenantId, batch));
      waiting = batch;
    }
    const joined = waiting;
    return new Promise<O>((resolve, reject) => {
      joined.commands.push(command);
      joined.answers.push({ resolve, reject });
    });
  }

  /** Run `work` alone for the tenant, after everything queued before it; commands sent after it wait for it. */
  exclusive<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    this.waiting.delete(tenantId);
    return this.serialized(tenantId, work);
  }

  private async recordWaiting(tenantId: string, batch: Waiting<C, O>): Promise<void> {
    if (this.waiting.get(tenantId) === batch) this.waiting.delete(tenantId);
    const { commands, answers } = batch;
    if (commands.length > 1) {
      try {
        const outcomes = await this.record(tenantId, commands);
        outcomes.forEach((outcome, index) => answers[index]!.resolve(outcome));
        return;
      } catch (error) {
        if (error instanceof ConcurrencyExhausted) {
          for (const answer of answers) answer.reject(error);
          return;
        }
      }
    }
    for (const [index, command] of commands.entries()) {
      await this.record(tenantId, [command]).then((outcomes) => answers[index]!.resolve(outcomes[0]!), answers[index]!.reject);
    }
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
}
