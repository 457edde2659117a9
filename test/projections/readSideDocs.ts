/**
 * What the documentation promises, to test: the SQL blocks of docs/reporting.md, and a history
 * of the day those queries look at (2026-11-22, tenant contoso), recorded by the real decider.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import type { EventStore } from '../../domain/eventStore.js';
import { HistoryRecorder, historyArbitrary } from './readSideHistory.js';

/** Every ```sql block of docs/reporting.md, in order. */
export const documentedQueries = async (): Promise<string[]> => {
  const text = await readFile(join(process.cwd(), 'docs', 'reporting.md'), 'utf8');
  return [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => match[1]!.trim().replace(/;$/, ''));
};

/**
 * A fixed history (the same on every run): call-1 parked in contoso and retrieved, then a few
 * hundred random steps across both tenants and several hours of the day.
 */
export const recordDocsHistory = async (store?: EventStore): Promise<HistoryRecorder> => {
  const recorder = new HistoryRecorder(store);
  await recorder.setUp();
  const at = recorder.clock;
  await recorder.send({ type: 'ParkCall', commandId: 'docs-park', at, tenantId: 'contoso', sessionId: 'docs-session', callId: 'call-1', parker: { userId: 'alice@example.test', endpoint: 'teams-desktop' }, media: 'audio', random: 0 });
  await recorder.send({ type: 'RetrieveCall', commandId: 'docs-retrieve', at: at + 4_000, tenantId: 'contoso', orbit: '10', retriever: { userId: 'bob@example.test', endpoint: 'teams-desktop', federated: false } });
  const [steps] = fc.sample(fc.array(historyArbitrary(60), { minLength: 5, maxLength: 5 }), { numRuns: 1, seed: 20261122 });
  for (const part of steps!) await recorder.record(part);
  return recorder;
};
