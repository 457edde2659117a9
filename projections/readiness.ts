/**
 * Whether the read side is ready to answer: every projection's runner running and no further
 * behind the head of the log than `maxLagEvents`. The composition root adds these checks to
 * `/readyz` and exports `lag()` as a metric.
 */
import type { ProjectionRunner } from './runner.js';

export interface ProjectionCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface ProjectionReadiness {
  readonly ready: boolean;
  /** One check per runner, named `projection:<build>`, in the shape `/readyz` reports checks in. */
  readonly checks: Readonly<Record<string, ProjectionCheck>>;
}

type Runner = Pick<ProjectionRunner, 'build' | 'status' | 'lag'>;

export const projectionReadiness = async (runners: readonly Runner[], maxLagEvents: number): Promise<ProjectionReadiness> => {
  const checks: Record<string, ProjectionCheck> = {};
  for (const runner of runners) {
    const { state, lastError } = runner.status();
    const name = `projection:${runner.build}`;
    if (state !== 'running') {
      checks[name] = { ok: false, detail: `${state}${lastError ? `: ${lastError}` : ''}` };
      continue;
    }
    try {
      const lag = await runner.lag();
      checks[name] =
        lag.events <= maxLagEvents
          ? { ok: true, detail: `${lag.events} event(s) behind` }
          : { ok: false, detail: `${lag.events} event(s) behind the head of the log, more than ${maxLagEvents} (behind for ${lag.ms} ms)` };
    } catch (error) {
      checks[name] = { ok: false, detail: `its lag cannot be read: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { ready: Object.values(checks).every((check) => check.ok), checks };
};
