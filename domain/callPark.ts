/**
 * The call park decider: one per tenant. Its stream is the consistency boundary for every
 * invariant (docs/adr/0001-consistency-boundaries.md).
 */
import { type CallParkState, evolve, initialState } from './callParkState.js';
import type { CallParkCommand } from './commands.js';
import type { Decider } from './decider.js';
import type { CallParkEvent } from './events.js';
import { grantPolicy, newPolicy, removePolicy, resetEndpointCapabilities, setEndpointCapabilities, setPolicy } from './policyAdministration.js';
import {
  callerHungUp,
  parkCall,
  retrieveCall,
  ringBackAnswered,
  ringBackDue,
  ringBackFailed,
  ringParkerNow,
  sendToFallbackNow,
  type Decision,
  type Refusal,
} from './parkSession.js';

export const decide = (command: CallParkCommand, state: CallParkState): Decision => {
  switch (command.type) {
    case 'ParkCall':
      return parkCall(command, state);
    case 'RetrieveCall':
      return retrieveCall(command, state);
    case 'RingBackDue':
      return ringBackDue(command, state);
    case 'RingBackAnswered':
      return ringBackAnswered(command, state);
    case 'RingBackFailed':
      return ringBackFailed(command, state);
    case 'CallerHungUp':
      return callerHungUp(command, state);
    case 'SendToFallbackNow':
      return sendToFallbackNow(command, state);
    case 'RingParkerNow':
      return ringParkerNow(command, state);
    case 'NewPolicy':
      return newPolicy(command, state);
    case 'SetPolicy':
      return setPolicy(command, state);
    case 'RemovePolicy':
      return removePolicy(command, state);
    case 'GrantPolicy':
      return grantPolicy(command, state);
    case 'SetEndpointCapabilities':
      return setEndpointCapabilities(command, state);
    case 'ResetEndpointCapabilities':
      return resetEndpointCapabilities(command, state);
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
};

export const callParkDecider: Decider<CallParkState, CallParkCommand, CallParkEvent, Refusal> = { decide, evolve, initialState };

/** The stream that holds a tenant's call park. */
export const callParkStreamPrefix = 'callpark-tenant-';
export const callParkStream = (tenantId: string): string => `${callParkStreamPrefix}${tenantId}`;
