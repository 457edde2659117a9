/** `npm run simulate` with no flags finds the service and its token as the callpark command does. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, parseOptions, withToken, type SimulatorOptions } from '../../adapters/simulator/options.js';
import { removeDir, tempDataDir } from '../support/serviceProcess.js';

const parsed = (argv: string[], env: Record<string, string>): SimulatorOptions => {
  const options = parseOptions(argv, env);
  if (options === 'help') throw new Error('help');
  return options;
};

describe('the simulator finds the service', () => {
  it('sends over HTTP to the local service on PORT, or to CALLPARK_URL, when not told where', () => {
    expect(parsed([], {}).target).toEqual({ kind: 'http', url: 'http://127.0.0.1:8080' });
    expect(parsed([], { PORT: '9090' }).target).toEqual({ kind: 'http', url: 'http://127.0.0.1:9090' });
    expect(parsed(['--park-timeout', '10'], { CALLPARK_URL: 'http://callpark.internal:8080/' })).toMatchObject({
      target: { kind: 'http', url: 'http://callpark.internal:8080' },
      adminUrl: 'http://callpark.internal:8080',
      enablePark: true,
      parkTimeoutSeconds: 10,
    });
  });

  it('takes the token from --token, CALLPARK_TOKEN, or the admin-token file under CALLPARK_DATA_DIR', async () => {
    const dataDir = await tempDataDir();
    try {
      await writeFile(join(dataDir, 'admin-token'), 'from-the-file-0123456789\n');
      const env = { CALLPARK_DATA_DIR: dataDir };
      expect((await withToken(parsed([], env), env)).token).toBe('from-the-file-0123456789');
      expect((await withToken(parsed([], { ...env, CALLPARK_TOKEN: 'from-env' }), { ...env, CALLPARK_TOKEN: 'from-env' })).token).toBe('from-env');
      expect((await withToken(parsed(['--token', 'from-flag'], env), env)).token).toBe('from-flag');
    } finally {
      await removeDir(dataDir);
    }
  });

  it('says where it looked when there is no token', async () => {
    const dataDir = await tempDataDir();
    try {
      const env = { CALLPARK_DATA_DIR: dataDir };
      await expect(withToken(parsed([], env), env)).rejects.toThrow(UsageError);
      await expect(withToken(parsed([], env), env)).rejects.toThrow(join(dataDir, 'admin-token'));
      // Over Kafka without enabling call park no token is needed.
      const kafka = { KAFKA_BROKERS: '127.0.0.1:9092', ...env };
      expect((await withToken(parsed(['--kafka'], kafka), kafka)).token).toBeUndefined();
    } finally {
      await removeDir(dataDir);
    }
  });
});
