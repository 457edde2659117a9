/**
 * `npm start`: the service on its configuration (embedded defaults when nothing is set).
 * A wrong variable stops it at once with a message naming the variable and what it expected.
 * SIGTERM or SIGINT: stop accepting, finish what is in flight, close the stores, exit.
 */
import { ConfigurationError, loadConfig } from '../config/config.js';
import { startService } from './service.js';

const EXIT_CONFIGURATION = 78;

/** A listen address the service cannot have, said as a configuration error: one line, naming the variables. */
const listenProblem = (error: unknown, config: { readonly host: string; readonly port: number }): string | undefined => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return `PORT: ${where} is in use by another process; stop it or choose another PORT (or HOST).`;
  if (code === 'EACCES') return `PORT: this user may not listen on ${where}; choose a PORT above 1023.`;
  if (code === 'EADDRNOTAVAIL') return `HOST: ${config.host} is not an address of this machine; choose another HOST (0.0.0.0 for all).`;
  return undefined;
};

const main = async (): Promise<void> => {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(`callpark cannot start. ${error.message}`);
      process.exit(EXIT_CONFIGURATION);
    }
    throw error;
  }
  let service;
  try {
    service = await startService(config);
  } catch (error) {
    const problem = listenProblem(error, config);
    if (problem === undefined) throw error;
    console.error(`callpark cannot start. ${problem}`);
    process.exit(EXIT_CONFIGURATION);
  }
  if (service.adminTokenFile) {
    service.logger.info(
      { adminTokenFile: service.adminTokenFile },
      `Try it: curl -H "Authorization: Bearer $(cat ${service.adminTokenFile})" ${service.url.replace('0.0.0.0', '127.0.0.1')}/v1/tenants/contoso/policies`,
    );
  }
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      service.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    const deadline = setTimeout(() => {
      service.logger.error({ graceMillis: config.shutdownGraceMillis }, 'shutdown took longer than the grace period: exiting');
      process.exit(1);
    }, config.shutdownGraceMillis);
    deadline.unref();
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
};

main().catch((error: unknown) => {
  console.error('callpark failed to start:', error);
  process.exit(1);
});
