/**
 * The service's logger: one JSON object a line (pino's own format, for log shippers) unless
 * LOG_FORMAT=pretty asks for pino-pretty's coloured, human-readable lines for a person at a terminal.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export const createLogger = (level: string, format: LogFormat): Logger => {
  const options = { level, base: { service: 'callpark' } };
  // Synchronous, on this thread: every line is written before the process exits, as with JSON.
  return format === 'pretty' ? pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' })) : pino(options);
};
