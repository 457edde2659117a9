/**
 * Administration, mirroring the cmdlets people already know: New-, Set-, Remove- and
 * Grant-CsTeamsCallParkPolicy, and the tenant's override of the endpoint matrix.
 * A change applies to parks that begin after it; a parked call keeps its settings (I5).
 * A command that would change nothing records nothing.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { CallParkState } from './callParkState.js';
import type { GrantPolicy, NewPolicy, RemovePolicy, ResetEndpointCapabilities, SetEndpointCapabilities, SetPolicy } from './commands.js';
import type { Decision } from './parkSession.js';
import { GLOBAL_POLICY, applyChange, changedSettings, defaultSettings, settingProblems, type PolicySettings } from './parkPolicy.js';
import { rejection, type RejectionContext, type RejectionReason } from './rejection.js';

const refuse = (reason: RejectionReason, context: RejectionContext = {}): Decision => E.left(rejection(reason, context));
const nothingToDo: Decision = E.right([]);

const invalid = (settings: PolicySettings): Decision | undefined => {
  const problems = settingProblems(settings);
  return problems.length === 0 ? undefined : refuse('invalid-setting', { detail: problems.map((problem) => problem.message).join(' ') });
};

export const newPolicy = (command: NewPolicy, state: CallParkState): Decision => {
  if (state.policies.has(command.policy)) return refuse('policy-already-exists', { policy: command.policy });
  const settings = applyChange(defaultSettings, command.settings);
  return invalid(settings) ?? E.right([{ type: 'PolicyCreated', tenantId: command.tenantId, policy: command.policy, settings, at: command.at }]);
};

export const setPolicy = (command: SetPolicy, state: CallParkState): Decision => {
  const lot = state.policies.get(command.policy);
  if (lot === undefined) return refuse('policy-not-found', { policy: command.policy });
  const settings = applyChange(lot.settings, command.settings);
  const problem = invalid(settings);
  if (problem) return problem;
  const changed = changedSettings(lot.settings, settings);
  if (changed.length === 0) return nothingToDo;
  return E.right([{ type: 'PolicySettingsChanged', tenantId: command.tenantId, policy: command.policy, settings, changed, at: command.at }]);
};

export const removePolicy = (command: RemovePolicy, state: CallParkState): Decision => {
  const lot = state.policies.get(command.policy);
  if (lot === undefined) return refuse('policy-not-found', { policy: command.policy });
  if (command.policy === GLOBAL_POLICY) {
    // Global cannot go away: removing it puts it back to the defaults, as the cmdlet does.
    if (changedSettings(lot.settings, defaultSettings).length === 0) return nothingToDo;
  } else if (lot.occupied.size > 0) {
    return refuse('policy-has-parked-calls', { policy: command.policy });
  }
  return E.right([{ type: 'PolicyRemoved', tenantId: command.tenantId, policy: command.policy, at: command.at }]);
};

export const grantPolicy = (command: GrantPolicy, state: CallParkState): Decision => {
  const wanted = command.policy === GLOBAL_POLICY ? null : command.policy;
  if (wanted !== null && !state.policies.has(wanted)) return refuse('policy-not-found', { policy: wanted });
  if ((state.grants.get(command.userId) ?? null) === wanted) return nothingToDo;
  return E.right([{ type: 'PolicyGranted', tenantId: command.tenantId, userId: command.userId, policy: wanted, at: command.at }]);
};

export const setEndpointCapabilities = (command: SetEndpointCapabilities, state: CallParkState): Decision => {
  const current = state.endpointOverrides.get(command.endpoint);
  const { park, retrieve, ringBack } = command.capabilities;
  if (current && current.park === park && current.retrieve === retrieve && current.ringBack === ringBack) return nothingToDo;
  return E.right([{ type: 'EndpointCapabilitiesSet', tenantId: command.tenantId, endpoint: command.endpoint, capabilities: { park, retrieve, ringBack }, at: command.at }]);
};

export const resetEndpointCapabilities = (command: ResetEndpointCapabilities, state: CallParkState): Decision =>
  state.endpointOverrides.has(command.endpoint)
    ? E.right([{ type: 'EndpointCapabilitiesReset', tenantId: command.tenantId, endpoint: command.endpoint, at: command.at }])
    : nothingToDo;

