/**
 * The writer thread of the SQLite event store (see appendThread.ts): its own connection to the
 * file, with the same pragmas; each message is one group commit, written by the AppendWriter in
 * one transaction and answered with one outcome per append.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AppendThreadData, CrossingOutcome, WriterAnswer } from './appendThread.js';
import { toCrossing } from './appendThread.js';
import { AppendWriter, type AppendRequest } from './appendWriter.js';
import { openConnection } from './connection.js';

const port = parentPort!;
const { path, options } = workerData as AppendThreadData;
const db = openConnection(path, options);
const writer = new AppendWriter(db);

port.on('message', (message: { id: number; requests: AppendRequest[] } | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  const { id, requests } = message;
  let answer: WriterAnswer;
  try {
    const outcomes = writer.write(requests).map((outcome): CrossingOutcome => (outcome.accepted ? outcome : { accepted: false, error: toCrossing(outcome.error) }));
    answer = { id, outcomes };
  } catch (error) {
    answer = { id, failure: toCrossing(error) };
  }
  port.postMessage(answer);
});
