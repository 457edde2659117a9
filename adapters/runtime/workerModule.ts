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
 * The Node options a worker thread starts with: the process's own, less those that only make
 * sense for a process's main script (`--input-type`, which a process run with `-e` carries and a
 * worker started from a file refuses).
 */
export const workerExecArgv = (): string[] => process.execArgv.filter((option) => !option.startsWith('--input-type'));

/**
 * Start a worker thread with the process's Node options (`--cpu-prof` profiles it too). V8's own
 * flags (`--max-semi-space-size`, `--max-old-space-size`, …) are the process's already and a worker
 * refuses them as options of its own: those it names as refused are left out, so a service started
 * with them still starts its threads.
 */
export const startWorker = (module: string, options: Omit<WorkerOptions, 'execArgv'>): Worker => {
  const execArgv = workerExecArgv();
  try {
    return new Worker(module, { ...options, execArgv });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    const refused = new Set(((error as Error).message.split(': ')[1] ?? '').split(',').map((flag) => flag.trim()));
    return new Worker(module, { ...options, execArgv: execArgv.filter((option) => !refused.has(option)) });
  }
};
