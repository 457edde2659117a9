/** A pino logger whose lines the test reads, and can wait for. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type LogEntry = Record<string, unknown>;

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: readonly LogEntry[];
  /** The first line, logged already or to come, for which `matches` holds. */
  waitFor(matches: (entry: LogEntry) => boolean): Promise<LogEntry>;
}

export const capturedLogger = (): CapturedLogger => {
  const lines: LogEntry[] = [];
  const waiters: { matches: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        const entry = JSON.parse(text) as LogEntry;
        lines.push(entry);
        for (const waiter of waiters.splice(0)) {
          if (waiter.matches(entry)) waiter.resolve(entry);
          else waiters.push(waiter);
        }
      }
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    lines,
    waitFor: (matches) => {
      const seen = lines.find(matches);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ matches, resolve }));
    },
  };
};
