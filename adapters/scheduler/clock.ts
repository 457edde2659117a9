/**
 * The scheduler's sense of time: what time it is, and a way to be woken later. The service uses
 * the system's; tests use a clock they move by hand.
 */
export type TimerHandle = unknown;

export interface SchedulerClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
