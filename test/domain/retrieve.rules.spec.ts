import { describe, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import { defaultCapabilities, endpoints } from '../../domain/endpoint.js';
import type { RetrievalRejected, Retrieved } from '../../domain/events.js';
import { defaultSettings } from '../../domain/parkPolicy.js';
import { specificationFor } from '../support/deciderSpecification.js';
import { TENANT, alice, at, bob, carol, granted, on, parkAllowed, parkedEvent, policyCreated, retrieveCommand, retriever } from '../support/callParkFixtures.js';

const { given } = specificationFor(callParkDecider);
const parkedOn42 = [parkAllowed(), parkedEvent({ orbit: 42 })];

const retrievedBy = (who: { userId: string; endpoint: Retrieved['retriever']['endpoint'] }, over: Partial<Retrieved> = {}): Retrieved => ({
  type: 'Retrieved',
  tenantId: TENANT,
  policy: 'Global',
  sessionId: 'session-1',
  callId: 'call-1',
  orbit: 42,
  orbitCode: '42',
  parker: alice,
  at: at(10),
  retriever: who,
  via: 'orbit',
  parkedAt: at(0),
  ...over,
});

const refusedRetrieval = (reason: RetrievalRejected['reason'], over: Partial<RetrievalRejected> = {}): RetrievalRejected => ({
  type: 'RetrievalRejected',
  tenantId: TENANT,
  orbitCode: '42',
  retriever: retriever(bob),
  reason,
  at: at(10),
  policy: 'Global',
  ...over,
});

describe('retrieving a parked call', () => {
  it('someone else picks the call up by its orbit', () => {
    given(parkedOn42).when(retrieveCommand('42', retriever(bob))).then([retrievedBy(bob)]);
  });

  it('the parker may pick up their own call', () => {
    given(parkedOn42).when(retrieveCommand('42', retriever(alice))).then([retrievedBy(alice)]);
  });

  it('records the retriever’s own dialog when the signaling tier gives it', () => {
    given(parkedOn42).when(retrieveCommand('42', retriever(bob), 10, { retrieverCallId: 'invite-9' })).then([retrievedBy(bob, { retrieverCallId: 'invite-9' })]);
  });

  it('answers no-call-on-orbit for an empty orbit of the policy, and records the refusal', () => {
    given([parkAllowed()]).when(retrieveCommand('42', retriever(bob))).thenRejects('no-call-on-orbit', refusedRetrieval('no-call-on-orbit'));
  });

  it('refuses federated users, from any endpoint', () => {
    given(parkedOn42).when(retrieveCommand('42', retriever(bob, true))).thenRejects('federated-user', refusedRetrieval('federated-user', { retriever: retriever(bob, true) }));
  });

  it('accepts a Lync orbit code with or without its prefix', () => {
    const lync = { pickupRangeStart: 3000, pickupRangeEnd: 3999, orbitPrefix: '*' as const };
    const settings = { ...defaultSettings, allowCallPark: true, ...lync };
    const history = [parkAllowed(lync), parkedEvent({ orbit: 3012, orbitCode: '*3012', settings })];
    given(history).when(retrieveCommand('*3012', retriever(bob))).then([retrievedBy(bob, { orbit: 3012, orbitCode: '*3012' })]);
    given(history).when(retrieveCommand('3012', retriever(bob))).then([retrievedBy(bob, { orbit: 3012, orbitCode: '*3012' })]);
    given(history).when(retrieveCommand('#3012', retriever(bob))).thenRejects('no-call-on-orbit');
  });

  it('refuses something that is no orbit code', () => {
    given(parkedOn42).when(retrieveCommand('4 2', retriever(bob))).thenRejects('invalid-orbit-code');
  });

  describe('the endpoint matrix, retrieve column', () => {
    it.each(endpoints.map((endpoint) => [endpoint, defaultCapabilities[endpoint].retrieve] as const))('%s may retrieve: %s', (endpoint, mayRetrieve) => {
      const spec = given(parkedOn42).when(retrieveCommand('42', retriever(on(bob, endpoint))));
      if (mayRetrieve) spec.then([retrievedBy(on(bob, endpoint))]);
      else spec.thenRejects('endpoint-cannot-retrieve', refusedRetrieval('endpoint-cannot-retrieve', { retriever: retriever(on(bob, endpoint)) }));
    });
  });

  describe('across policies (users granted different policies cannot pick up each other’s calls)', () => {
    const sales = policyCreated('Sales', { allowCallPark: true, pickupRangeStart: 500, pickupRangeEnd: 599 });
    const support = policyCreated('Support', { allowCallPark: true });

    it('refuses an orbit parked in another policy’s namespace', () => {
      const history = [sales, support, granted(alice.userId, 'Support'), granted(carol.userId, 'Sales'), parkedEvent({ orbit: 10, policy: 'Support', settings: support.settings })];
      given(history)
        .when(retrieveCommand('10', retriever(carol)))
        .thenRejects('orbit-outside-your-policy', refusedRetrieval('orbit-outside-your-policy', { orbitCode: '10', retriever: retriever(carol), policy: 'Sales' }));
    });

    it('refuses an orbit outside the retriever’s range', () => {
      given([sales, granted(carol.userId, 'Sales')]).when(retrieveCommand('42', retriever(carol))).thenRejects('orbit-outside-your-policy');
    });

    it('refuses when the retriever’s policy has call park turned off', () => {
      given([...parkedOn42, policyCreated('Lobby'), granted(bob.userId, 'Lobby')]).when(retrieveCommand('42', retriever(bob))).thenRejects('call-park-not-allowed');
    });
  });

  it('a retrieved call is gone: the next retrieval of its orbit is told so (I2)', () => {
    given([...parkedOn42, retrievedBy(bob)]).when(retrieveCommand('42', retriever(carol), 11)).thenRejects('no-call-on-orbit');
  });
});
