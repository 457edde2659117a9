/**
 * `npm run openapi [file]`: the service's OpenAPI document, as /openapi.json serves it, written to
 * a file (or standard output) without a running service: the service starts in this process on an
 * ephemeral port over an empty temporary data folder, is asked, and stops.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { startService } from './service.js';

const main = async (file: string | undefined): Promise<void> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpark-openapi-'));
  try {
    const service = await startService(loadConfig({ CALLPARK_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }), { logger: pino({ level: 'silent' }) });
    try {
      const response = await service.http.inject({ method: 'GET', url: '/openapi.json' });
      if (response.statusCode !== 200) throw new Error(`/openapi.json answered ${response.statusCode}`);
      const text = `${JSON.stringify(response.json(), null, 2)}\n`;
      if (file === undefined) process.stdout.write(text);
      else await writeFile(file, text);
    } finally {
      await service.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
};

main(process.argv[2]).catch((error: unknown) => {
  console.error(`openapi: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
