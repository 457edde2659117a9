/** When the benchmark's timers come due: `count` of them spread evenly over `windowMs`. */
export const dueOffset = (index: number, count: number, windowMs: number): number => Math.floor((index * windowMs) / count);
