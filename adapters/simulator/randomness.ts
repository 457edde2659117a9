/**
 * The simulator's randomness: a seeded generator (so a run can be replayed with `--seed`), and
 * the distributions of the traffic model: exponential gaps between arrivals (a Poisson process),
 * and exponential, log-normal or fixed delays.
 */

/** A generator of draws in [0, 1): mulberry32, small and good enough for traffic. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** An exponential draw with this mean: the gap between two events of a Poisson process of rate 1/mean. */
export const exponential = (random: () => number, mean: number): number => -Math.log(1 - random()) * mean;

/** A standard normal draw (Box–Muller). */
const normal = (random: () => number): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** A delay distribution, in seconds: `exp:MEAN`, `lognormal:MEDIAN,SIGMA` or `fixed:SECONDS`. */
export type Delay = { readonly kind: 'exp'; readonly mean: number } | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number } | { readonly kind: 'fixed'; readonly seconds: number };

export const parseDelay = (text: string): Delay => {
  const match = /^(exp|lognormal|fixed):(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a delay: write exp:MEAN, lognormal:MEDIAN,SIGMA or fixed:SECONDS (seconds)`);
  const [, kind, first, second] = match;
  const a = Number(first);
  if (kind === 'exp') return { kind, mean: a };
  if (kind === 'fixed') return { kind, seconds: a };
  return { kind: 'lognormal', median: a, sigma: second === undefined ? 0.5 : Number(second) };
};

export const describeDelay = (delay: Delay): string => {
  switch (delay.kind) {
    case 'exp':
      return `exponential, mean ${delay.mean} s`;
    case 'lognormal':
      return `log-normal, median ${delay.median} s, sigma ${delay.sigma}`;
    case 'fixed':
      return `${delay.seconds} s`;
    default: {
      const unhandled: never = delay;
      return unhandled;
    }
  }
};

/** A draw of the delay, in seconds. */
export const drawDelay = (random: () => number, delay: Delay): number => {
  switch (delay.kind) {
    case 'exp':
      return exponential(random, delay.mean);
    case 'lognormal':
      return delay.median * Math.exp(delay.sigma * normal(random));
    case 'fixed':
      return delay.seconds;
    default: {
      const unhandled: never = delay;
      return unhandled;
    }
  }
};

/** One of `items`, by weight. */
export const pick = <T>(random: () => number, items: readonly (readonly [T, number])[]): T => {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = random() * total;
  for (const [item, weight] of items) {
    draw -= weight;
    if (draw < 0) return item;
  }
  return items.at(-1)![0];
};
