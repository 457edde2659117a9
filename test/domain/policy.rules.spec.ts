import { describe, expect, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import type { RemovePolicy, ResetEndpointCapabilities, SetEndpointCapabilities } from '../../domain/commands.js';
import { defaultSettings, settingRanges } from '../../domain/parkPolicy.js';
import { specificationFor } from '../support/deciderSpecification.js';
import { TENANT, alice, at, granted, grantCommand, newPolicyCommand, parkAllowed, parkedEvent, policyCreated, setPolicyCommand } from '../support/callParkFixtures.js';

const { given } = specificationFor(callParkDecider);

const removeCommand = (policy: string): RemovePolicy => ({ type: 'RemovePolicy', commandId: 'remove-1', at: at(0), tenantId: TENANT, policy });

describe('New-CsTeamsCallParkPolicy', () => {
  it('creates a policy with the defaults for every setting it does not name', () => {
    given([])
      .when(newPolicyCommand('Sales', { allowCallPark: true, pickupRangeStart: 500, pickupRangeEnd: 599 }))
      .then([{ type: 'PolicyCreated', tenantId: TENANT, policy: 'Sales', settings: { ...defaultSettings, allowCallPark: true, pickupRangeStart: 500, pickupRangeEnd: 599 }, at: at(0) }]);
  });

  it('refuses a policy that exists, Global included', () => {
    given([]).when(newPolicyCommand('Global')).thenRejects('policy-already-exists');
    given([policyCreated('Sales')]).when(newPolicyCommand('Sales')).thenRejects('policy-already-exists');
  });
});

describe('every setting’s range', () => {
  const cases = Object.entries(settingRanges).flatMap(([name, { min, max }]) => [
    [name, min, true],
    [name, max, true],
    [name, min - 1, false],
    [name, max + 1, false],
    [name, min + 0.5, false],
  ]) as [keyof typeof settingRanges, number, boolean][];

  it.each(cases)('%s = %s is within its own range: %s', (name, value, accepted) => {
    // Keep the range consistent when the range itself is tested.
    const context = name === 'pickupRangeStart' ? { pickupRangeEnd: 9999 } : name === 'pickupRangeEnd' ? { pickupRangeStart: 10 } : {};
    // A range also needs its start lower than its end: 9999 cannot start one, 10 cannot end one.
    const consistent = name === 'pickupRangeStart' ? value < 9999 : name === 'pickupRangeEnd' ? value > 10 : true;
    const spec = given([]).when(newPolicyCommand('P', { ...context, [name]: value }));
    if (accepted && consistent) {
      spec.then([{ type: 'PolicyCreated', tenantId: TENANT, policy: 'P', settings: { ...defaultSettings, ...context, [name]: value }, at: at(0) }]);
    } else {
      const refusal = spec.thenRejects('invalid-setting');
      expect(refusal.message).toContain(name);
    }
  });

  it('refuses a range whose start is not lower than its end', () => {
    expect(given([]).when(newPolicyCommand('P', { pickupRangeStart: 50, pickupRangeEnd: 50 })).thenRejects('invalid-setting').message).toContain('lower than');
  });

  it('refuses a prefixed (fixed-width) range whose ends differ in width', () => {
    given([]).when(newPolicyCommand('P', { orbitPrefix: '*', pickupRangeStart: 10, pickupRangeEnd: 999 })).thenRejects('invalid-setting');
    given([]).when(newPolicyCommand('P', { orbitPrefix: '*', pickupRangeStart: 3000, pickupRangeEnd: 3999 })).then([
      { type: 'PolicyCreated', tenantId: TENANT, policy: 'P', settings: { ...defaultSettings, orbitPrefix: '*', pickupRangeStart: 3000, pickupRangeEnd: 3999 }, at: at(0) },
    ]);
  });

  it.each([
    ['voicemail', true],
    ['disconnect', true],
    ['sip:reception@contoso.com', true],
    ['tel:+15550100', false],
    ['somewhere', false],
  ] as const)('fallback %s is accepted: %s', (fallback, accepted) => {
    const spec = given([]).when(newPolicyCommand('P', { fallback }));
    if (accepted) spec.then([{ type: 'PolicyCreated', tenantId: TENANT, policy: 'P', settings: { ...defaultSettings, fallback }, at: at(0) }]);
    else spec.thenRejects('invalid-setting');
  });

  it('names every problem at once', () => {
    const refusal = given([]).when(newPolicyCommand('P', { parkTimeoutSeconds: 5, ringBackSeconds: 1000 })).thenRejects('invalid-setting');
    expect(refusal.message).toContain('parkTimeoutSeconds');
    expect(refusal.message).toContain('ringBackSeconds');
  });
});

describe('Set-CsTeamsCallParkPolicy', () => {
  it('changes the named settings, keeps the others, and says which changed', () => {
    given([])
      .when(setPolicyCommand('Global', { allowCallPark: true, parkTimeoutSeconds: 120 }))
      .then([
        {
          type: 'PolicySettingsChanged',
          tenantId: TENANT,
          policy: 'Global',
          settings: { ...defaultSettings, allowCallPark: true, parkTimeoutSeconds: 120 },
          changed: ['allowCallPark', 'parkTimeoutSeconds'],
          at: at(0),
        },
      ]);
  });

  it('records nothing when nothing changes (a retried Set is harmless)', () => {
    given([parkAllowed()]).when(setPolicyCommand('Global', { allowCallPark: true })).thenNothing();
  });

  it('refuses an unknown policy and an out-of-range value', () => {
    given([]).when(setPolicyCommand('Nope', { allowCallPark: true })).thenRejects('policy-not-found');
    given([]).when(setPolicyCommand('Global', { maxRingBackAttempts: 11 })).thenRejects('invalid-setting');
  });
});

describe('Remove-CsTeamsCallParkPolicy', () => {
  it('removes a policy; its users fall back to Global', () => {
    given([policyCreated('Sales'), granted(alice.userId, 'Sales')]).when(removeCommand('Sales')).then([{ type: 'PolicyRemoved', tenantId: TENANT, policy: 'Sales', at: at(0) }]);
  });

  it('refuses to remove a policy that still holds parked calls', () => {
    const sales = policyCreated('Sales', { allowCallPark: true });
    given([sales, granted(alice.userId, 'Sales'), parkedEvent({ policy: 'Sales', settings: sales.settings })]).when(removeCommand('Sales')).thenRejects('policy-has-parked-calls');
  });

  it('puts Global back to its defaults, and does nothing when it already is', () => {
    given([parkAllowed()]).when(removeCommand('Global')).then([{ type: 'PolicyRemoved', tenantId: TENANT, policy: 'Global', at: at(0) }]);
    given([]).when(removeCommand('Global')).thenNothing();
  });

  it('refuses an unknown policy', () => {
    given([]).when(removeCommand('Nope')).thenRejects('policy-not-found');
  });
});

describe('Grant-CsTeamsCallParkPolicy', () => {
  it('grants a policy to a user', () => {
    given([policyCreated('Sales')]).when(grantCommand(alice.userId, 'Sales')).then([{ type: 'PolicyGranted', tenantId: TENANT, userId: alice.userId, policy: 'Sales', at: at(0) }]);
  });

  it('granting Global, or nothing, takes the grant away', () => {
    const history = [policyCreated('Sales'), granted(alice.userId, 'Sales')];
    given(history).when(grantCommand(alice.userId, 'Global')).then([{ type: 'PolicyGranted', tenantId: TENANT, userId: alice.userId, policy: null, at: at(0) }]);
    given(history).when(grantCommand(alice.userId, null)).then([{ type: 'PolicyGranted', tenantId: TENANT, userId: alice.userId, policy: null, at: at(0) }]);
    given([]).when(grantCommand(alice.userId, null)).thenNothing();
  });

  it('refuses an unknown policy and records nothing for a grant already in place', () => {
    given([]).when(grantCommand(alice.userId, 'Nope')).thenRejects('policy-not-found');
    given([policyCreated('Sales'), granted(alice.userId, 'Sales')]).when(grantCommand(alice.userId, 'Sales')).thenNothing();
  });
});

describe('the tenant’s endpoint matrix override', () => {
  const set: SetEndpointCapabilities = {
    type: 'SetEndpointCapabilities',
    commandId: 'o-1',
    at: at(0),
    tenantId: TENANT,
    endpoint: 'mobile',
    capabilities: { park: true, retrieve: true, ringBack: false },
  };
  const reset: ResetEndpointCapabilities = { type: 'ResetEndpointCapabilities', commandId: 'o-2', at: at(1), tenantId: TENANT, endpoint: 'mobile' };
  const recorded = { type: 'EndpointCapabilitiesSet' as const, tenantId: TENANT, endpoint: 'mobile' as const, capabilities: set.capabilities, at: at(0) };

  it('overrides a row, records nothing when it is already so, and resets it', () => {
    given([]).when(set).then([recorded]);
    given([recorded]).when(set).thenNothing();
    given([recorded]).when(reset).then([{ type: 'EndpointCapabilitiesReset', tenantId: TENANT, endpoint: 'mobile', at: at(1) }]);
    given([]).when(reset).thenNothing();
  });
});
