/** The whole service, as the composition root wires it: /openapi.json and the routes it serves are the same set. */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapters/config/config.js';
import { registeredRoutes } from '../../adapters/http/server.js';
import { startService, type RunningService } from '../../adapters/app/service.js';
import { removeDir, tempDataDir } from '../support/serviceProcess.js';

describe('the service’s OpenAPI document', () => {
  let dataDir: string;
  let service: RunningService;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    service = await startService(loadConfig({ CALLPARK_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await service.stop();
    await removeDir(dataDir);
  });

  it('describes every route the service serves, and serves every route it describes', async () => {
    const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const served = registeredRoutes(service.http).map(({ method, url }) => `${method} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    expect(new Set(documented)).toEqual(new Set(served));
    expect(documented).toHaveLength(served.length);
    expect(documented).toContain('GET /v1/tenants/{tenantId}/audit/sessions');
    expect(documented).toContain('POST /v1/signaling');
  });
});
