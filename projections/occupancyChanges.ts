/**
 * What an event changes on the occupancy board, for subscribers that already hold a snapshot:
 * an orbit taken (in full), a ring back starting or going unanswered, an orbit freed, or a policy
 * created, changed or removed (after which the board needs the tenant's policies afresh). Each
 * change names the session it is about, so a change that arrives after a newer snapshot (which
 * already shows it, or shows another call on the orbit) changes nothing.
 */
import type { CallParkEvent } from '../domain/events.js';
import type { OrbitOccupancy } from '../domain/occupancy.js';

export type OccupancyChange =
  | { readonly kind: 'parked'; readonly tenantId: string; readonly policy: string; readonly orbit: OrbitOccupancy }
  | {
      readonly kind: 'ringing-back';
      readonly tenantId: string;
      readonly policy: string;
      readonly orbit: number;
      readonly sessionId: string;
      readonly attempt: number;
      readonly unansweredAt: number;
    }
  | {
      readonly kind: 'ring-back-unanswered';
      readonly tenantId: string;
      readonly policy: string;
      readonly orbit: number;
      readonly sessionId: string;
      readonly attempt: number;
      readonly ringBackDueAt: number;
    }
  | { readonly kind: 'freed'; readonly tenantId: string; readonly policy: string; readonly orbit: number; readonly sessionId: string; readonly freedAt: number }
  | { readonly kind: 'policy-changed'; readonly tenantId: string; readonly policy: string };

export const occupancyChange = (event: CallParkEvent): OccupancyChange | undefined => {
  switch (event.type) {
    case 'Parked':
      return {
        kind: 'parked',
        tenantId: event.tenantId,
        policy: event.policy,
        orbit: {
          orbit: event.orbit,
          code: event.orbitCode,
          status: 'parked',
          callId: event.callId,
          sessionId: event.sessionId,
          parkedAt: event.at,
          parkedBy: event.parker,
          ringBackDueAt: event.ringBackDueAt,
          attempt: 0,
        },
      };
    case 'RingBackStarted':
      return { kind: 'ringing-back', tenantId: event.tenantId, policy: event.policy, orbit: event.orbit, sessionId: event.sessionId, attempt: event.attempt, unansweredAt: event.unansweredAt };
    case 'RingBackUnanswered':
      return {
        kind: 'ring-back-unanswered',
        tenantId: event.tenantId,
        policy: event.policy,
        orbit: event.orbit,
        sessionId: event.sessionId,
        attempt: event.attempt,
        ringBackDueAt: event.nextRingBackDueAt,
      };
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return { kind: 'freed', tenantId: event.tenantId, policy: event.policy, orbit: event.orbit, sessionId: event.sessionId, freedAt: event.at };
    case 'PolicyCreated':
    case 'PolicySettingsChanged':
    case 'PolicyRemoved':
      return { kind: 'policy-changed', tenantId: event.tenantId, policy: event.policy };
    case 'ParkRejected':
    case 'RetrievalRejected':
    case 'PolicyGranted':
    case 'EndpointCapabilitiesSet':
    case 'EndpointCapabilitiesReset':
      return undefined;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};
