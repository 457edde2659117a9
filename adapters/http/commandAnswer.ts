/**
 * The synchronous answer to a command: built from its outcome alone, so a replay of the same
 * command id gets the same status and body as the first answer. A park answers its orbit, session
 * and ring-back due time; a retrieval who got the call; a rejection a problem document with its
 * reason and the status from rejectionStatus.ts; a command that changed nothing `no-op`.
 */
import { Instant } from '../../domain/codec/codec.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { defaultCapabilities } from '../../domain/endpoint.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { PolicySettings } from '../../domain/parkPolicy.js';
import type { CommandOutcome } from '../commands/commandHandler.js';
import { PROBLEM_CONTENT_TYPE, rejectionProblem } from './problem.js';
import { rejectionStatus, retryLater } from './rejectionStatus.js';

export interface Answer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
}

const iso = (millis: number): string => Instant.encode(millis);
const json = { 'content-type': 'application/json; charset=utf-8' };

/** A policy as Get-CsTeamsCallParkPolicy shows it: its identity and every setting. */
export const policyBody = (identity: string, settings: PolicySettings): Record<string, unknown> => ({ identity, ...settings });

const sessionPath = (tenantId: string, sessionId: string): string => `/v1/tenants/${encodeURIComponent(tenantId)}/sessions/${encodeURIComponent(sessionId)}`;
const policyPath = (tenantId: string, policy: string): string => `/v1/tenants/${encodeURIComponent(tenantId)}/policies/${encodeURIComponent(policy)}`;

const orbitOf = (event: { orbit: number; orbitCode: string }) => ({ code: event.orbitCode, number: event.orbit });

/** What the first event a command recorded says, as the answer's status, body and headers. */
const accepted = (commandId: string, event: CallParkEvent): Answer => {
  const ok = (body: Record<string, unknown>, status = 200, headers: Record<string, string> = {}): Answer => ({ status, body: { commandId, ...body }, headers: { ...json, ...headers } });
  switch (event.type) {
    case 'Parked':
      return ok(
        {
          outcome: 'parked',
          sessionId: event.sessionId,
          callId: event.callId,
          policy: event.policy,
          orbit: orbitOf(event),
          directed: event.directed,
          musicOnHold: event.settings.musicOnHold,
          ringBackDueAt: iso(event.ringBackDueAt),
        },
        201,
        { location: sessionPath(event.tenantId, event.sessionId) },
      );
    case 'Retrieved':
      return ok({
        outcome: 'retrieved',
        sessionId: event.sessionId,
        callId: event.callId,
        orbit: orbitOf(event),
        via: event.via,
        retriever: event.retriever,
        parker: event.parker,
        parkedAt: iso(event.parkedAt),
        retrievedAt: iso(event.at),
        ...(event.retrieverCallId === undefined ? {} : { retrieverCallId: event.retrieverCallId }),
      });
    case 'Abandoned':
      return ok({ outcome: 'abandoned', sessionId: event.sessionId, callId: event.callId, orbit: orbitOf(event), phase: event.phase, abandonedAt: iso(event.at) });
    case 'RingBackStarted':
      return ok({
        outcome: 'ringing-back',
        sessionId: event.sessionId,
        callId: event.callId,
        orbit: orbitOf(event),
        attempt: event.attempt,
        unansweredAt: iso(event.unansweredAt),
        ...(event.requestedBy === undefined ? {} : { requestedBy: event.requestedBy }),
      });
    case 'RingBackUnanswered':
      return ok({
        outcome: 'ring-back-unanswered',
        sessionId: event.sessionId,
        callId: event.callId,
        orbit: orbitOf(event),
        attempt: event.attempt,
        cause: event.cause,
        nextRingBackDueAt: iso(event.nextRingBackDueAt),
      });
    case 'Expired':
      return ok({
        outcome: 'expired',
        sessionId: event.sessionId,
        callId: event.callId,
        orbit: orbitOf(event),
        attempts: event.attempts,
        cause: event.cause,
        fallback: event.fallback,
        ...(event.sentBy === undefined ? {} : { sentBy: event.sentBy }),
      });
    case 'PolicyCreated':
      return ok({ outcome: 'created', policy: policyBody(event.policy, event.settings) }, 201, { location: policyPath(event.tenantId, event.policy) });
    case 'PolicySettingsChanged':
      return ok({ outcome: 'changed', changed: event.changed, policy: policyBody(event.policy, event.settings) });
    case 'PolicyRemoved':
      return ok({ outcome: 'removed', identity: event.policy });
    case 'PolicyGranted':
      return ok({ outcome: 'granted', userId: event.userId, policy: event.policy });
    case 'EndpointCapabilitiesSet':
      return ok({ outcome: 'overridden', endpoint: event.endpoint, ...event.capabilities });
    case 'EndpointCapabilitiesReset':
      return ok({ outcome: 'reset', endpoint: event.endpoint, ...defaultCapabilities[event.endpoint] });
    case 'ParkRejected':
    case 'RetrievalRejected':
      // Only ever recorded by a rejection, which answers before this.
      throw new Error(`${event.type} does not record an accepted command.`);
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};

export const answerFor = (command: CallParkCommand, outcome: CommandOutcome, retryAfterSeconds: number): Answer => {
  if (outcome.kind === 'rejected' && outcome.rejection) {
    const { reason, message } = outcome.rejection;
    const status = rejectionStatus[reason];
    return {
      status,
      body: { ...rejectionProblem(reason, status, message), commandId: command.commandId },
      headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...(retryLater.has(reason) ? { 'retry-after': String(retryAfterSeconds) } : {}) },
    };
  }
  const first = outcome.events[0];
  if (outcome.kind === 'no-op' || first === undefined) return { status: 200, body: { commandId: command.commandId, outcome: 'no-op' }, headers: json };
  return accepted(command.commandId, first);
};
