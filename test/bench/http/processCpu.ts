/**
 * The CPU time a process has used, all its threads together: utime + stime of /proc/<pid>/stat
 * (a process's figures include every thread's, live or ended), in microseconds. Linux only; the
 * resolution is one clock tick (10 ms), so a measured workload should take seconds of CPU.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const ticksPerSecond = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export const processCpuMicros = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / ticksPerSecond;
};

/**
 * Wait until the process is quiet (no CPU tick in `quietMs`), at most `maxMs`: the work a load left
 * behind (projections catching up, group commits) is then counted with the load that caused it.
 */
export const untilQuiet = async (pid: number, { quietMs = 300, maxMs = 15_000 } = {}): Promise<void> => {
  const deadline = Date.now() + maxMs;
  let last = processCpuMicros(pid);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = processCpuMicros(pid);
    if (now - last < 1e6 / ticksPerSecond + 1) return;
    last = now;
  }
};
