/**
 * The ring-back benchmark's baseline, run as a child process beside it, over the same minute:
 * a bare setTimeout per timer, firing a no-op at the same due times. Arguments: the due times
 * as (first due, in ms since the epoch; count; window in ms), spread as dueTimes.ts spreads them.
 * It answers one JSON line on stdout: the lateness of each timer, summarised, and its memory.
 */
import { dueOffset } from './dueTimes.js';
import { latenessSummary, wallClock } from './lateness.js';

const [firstDue, count, windowMs] = process.argv.slice(2).map(Number) as [number, number, number];
const lateness = new Float64Array(count);
let fired = 0;
let peakRss = 0;

const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 200);

for (let i = 0; i < count; i++) {
  const dueAt = firstDue + dueOffset(i, count, windowMs);
  setTimeout(() => {
    lateness[i] = wallClock() - dueAt;
    if (++fired === count) {
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      process.stdout.write(`${JSON.stringify({ ...latenessSummary(lateness), peakRss })}\n`);
    }
  }, dueAt - Date.now());
}
