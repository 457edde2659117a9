/**
 * Words for tests about call park: people, endpoints, instants, and the commands and events of
 * DOMAIN.md written out by hand, so a test says what the rule says rather than what the code does.
 */
import type {
  CallerHungUp,
  GrantPolicy,
  NewPolicy,
  ParkCall,
  Party,
  RetrieveCall,
  Retriever,
  RingBackAnswered,
  RingBackDue,
  RingBackFailed,
  SetPolicy,
} from '../../domain/commands.js';
import type { Endpoint } from '../../domain/endpoint.js';
import type { Parked, PolicyCreated, PolicyGranted, PolicySettingsChanged } from '../../domain/events.js';
import { defaultSettings, type PolicySettings, type PolicySettingsChange } from '../../domain/parkPolicy.js';

export const TENANT = 'contoso';
export const T0 = Date.parse('2026-11-22T09:00:00.000Z');
/** The instant `seconds` after T0. */
export const at = (seconds: number): number => T0 + seconds * 1000;

let counter = 0;
export const nextId = (prefix: string): string => `${prefix}-${++counter}`;

export const alice: Party = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' };
export const bob: Party = { userId: 'bob@contoso.com', endpoint: 'teams-desktop' };
export const carol: Party = { userId: 'carol@contoso.com', endpoint: 'lync-2013' };
export const retriever = (party: Party, federated = false): Retriever => ({ ...party, federated });
export const on = (party: Party, endpoint: Endpoint): Party => ({ ...party, endpoint });

/** The Global policy with call park turned on (the seed's Set-CsTeamsCallParkPolicy -Identity Global -AllowCallPark $true). */
export const parkAllowed = (change: PolicySettingsChange = {}, seconds = -100): PolicySettingsChanged => {
  const settings = { ...defaultSettings, allowCallPark: true, ...change };
  const changed = (Object.keys(settings) as (keyof PolicySettings)[]).filter((key) => settings[key] !== defaultSettings[key]);
  return { type: 'PolicySettingsChanged', tenantId: TENANT, policy: 'Global', settings, changed, at: at(seconds) };
};

export const policyCreated = (policy: string, change: PolicySettingsChange = {}, seconds = -100): PolicyCreated => ({
  type: 'PolicyCreated',
  tenantId: TENANT,
  policy,
  settings: { ...defaultSettings, ...change },
  at: at(seconds),
});

export const granted = (userId: string, policy: string | null, seconds = -90): PolicyGranted => ({ type: 'PolicyGranted', tenantId: TENANT, userId, policy, at: at(seconds) });

export const parkCommand = (over: Partial<ParkCall> & { seconds?: number } = {}): ParkCall => {
  const { seconds = 0, ...rest } = over;
  return {
    type: 'ParkCall',
    commandId: nextId('cmd'),
    at: at(seconds),
    tenantId: TENANT,
    sessionId: 'session-1',
    callId: 'call-1',
    parker: alice,
    media: 'audio',
    random: 0,
    ...rest,
  };
};

/** The Parked event a park on `orbit` records, under `settings`. */
export const parkedEvent = (over: Partial<Parked> & { settings?: PolicySettings; seconds?: number } = {}): Parked => {
  const { seconds = 0, settings = { ...defaultSettings, allowCallPark: true }, ...rest } = over;
  const orbit = rest.orbit ?? 10;
  return {
    type: 'Parked',
    tenantId: TENANT,
    policy: 'Global',
    sessionId: 'session-1',
    callId: 'call-1',
    orbit,
    orbitCode: `${settings.orbitPrefix}${orbit}`,
    parker: alice,
    at: at(seconds),
    media: 'audio',
    directed: false,
    settings,
    ringBackDueAt: at(seconds + settings.parkTimeoutSeconds),
    ...rest,
  };
};

export const retrieveCommand = (orbit: string, who: Retriever, seconds = 10, over: Partial<RetrieveCall> = {}): RetrieveCall => ({
  type: 'RetrieveCall',
  commandId: nextId('cmd'),
  at: at(seconds),
  tenantId: TENANT,
  orbit,
  retriever: who,
  ...over,
});

export const ringBackDueCommand = (seconds: number, attempt = 1, sessionId = 'session-1', callId = 'call-1'): RingBackDue => ({
  type: 'RingBackDue',
  commandId: nextId('timer'),
  at: at(seconds),
  tenantId: TENANT,
  callId,
  sessionId,
  attempt,
});

export const ringBackAnsweredCommand = (seconds: number, callId = 'call-1'): RingBackAnswered => ({
  type: 'RingBackAnswered',
  commandId: nextId('cmd'),
  at: at(seconds),
  tenantId: TENANT,
  callId,
});

export const ringBackFailedCommand = (seconds: number, over: Partial<RingBackFailed> = {}): RingBackFailed => ({
  type: 'RingBackFailed',
  commandId: nextId('cmd'),
  at: at(seconds),
  tenantId: TENANT,
  callId: 'call-1',
  cause: 'busy',
  ...over,
});

export const hangUpCommand = (seconds: number, callId = 'call-1'): CallerHungUp => ({ type: 'CallerHungUp', commandId: nextId('cmd'), at: at(seconds), tenantId: TENANT, callId });

export const newPolicyCommand = (policy: string, settings: PolicySettingsChange = {}, seconds = 0): NewPolicy => ({
  type: 'NewPolicy',
  commandId: nextId('admin'),
  at: at(seconds),
  tenantId: TENANT,
  policy,
  settings,
});

export const setPolicyCommand = (policy: string, settings: PolicySettingsChange, seconds = 0): SetPolicy => ({
  type: 'SetPolicy',
  commandId: nextId('admin'),
  at: at(seconds),
  tenantId: TENANT,
  policy,
  settings,
});

export const grantCommand = (userId: string, policy: string | null, seconds = 0): GrantPolicy => ({
  type: 'GrantPolicy',
  commandId: nextId('admin'),
  at: at(seconds),
  tenantId: TENANT,
  userId,
  policy,
});
