/**
 * What the Kafka bridge needs of a logger: pino's methods with a context object first, so the
 * service's pino logger fits as it is. kafkajs's own log lines are routed into it as well.
 */
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

export interface BridgeLogger {
  debug(context: object, message?: string): void;
  info(context: object, message?: string): void;
  warn(context: object, message?: string): void;
  error(context: object, message?: string): void;
}

/** A logger that says nothing (tests, the simulator). */
export const silentLogger: BridgeLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** kafkajs log lines into the bridge's logger, tagged `library: kafkajs` with their namespace. */
export const kafkajsLogCreator =
  (logger: BridgeLogger): logCreator =>
  () =>
  ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...extra } = log as LogEntry['log'] & { logger?: string };
    const context = { library: 'kafkajs', namespace, ...extra };
    switch (level) {
      case logLevel.ERROR:
        return logger.error(context, message);
      case logLevel.WARN:
        return logger.warn(context, message);
      case logLevel.INFO:
        return logger.info(context, message);
      default:
        return logger.debug(context, message);
    }
  };

/** An error's message, for log lines and status reports. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
