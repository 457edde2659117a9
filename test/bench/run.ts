/**
 * `npm run bench [filter…]`: runs every benchmark file of this folder (or those whose name
 * contains a filter), prints one table, and writes the figures to bench-results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { meetsTarget, ratioToBaseline, summarize, type BenchSuite, type SuiteResult } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

/** A figure for the table; none (a NaN, which the child's JSON turns into null) is an empty cell. */
const format = (value: number | null | undefined, digits = 2): string => {
  if (value === undefined || value === null || Number.isNaN(value)) return '';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
};

const describeTarget = (suite: SuiteResult, item: SuiteResult['cases'][number]): string => {
  const { target } = item;
  if (!target) return '';
  const bound = [target.atLeast !== undefined ? `>= ${target.atLeast}` : '', target.atMost !== undefined ? `<= ${target.atMost}` : ''].filter(Boolean).join(' ');
  const met = meetsTarget(suite, item);
  // A figure judged against a target is the median of at least three samples (HELPERS.md).
  const few = item.samples.length < 3 ? ` (${item.samples.length} sample${item.samples.length === 1 ? '' : 's'}: not a figure)` : '';
  return `${target.of} ${bound}: ${met === undefined ? 'n/a' : met ? 'met' : 'MISSED'}${few}`;
};

const runFile = async (file: string): Promise<SuiteResult[]> => {
  const module = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchSuite | BenchSuite[] };
  const suites = Array.isArray(module.default) ? module.default : [module.default];
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    process.stderr.write(`running ${suite.name} (${file})…\n`);
    results.push(await suite.run());
  }
  return results;
};

// Each benchmark file runs in a process of its own, so that none measures the memory, the heap
// or the garbage another one left behind (the ring backs' resident memory, say).
const childFile = process.env.CALLPARK_BENCH_FILE;
if (childFile !== undefined) {
  await writeFile(process.env.CALLPARK_BENCH_OUT!, JSON.stringify(await runFile(childFile)));
  process.exit(0);
}

const files = (await readdir(here))
  .filter((name) => name.endsWith('.bench.js'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

const results: SuiteResult[] = [];
const scratch = await mkdtemp(join(tmpdir(), 'callpark-bench-'));
for (const file of files) {
  const out = join(scratch, `${file}.json`);
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CALLPARK_BENCH_FILE: file, CALLPARK_BENCH_OUT: out } });
  if (child.status !== 0) throw new Error(`The benchmarks of ${file} failed (exit ${child.status ?? child.signal}).`);
  results.push(...(JSON.parse(await readFile(out, 'utf8')) as SuiteResult[]));
}
await rm(scratch, { recursive: true, force: true });

const rows = results.flatMap((suite) =>
  suite.cases.map((item) => {
    const { min, median, max } = summarize(item.samples);
    return [suite.suite, item.name + (item.baseline ? ' (baseline)' : ''), item.unit, format(min), format(median), format(max), format(ratioToBaseline(suite, item), 3), describeTarget(suite, item)];
  }),
);
const header = ['suite', 'case', 'unit', 'min', 'median', 'max', 'ratio', 'target'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
for (const suite of results) for (const note of suite.notes ?? []) console.log(`note (${suite.suite}): ${note}`);

const outDir = join(here, '..', '..', '..', 'bench-results');
await mkdir(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const report = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
  suites: results.map((suite) => ({
    ...suite,
    cases: suite.cases.map((item) => ({ ...item, ...summarize(item.samples), ratio: ratioToBaseline(suite, item), targetMet: meetsTarget(suite, item) })),
  })),
};
const json = JSON.stringify(report, null, 2);
await writeFile(join(outDir, `bench-${stamp}.json`), json);
await writeFile(join(outDir, 'latest.json'), json);
console.log(`\nfigures written to bench-results/bench-${stamp}.json`);
