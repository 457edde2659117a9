/**
 * The benchmark harness. A benchmark file (`*.bench.ts` in this folder) default-exports one or
 * more suites. A suite measures a baseline and the cases it compares with it in the same run, on
 * the same machine, so the figure that matters is the ratio, not the absolute number: the
 * machines are noisy and their speed varies from run to run.
 */

export interface Target {
  /** What the target is about: the ratio to the baseline's median, or the median itself. */
  readonly of: 'ratio' | 'median';
  readonly atLeast?: number;
  readonly atMost?: number;
}

export interface CaseResult {
  readonly name: string;
  readonly unit: string;
  readonly samples: readonly number[];
  /** The case every other case of the suite is divided by. */
  readonly baseline?: boolean;
  readonly target?: Target;
}

export interface SuiteResult {
  readonly suite: string;
  readonly cases: readonly CaseResult[];
  readonly notes?: readonly string[];
}

export interface BenchSuite {
  readonly name: string;
  run(): Promise<SuiteResult>;
}

export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export const summarize = (samples: readonly number[]): Summary => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0] ?? Number.NaN, median, max: sorted.at(-1) ?? Number.NaN };
};

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
};

/**
 * Run `operation` repeatedly and return one throughput figure per sample (operations a second).
 * `operation` runs `batch` operations and is timed as a whole; warm-up samples are thrown away.
 */
export const throughput = async (
  operation: (batch: number) => void | Promise<void>,
  { batch, samples = 5, warmup = 1 }: { batch: number; samples?: number; warmup?: number },
): Promise<number[]> => {
  const figures: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const started = process.hrtime.bigint();
    await operation(batch);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (i >= warmup) figures.push(batch / seconds);
  }
  return figures;
};

export interface Measured {
  /** Run `count` operations. */
  readonly operation: (count: number) => void | Promise<void>;
  readonly batch: number;
}

/**
 * One throughput figure per sample for each case, the samples taken in turns (round-robin, the
 * order rotating every round): drift in the machine, the disk or the garbage collector's state
 * then lands on every case alike rather than on whichever ran last.
 */
export const inTurns = async (cases: readonly Measured[], { samples, warmup = 1 }: { samples: number; warmup?: number }): Promise<number[][]> => {
  const figures = cases.map((): number[] => []);
  for (let round = 0; round < warmup + samples; round++) {
    for (let turn = 0; turn < cases.length; turn++) {
      const index = (round + turn) % cases.length;
      const { operation, batch } = cases[index]!;
      const [figure] = await throughput(operation, { batch, samples: 1, warmup: 0 });
      if (round >= warmup) figures[index]!.push(figure!);
    }
  }
  return figures;
};

export const ratioToBaseline = (result: SuiteResult, item: CaseResult): number | undefined => {
  const baseline = result.cases.find((c) => c.baseline);
  if (!baseline || baseline === item) return undefined;
  return summarize(item.samples).median / summarize(baseline.samples).median;
};

export const meetsTarget = (result: SuiteResult, item: CaseResult): boolean | undefined => {
  const { target } = item;
  if (!target) return undefined;
  const value = target.of === 'ratio' ? ratioToBaseline(result, item) : summarize(item.samples).median;
  if (value === undefined) return undefined;
  return (target.atLeast === undefined || value >= target.atLeast) && (target.atMost === undefined || value <= target.atMost);
};
