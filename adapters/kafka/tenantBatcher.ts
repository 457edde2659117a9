/**
 * One handler call per tenant per turn of the event loop. The partitions' batches are handled at
 * the same time, and a tenant's calls are spread over every partition (records are keyed by
 * Call-ID), so each batch has a lane for most tenants. The handler takes a tenant's calls one at
 * a time: lanes sent to it separately would queue behind each other, each waiting for the
 * previous one's append to be committed, one store transaction after another. Instead the lanes
 * of one tenant submitted during one turn are decided together, in one `handleBatch`, each lane
 * answered with its own commands' outcomes (a lane's commands stay in its order; lanes of
 * different partitions are about different calls, so their relative order does not matter).
 */
import type { CallParkCommand } from '../../domain/commands.js';
import type { CommandOutcome } from '../commands/commandHandler.js';

export type HandleBatch = (tenantId: string, commands: readonly CallParkCommand[]) => Promise<CommandOutcome[]>;

interface Waiting {
  readonly from: number;
  readonly to: number;
  readonly resolve: (outcomes: CommandOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Gathering {
  readonly commands: CallParkCommand[];
  readonly waiting: Waiting[];
}

export class TenantBatcher {
  private gathering = new Map<string, Gathering>();
  private scheduled = false;

  constructor(private readonly handleBatch: HandleBatch) {}

  /** Decide a lane's commands (all of `tenantId`) with whatever else this tenant is sent during this turn. */
  submit(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    let gathering = this.gathering.get(tenantId);
    if (gathering === undefined) {
      gathering = { commands: [], waiting: [] };
      this.gathering.set(tenantId, gathering);
    }
    const from = gathering.commands.length;
    gathering.commands.push(...commands);
    const to = gathering.commands.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.send);
    }
    return new Promise((resolve, reject) => gathering.waiting.push({ from, to, resolve, reject }));
  }

  private readonly send = (): void => {
    this.scheduled = false;
    const gathered = this.gathering;
    this.gathering = new Map();
    for (const [tenantId, { commands, waiting }] of gathered) {
      this.handleBatch(tenantId, commands).then(
        (outcomes) => {
          for (const lane of waiting) lane.resolve(outcomes.slice(lane.from, lane.to));
        },
        (error: unknown) => {
          for (const lane of waiting) lane.reject(error);
        },
      );
    }
  };
}
