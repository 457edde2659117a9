/**
 * The scheduler's commands, reported as every other way in reports its own: each one counted in
 * `callpark_commands_total` (and its latency and rejections) with `source="scheduler"`, and one
 * log line per command at `info` (tenant, session, command, outcome, reason, latency, duplicate,
 * and `source: "scheduler"`), as the README promises. A wrapper around the one way in, so the
 * scheduler and the handler stay as they are.
 */
import { performance } from 'node:perf_hooks';
import type { CallParkCommand } from '../../domain/commands.js';
import type { CommandOutcome } from '../commands/commandHandler.js';
import type { Metrics } from '../observability/metrics.js';
import type { CommandPort } from './ringBackScheduler.js';

/** The part of a pino logger the report uses. */
export interface CommandLog {
  info(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

const SOURCE = 'scheduler';
const millis = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

/** `handler`, with each command it is sent counted in `metrics` and logged in `log`. */
export const reportedCommands = (handler: CommandPort, metrics: Pick<Metrics, 'recordCommand'>, log: CommandLog): CommandPort => ({
  handle: async (command: CallParkCommand): Promise<CommandOutcome> => {
    const started = performance.now();
    const base = { tenant: command.tenantId, ...('sessionId' in command && command.sessionId !== undefined ? { session: command.sessionId } : {}), command: command.type, commandId: command.commandId };
    try {
      const outcome = await handler.handle(command);
      const seconds = (performance.now() - started) / 1000;
      const reason = outcome.rejection?.reason;
      metrics.recordCommand(command, outcome.duplicate ? 'duplicate' : outcome.kind, seconds, { ...(reason ? { reason } : {}), events: outcome.events, source: SOURCE });
      log.info({ ...base, outcome: outcome.kind, ...(reason ? { reason } : {}), latencyMs: millis(seconds), duplicate: outcome.duplicate, source: SOURCE }, 'command');
      return outcome;
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      metrics.recordCommand(command, 'error', seconds, { source: SOURCE });
      log.error({ ...base, outcome: 'error', latencyMs: millis(seconds), duplicate: false, source: SOURCE, err: error }, 'command');
      throw error;
    }
  },
});
