/**
 * The bridge killed in the middle of a batch (SIGKILL: no clean shutdown, no last commit), and
 * another one started on the same group and the same files: nothing is lost, nothing is done
 * twice, and every stored event's directives are on the directives topic.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { startBridgeProcess, type BridgeProcess } from './support/bridgeProcesses.js';
import {
  enablePark,
  eventsPerCommand,
  eventually,
  expectedDirectiveIds,
  kafkaBrokers,
  openKafkaFixture,
  requireKafka,
  signal,
  tenantEvents,
  uniqueKafkaConfig,
  uniqueTenant,
  type KafkaFixture,
  type SignalingRecord,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

const TENANTS = 12;
const CALLS_PER_TENANT = 40;

describe.skipIf(!available)('a bridge killed in the middle of a batch', () => {
  let config: KafkaConfig;
  let folder: string;
  const tenants = Array.from({ length: TENANTS }, (_, n) => uniqueTenant(`crash${n}`));
  const processes: BridgeProcess[] = [];
  let client: KafkaFixture | undefined;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'crash');
    folder = await mkdtemp(join(tmpdir(), 'callpark-kafka-crash-'));
  });

  afterAll(async () => {
    await client?.close();
    for (const process of processes) await process.kill('SIGKILL');
    await rm(folder, { recursive: true, force: true });
  });

  it('restarts with no loss and no double effect', async () => {
    // The administrators' part, before any signaling: call park on for every tenant.
    const setup = new SqliteEventStore(join(folder, 'events.db'), { synchronous: 'normal' });
    const handler = new CommandHandler({ store: setup });
    for (const tenant of tenants) await enablePark(handler, tenant);
    await setup.close();

    // A stream waiting for the bridge: each call parked, then hung up (one partition per call).
    const kafka = (client = await openKafkaFixture(config, { topics: { signalingPartitions: 3, directivesPartitions: 3 } }));
    const stream: SignalingRecord[] = [];
    for (let call = 0; call < CALLS_PER_TENANT; call++) {
      for (const tenant of tenants) stream.push(signal.park(tenant, `${tenant}-call-${call}`));
    }
    for (let call = 0; call < CALLS_PER_TENANT; call++) {
      for (const tenant of tenants) stream.push(signal.ended(tenant, `${tenant}-call-${call}`));
    }
    await kafka.signal(stream);

    // No offset commit while it runs: everything the first process handled is delivered again after
    // it dies. A short session, so the group gives up on the dead member in seconds rather than 30.
    // Small fetches (a few dozen records a batch), so that it dies with batches still to come.
    const settings = {
      kafka: config,
      folder,
      consumer: { commitEveryRecords: 1_000_000, commitIntervalMs: 600_000, maxInFlight: 16, maxBytesPerPartition: 8_192, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
    };
    const first = startBridgeProcess(settings);
    processes.push(first);
    const atKill = await first.until((report) => report.handled >= 120, 90_000);
    await first.kill('SIGKILL');
    expect(atKill.handled).toBeLessThan(stream.length);

    const second = startBridgeProcess(settings);
    processes.push(second);
    const store = new SqliteEventStore(join(folder, 'events.db'), { synchronous: 'normal' });
    const reader = await kafka.directives();
    try {
      const commandIds = stream.map((message) => message.eventId);
      await eventually(
        'every signaling record to be stored',
        async () => {
          const counts = await eventsPerCommand(store, tenants);
          return commandIds.every((id) => counts.has(id));
        },
        90_000,
        250,
      );
      // The second process read again what the first had handled but not committed.
      await eventually('the second process to catch up', () => second.latest().handled > 0 && second.latest().duplicates > 0, 30_000);

      // No loss, no double effect: exactly one event per signaling record (Parked, then Abandoned).
      const counts = await eventsPerCommand(store, tenants);
      expect(commandIds.filter((id) => counts.get(id) !== 1)).toEqual([]);
      const types = new Map<string, number>();
      for (const tenant of tenants) for (const event of await tenantEvents(store, tenant)) types.set(event.type, (types.get(event.type) ?? 0) + 1);
      expect(Object.fromEntries(types)).toEqual({ PolicySettingsChanged: TENANTS, Parked: TENANTS * CALLS_PER_TENANT, Abandoned: TENANTS * CALLS_PER_TENANT });

      // Every stored event's directives are published (some perhaps twice, under the same directive id).
      const expected = await expectedDirectiveIds(store, tenants);
      await eventually('every directive to be published', () => reader.directiveIds().size >= expected.size, 60_000, 250);
      expect(reader.directiveIds()).toEqual(expected);
    } finally {
      await second.kill('SIGTERM');
      await store.close();
    }
  });
});
