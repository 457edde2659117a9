/**
 * Send one command through the one way in, and answer it: the handler decides and records, the
 * metrics count it, one log line tells what happened (tenant, session, command, outcome, reason,
 * latency, duplicate), and the reply is built from the outcome alone.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallParkCommand } from '../../domain/commands.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { CommandOutcome } from '../commands/commandHandler.js';
import { answerFor } from './commandAnswer.js';
import { POSITION_HEADER, positionToken } from './readYourWrites.js';
import type { HttpDependencies } from './dependencies.js';
import { REPLAYED_HEADER, replayFits } from './idempotency.js';
import { ProblemError, problems } from './problem.js';

const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The session a command was about: the one its events name, else the one a park would start. */
const sessionOf = (command: CallParkCommand, events: readonly CallParkEvent[]): string | undefined => {
  for (const event of events) if ('sessionId' in event) return event.sessionId;
  return 'sessionId' in command && command.type !== 'ParkCall' ? command.sessionId : undefined;
};

const runCommand = async (dependencies: HttpDependencies, request: FastifyRequest, command: CallParkCommand): Promise<CommandOutcome> => {
  const started = performance.now();
  const base = { tenant: command.tenantId, command: command.type, commandId: command.commandId };
  try {
    const outcome = await dependencies.handler.handle(command);
    const seconds = (performance.now() - started) / 1000;
    const reason = outcome.rejection?.reason;
    dependencies.metrics.recordCommand(command, outcome.duplicate ? 'duplicate' : outcome.kind, seconds, { ...(reason ? { reason } : {}), events: outcome.events });
    const session = sessionOf(command, outcome.events);
    request.log.info(
      { ...base, ...(session ? { session } : {}), outcome: outcome.kind, ...(reason ? { reason } : {}), latencyMs: Math.round(seconds * 1e6) / 1e3, duplicate: outcome.duplicate },
      'command',
    );
    return outcome;
  } catch (error) {
    const seconds = (performance.now() - started) / 1000;
    dependencies.metrics.recordCommand(command, 'error', seconds);
    request.log.error({ ...base, outcome: 'error', latencyMs: Math.round(seconds * 1e6) / 1e3, duplicate: false, err: error }, 'command');
    throw error;
  }
};

export const sendCommand = async (dependencies: HttpDependencies, request: FastifyRequest, reply: FastifyReply, command: CallParkCommand): Promise<FastifyReply> => {
  const outcome = await runCommand(dependencies, request, command);
  if (outcome.duplicate && !replayFits(command, outcome.events)) throw new ProblemError(problems.idempotencyKeyReused(command.commandId));
  const answer = answerFor(command, outcome, dependencies.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  reply.code(answer.status).headers(answer.headers);
  if (outcome.duplicate) reply.header(REPLAYED_HEADER, 'true');
  if (outcome.position !== undefined) reply.header(POSITION_HEADER, positionToken(outcome.position));
  return reply.send(answer.body);
};
