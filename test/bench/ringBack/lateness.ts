/** Measuring lateness: a sub-millisecond wall clock, and the figures the benchmark reports. */
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch, with the precision of the high-resolution timer. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export interface LatenessSummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export const latenessSummary = (values: Float64Array | readonly number[]): LatenessSummary => {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted[sorted.length - 1] ?? Number.NaN, mean: sum / sorted.length };
};
