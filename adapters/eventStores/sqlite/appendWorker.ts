/**
 * The writer thread of the SQLite event store (see appendThread.ts): its own connection to the
 * file, with the same pragmas. Each message is one group commit of the caller's; the messages that
 * queued up while the last transaction was being committed are written together, in order, by the
 * AppendWriter in one transaction, and each is answered with one outcome per append.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { AppendThreadData, CrossingOutcome, WriterAnswer } from './appendThread.js';
import { toCrossing } from './appendThread.js';
import { AppendWriter, type WriteRequest } from './appendWriter.js';
import { openConnection } from './connection.js';

type WriterMessage = { readonly id: number; readonly requests: WriteRequest[] } | 'close';

const port = parentPort!;
const { path, options } = workerData as AppendThreadData;
const db = openConnection(path, options);
const writer = new AppendWriter(db);

const write = (batches: readonly Exclude<WriterMessage, 'close'>[]): void => {
  let answers: WriterAnswer[];
  try {
    const outcomes = writer.write(batches.flatMap((batch) => batch.requests));
    let next = 0;
    answers = batches.map(({ id, requests }) => ({
      id,
      outcomes: outcomes.slice(next, (next += requests.length)).map((outcome): CrossingOutcome => (outcome.accepted ? outcome : { accepted: false, error: toCrossing(outcome.error) })),
    }));
  } catch (error) {
    const failure = toCrossing(error);
    answers = batches.map(({ id }) => ({ id, failure }));
  }
  for (const answer of answers) port.postMessage(answer);
};

port.on('message', (first: WriterMessage) => {
  const batches: Exclude<WriterMessage, 'close'>[] = [];
  let closing = false;
  for (let message: WriterMessage | undefined = first; message !== undefined; message = receiveMessageOnPort(port)?.message as WriterMessage | undefined) {
    if (message === 'close') {
      closing = true;
      break;
    }
    batches.push(message);
  }
  if (batches.length > 0) write(batches);
  if (closing) {
    db.close();
    port.close();
  }
});
