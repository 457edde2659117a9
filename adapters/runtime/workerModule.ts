/**
 * Where a worker thread's module is. The service runs from dist/, where the compiled module sits
 * beside the file that starts the thread; a test runner that loads the TypeScript sources finds it
 * under dist/ at the same place (`npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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
