/**
 * The tenant batcher: the lanes of one tenant sent during one turn go to the handler as one call,
 * each lane answered with its own commands' outcomes, and a failure reaches every lane of the call.
 */
import { describe, expect, it } from 'vitest';
import type { CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { TenantBatcher } from '../../adapters/kafka/tenantBatcher.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { hangUpCommand } from '../support/callParkFixtures.js';

const outcomeOf = (command: CallParkCommand): CommandOutcome => ({ kind: 'no-op', events: [], duplicate: false, attempts: 1, rejection: { reason: 'call-not-parked', message: command.commandId } });

const recordingHandler = () => {
  const calls: { tenantId: string; commandIds: string[] }[] = [];
  return {
    calls,
    handleBatch: async (tenantId: string, commands: readonly CallParkCommand[]) => {
      calls.push({ tenantId, commandIds: commands.map((command) => command.commandId) });
      return commands.map(outcomeOf);
    },
  };
};

describe('the tenant batcher', () => {
  it("sends one tenant's lanes of one turn in one call, and answers each lane with its own outcomes", async () => {
    const handler = recordingHandler();
    const batcher = new TenantBatcher(handler.handleBatch);
    const first = [hangUpCommand(1, 'a'), hangUpCommand(2, 'a')];
    const second = [hangUpCommand(3, 'b')];
    const other = [{ ...hangUpCommand(4, 'c'), tenantId: 'fabrikam' }];
    const [one, two, three] = await Promise.all([batcher.submit('contoso', first), batcher.submit('contoso', second), batcher.submit('fabrikam', other)]);
    expect(handler.calls).toEqual([
      { tenantId: 'contoso', commandIds: [...first, ...second].map((command) => command.commandId) },
      { tenantId: 'fabrikam', commandIds: other.map((command) => command.commandId) },
    ]);
    expect(one!.map((outcome) => outcome.rejection?.message)).toEqual(first.map((command) => command.commandId));
    expect(two!.map((outcome) => outcome.rejection?.message)).toEqual(second.map((command) => command.commandId));
    expect(three!.map((outcome) => outcome.rejection?.message)).toEqual(other.map((command) => command.commandId));
  });

  it('sends what comes in a later turn in a call of its own', async () => {
    const handler = recordingHandler();
    const batcher = new TenantBatcher(handler.handleBatch);
    await batcher.submit('contoso', [hangUpCommand(1, 'a')]);
    await batcher.submit('contoso', [hangUpCommand(2, 'b')]);
    expect(handler.calls).toHaveLength(2);
  });

  it("fails every lane of a call that fails, and only those", async () => {
    const batcher = new TenantBatcher(async (tenantId, commands) => {
      if (tenantId === 'contoso') throw new Error('the store is down');
      return commands.map(outcomeOf);
    });
    const results = await Promise.allSettled([
      batcher.submit('contoso', [hangUpCommand(1, 'a')]),
      batcher.submit('contoso', [hangUpCommand(2, 'b')]),
      batcher.submit('fabrikam', [{ ...hangUpCommand(3, 'c'), tenantId: 'fabrikam' }]),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });
});
