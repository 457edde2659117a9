/**
 * Start the bridge in a child process (bridgeProcess.ts) and follow its reports. The child runs
 * the TypeScript sources through Vite's module runner (`runnerImport`, the loader Vite uses for
 * its own config files), so a test needs no build step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BridgeProcessReport, BridgeProcessSettings } from './bridgeProcess.js';

const entry = fileURLToPath(new URL('./bridgeProcess.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface BridgeProcess {
  readonly child: ChildProcess;
  /** The latest report (before the first one: nothing handled). */
  latest(): BridgeProcessReport;
  /** Resolves with the first report that satisfies `condition`; rejects when the process exits first. */
  until(condition: (report: BridgeProcessReport) => boolean, timeoutMs?: number): Promise<BridgeProcessReport>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export const startBridgeProcess = (settings: BridgeProcessSettings): BridgeProcess => {
  const script = `const { runnerImport } = await import('vite'); await runnerImport(${JSON.stringify(entry)}, { configFile: false, logLevel: 'error', root: ${JSON.stringify(root)} });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, CALLPARK_TEST_BRIDGE: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let latest: BridgeProcessReport = { joined: false, handled: 0, duplicates: 0, published: 0 };
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    latest = JSON.parse(line) as BridgeProcessReport;
    for (const waiter of waiters) waiter();
  });
  return {
    child,
    latest: () => latest,
    until: (condition, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`the bridge process did not get there within ${timeoutMs} ms (last report ${JSON.stringify(latest)})`)), timeoutMs);
        const check = (): void => {
          if (condition(latest)) finish();
        };
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(latest);
        };
        waiters.add(check);
        void exited.then(() => finish(new Error(`the bridge process exited (code ${child.exitCode}, last report ${JSON.stringify(latest)})`)));
        check();
      }),
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
};
