/**
 * A tenant holding 10,000 parked calls on the EventStoreDB protocol stand-in (default 1 MiB
 * maximum append size, enforced as the server does): its parks (sent as they would arrive, so
 * the handler batches them), retrievals, and cold loads (a new handler answering a query: its
 * snapshot of 10,000 calls, in parts, and the events after it). Counted: every append or snapshot
 * the store refused (the target is none). The stand-in is not EventStoreDB: these figures are the
 * client's, the adapter's and the handler's, not the server's.
 */
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { connectEventStoreDb } from '../../adapters/eventStores/eventStoreDb/eventStoreDbEventStore.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { startEsdbProtocolStandIn } from '../esdbProtocolStandIn/standInServer.js';
import type { BenchSuite, CaseResult } from './harness.js';

const HELD = Number(process.env['BENCH_ESDB_HELD'] ?? 10_000);
const TENANT = 'large';
const T0 = Date.parse('2026-12-07T09:00:00Z');
const SAMPLES = 3;
const RETRIEVALS_PER_SAMPLE = 300;

const suite: BenchSuite = {
  name: `a tenant holding ${HELD.toLocaleString('en-US')} parked calls on the EventStoreDB stand-in`,
  async run() {
    const standIn = await startEsdbProtocolStandIn();
    const store = connectEventStoreDb(standIn.connectionString, { onSubscriptionDropped: () => undefined });
    let refused = 0;
    const appendToStream = store.appendToStream.bind(store);
    store.appendToStream = (...args) => appendToStream(...args).catch((error: unknown) => {
      refused++;
      throw error;
    });
    const snapshotErrors: unknown[] = [];
    let snapshots = 0;
    const handler = new CommandHandler({ store, onSnapshotError: (error) => snapshotErrors.push(error), onSnapshotStored: () => snapshots++ });
    const parkRates: number[] = [];
    const retrievalRates: number[] = [];
    const coldLoads: number[] = [];
    let sessions = 0;
    try {
      // A range holds at most 9,990 orbits: two policies, half of the 500 parkers granted the second.
      const setUp: CallParkCommand[] = [
        { type: 'SetPolicy', commandId: 'policy-global', at: T0, tenantId: TENANT, policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 6999, parkTimeoutSeconds: 1800 } },
        { type: 'NewPolicy', commandId: 'policy-second', at: T0, tenantId: TENANT, policy: 'Second', settings: { allowCallPark: true, orbitPrefix: '*', pickupRangeStart: 1000, pickupRangeEnd: 7999, parkTimeoutSeconds: 1800 } },
        ...Array.from({ length: 250 }, (_, i): CallParkCommand => ({ type: 'GrantPolicy', commandId: `grant-${i}`, at: T0, tenantId: TENANT, userId: `user-${2 * i + 1}@large.example`, policy: 'Second' })),
      ];
      const refusedSetUp = (await handler.handleBatch(TENANT, setUp)).filter((outcome) => outcome.kind !== 'accepted');
      if (refusedSetUp.length > 0) throw new Error(`setting the tenant up was refused: ${JSON.stringify(refusedSetUp[0])}`);
      const park = (n: number): CallParkCommand => ({
        type: 'ParkCall',
        commandId: `park-${n}`,
        at: T0 + 1_000 + n,
        tenantId: TENANT,
        sessionId: `session-${n}`,
        callId: `call-${n}`,
        parker: { userId: `user-${n % 500}@large.example`, endpoint: 'teams-desktop' },
        media: 'audio',
        random: 0,
      });
      // The parks in three samples, each sent at once, as a burst of requests would be.
      // Each held call's orbit, and someone of the same policy to pick it up (a parker of the same parity).
      const orbits: { orbit: string; retriever: string }[] = [];
      const pickerFor = (n: number): string => `user-${((n % 500) + 2) % 500}@large.example`;
      const perSample = Math.ceil(HELD / SAMPLES);
      for (let s = 0; s < SAMPLES; s++) {
        const started = process.hrtime.bigint();
        const from = s * perSample;
        const outcomes = await Promise.all(Array.from({ length: Math.min(perSample, HELD - from) }, (_, i) => handler.handle(park(from + i))));
        parkRates.push(outcomes.length / (Number(process.hrtime.bigint() - started) / 1e9));
        for (const outcome of outcomes) {
          if (outcome.events[0]?.type !== 'Parked') throw new Error(`a park was ${outcome.kind}: ${outcome.rejection?.message ?? ''}`);
          orbits.push({ orbit: outcome.events[0].orbitCode, retriever: pickerFor(from + outcomes.indexOf(outcome)) });
        }
      }
      // Retrievals, one after another, each followed by a park, so the tenant keeps holding as many.
      let next = HELD;
      for (let s = 0; s < SAMPLES; s++) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < RETRIEVALS_PER_SAMPLE; i++) {
          const held = orbits.shift()!;
          const retrieved = await handler.handle({ type: 'RetrieveCall', commandId: `retrieve-${next}`, at: T0 + 100_000 + next, tenantId: TENANT, orbit: held.orbit, retriever: { userId: held.retriever, endpoint: 'teams-desktop', federated: false } });
          if (retrieved.kind !== 'accepted') throw new Error(`retrieval ${next} was ${retrieved.kind}`);
          const parked = await handler.handle(park(next++));
          if (parked.events[0]?.type === 'Parked') orbits.push({ orbit: parked.events[0].orbitCode, retriever: pickerFor(next - 1) });
        }
        retrievalRates.push(RETRIEVALS_PER_SAMPLE / (Number(process.hrtime.bigint() - started) / 1e9));
      }
      for (let s = 0; s < SAMPLES; s++) {
        const started = process.hrtime.bigint();
        sessions = await new CommandHandler({ store }).query(TENANT, (state) => state.sessions.size);
        coldLoads.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    } finally {
      await store.close();
      await standIn.stop();
    }
    const cases: CaseResult[] = [
      { name: `parks, up to ${HELD.toLocaleString('en-US')} held`, unit: 'commands/s', samples: parkRates },
      { name: 'a retrieval and a park, one after another', unit: 'retrievals/s', samples: retrievalRates },
      { name: 'cold load (snapshot in parts + the events after it)', unit: 'ms', samples: coldLoads },
      { name: 'appends and snapshots the store refused', unit: 'refusals', samples: [refused + snapshotErrors.length], target: { of: 'median', atMost: 0 } },
    ];
    if (sessions !== HELD) throw new Error(`a cold load found ${sessions} calls parked, not ${HELD}`);
    return {
      suite: `EventStoreDB stand-in: a tenant holding ${HELD.toLocaleString('en-US')} parked calls`,
      cases,
      notes: [`${snapshots} snapshots of the tenant stored in the run; a cold load found ${sessions.toLocaleString('en-US')} calls parked.`],
    };
  },
};

export default suite;
