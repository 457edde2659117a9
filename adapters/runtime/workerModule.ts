/**
 * Where a worker thread's module is. The service runs from dist/, where the compiled module sits
 * beside the file that starts the thread; a test runner that loads the TypeScript sources finds it
 * under dist/ at the same place (`npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export const compiledModule = (url: URL): string => {
  const beside = fileURLToPath(url);
  if (existsSync(beside)) return beside;
  let root = dirname(beside);
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const compiled = join(root, 'dist', relative(root, beside));
  if (!existsSync(compiled)) throw new Error(`The worker thread's module is not built: run \`npm run build\` (looked for ${compiled}).`);
  return compiled;
};

/**
 * Options a worker refused, as its first refusal named them: V8's own flags
 * (`--max-semi-space-size`, `--max-old-space-size`, …), which are the whole process's already.
 */
const refusedByWorkers = new Set<string>();

/**
 * The Node options a worker thread starts with: the process's own, less those that only make
 * sense for a process's main script (`--input-type`, which a process run with `-e` carries and a
 * worker started from a file refuses) and those a worker refused before.
 */
const workerExecArgv = (): string[] => process.execArgv.filter((option) => !option.startsWith('--input-type') && !refusedByWorkers.has(option));

/**
 * Start a worker thread with the process's Node options (`--cpu-prof` profiles it too). When the
 * worker refuses some as options of its own, they are learned (once for the process) and left
 * out, so a service started with V8's flags still starts its threads.
 */
export const startWorker = (module: string, options: Omit<WorkerOptions, 'execArgv'>): Worker => {
  try {
    return new Worker(module, { ...options, execArgv: workerExecArgv() });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    // "Initiated Worker with invalid execArgv flags: --a, --b"
    for (const flag of ((error as Error).message.split(': ')[1] ?? '').split(',')) refusedByWorkers.add(flag.trim());
    return new Worker(module, { ...options, execArgv: workerExecArgv() });
  }
};
