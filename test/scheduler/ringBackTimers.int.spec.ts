/**
 * The ring-back timers projection: after each event of a session, the one timer it waits for,
 * and none once it has ended; nothing from streams other than call park's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { Parked } from '../../domain/events.js';
import type { ReadStore } from '../../projections/readStore.js';
import { rebuild } from '../../projections/rebuild.js';
import { ringBackTimersProjection, timersDueBetween, type RingBackTimer } from '../../projections/ringBackTimers.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { toStoredForm } from '../../domain/storedForm/storedEvent.js';
import {
  TENANT,
  at,
  bob,
  hangUpCommand,
  parkCommand,
  retrieveCommand,
  retriever,
  ringBackDueCommand,
  ringBackFailedCommand,
  setPolicyCommand,
} from '../support/callParkFixtures.js';
import { quickPolicy } from './schedulerScenarios.js';
import { sqliteDatabase, type ReadStoreDatabase } from './timerWorld.js';

let database: ReadStoreDatabase;
let readStore: ReadStore;
let store: InMemoryEventStore;
let handler: CommandHandler;
let runner: ProjectionRunner;

beforeEach(async () => {
  database = await sqliteDatabase();
  readStore = await database.open();
  store = new InMemoryEventStore();
  handler = new CommandHandler({ store });
  runner = new ProjectionRunner({ eventStore: store, readStore }, ringBackTimersProjection);
});
afterEach(async () => {
  await runner.stop();
  await database.drop();
});

/** The table, without positions (checked on their own), sorted by session. */
const table = async (): Promise<Omit<RingBackTimer, 'position'>[]> =>
  (await timersDueBetween(readStore, undefined, Number.MAX_SAFE_INTEGER, 1_000))
    .map(({ position: _position, ...timer }) => timer)
    .sort((a, b) => a.sessionId.localeCompare(b.sessionId));

const row = (session: number, kind: RingBackTimer['kind'], attempt: number, dueAt: number) => ({
  tenantId: TENANT,
  sessionId: `session-${session}`,
  callId: `call-${session}`,
  kind,
  attempt,
  dueAt,
});

const record = async (...commands: CallParkCommand[]): Promise<void> => {
  for (const command of commands) {
    const outcome = await handler.handle(command);
    expect(outcome.kind, `${command.type}: ${outcome.rejection?.reason ?? ''}`).toBe('accepted');
  }
  await runner.catchUp();
};

const parkSession = (session: number, seconds: number) => parkCommand({ sessionId: `session-${session}`, callId: `call-${session}`, seconds });

describe('the ring-back timers projection', () => {
  beforeEach(async () => {
    await runner.start();
    await record(setPolicyCommand('Global', quickPolicy, -100));
  });

  it('keeps for each parked call the ring back it waits for', async () => {
    await record(parkSession(1, 0), parkSession(2, 1));
    expect(await table()).toEqual([row(1, 'ring-back-due', 1, at(10)), row(2, 'ring-back-due', 1, at(11))]);
  });

  it('waits for a ring back to go unanswered, then for the next one, whoever said it went unanswered', async () => {
    await record(parkSession(1, 0), ringBackDueCommand(10, 1));
    expect(await table()).toEqual([row(1, 'ring-back-unanswered', 1, at(15))]);
    // The parker's endpoint said busy (the signaling tier names only the call).
    await record(ringBackFailedCommand(12, { cause: 'busy' }));
    expect(await table()).toEqual([row(1, 'ring-back-due', 2, at(22))]);
    await record(ringBackDueCommand(22, 2));
    expect(await table()).toEqual([row(1, 'ring-back-unanswered', 2, at(27))]);
  });

  it('holds no timer for a session that was retrieved, abandoned or expired', async () => {
    await record(parkSession(1, 0), parkSession(2, 0), parkSession(3, 0), parkSession(4, 0));
    await record(retrieveCommand('10', retriever(bob), 5));
    await record(hangUpCommand(6, 'call-2'));
    await record(
      ringBackDueCommand(10, 1, 'session-3', 'call-3'),
      ringBackFailedCommand(15, { callId: 'call-3', sessionId: 'session-3', attempt: 1, cause: 'no-answer' }),
      ringBackDueCommand(25, 2, 'session-3', 'call-3'),
      ringBackFailedCommand(30, { callId: 'call-3', sessionId: 'session-3', attempt: 2, cause: 'no-answer' }),
    );
    expect((await table()).map((timer) => timer.sessionId)).toEqual(['session-4']);
  });

  it('remembers the log position of the event that set each timer', async () => {
    await record(parkSession(1, 0));
    const outcome = await handler.handle(ringBackDueCommand(10, 1));
    await runner.catchUp();
    const [timer] = await timersDueBetween(readStore, undefined, Number.MAX_SAFE_INTEGER, 10);
    expect(timer?.position).toBe(outcome.position?.commit);
  });

  it('reads only call park streams', async () => {
    const parked = (await handler.handle(parkSession(1, 0))).events[0]!;
    expect(parked.type).toBe('Parked');
    const stored = toStoredForm({ ...(parked as Parked), sessionId: 'elsewhere' }, { commandId: 'copied' });
    await store.appendToStream('audit-copy-contoso', [{ id: 'copy-1', ...stored }]);
    await runner.catchUp();
    expect((await table()).map((timer) => timer.sessionId)).toEqual(['session-1']);
  });
});

describe('the ring-back timers projection, from a log it reads in one batch', () => {
  it('applies only the last of a session’s events in the batch', async () => {
    await handler.handle(setPolicyCommand('Global', quickPolicy, -100));
    for (const command of [parkSession(1, 0), parkSession(2, 0), retrieveCommand('10', retriever(bob), 5), ringBackDueCommand(10, 1, 'session-2', 'call-2')]) {
      await handler.handle(command);
    }
    await runner.start();
    await runner.catchUp();
    expect(runner.status().committedBatches).toBe(1);
    expect(await table()).toEqual([row(2, 'ring-back-unanswered', 1, at(15))]);
  });

  it('is rebuilt from the log into the same table', async () => {
    await handler.handle(setPolicyCommand('Global', quickPolicy, -100));
    for (let i = 0; i < 30; i++) await handler.handle(parkSession(i, i));
    for (let i = 0; i < 10; i++) await handler.handle(ringBackDueCommand(10 + i, 1, `session-${i}`, `call-${i}`));
    await runner.start();
    await runner.catchUp();
    const before = await timersDueBetween(readStore, undefined, Number.MAX_SAFE_INTEGER, 1_000);
    await rebuild({ eventStore: store, readStore }, ringBackTimersProjection);
    expect(await timersDueBetween(readStore, undefined, Number.MAX_SAFE_INTEGER, 1_000)).toEqual(before);
    expect(before).toHaveLength(30);
  });
});
