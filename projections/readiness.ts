/**
 * Whether the read side is ready to answer: every projection's runner running, no further
 * behind the head of the log than `maxLagEvents`, and not past its end (a checkpoint past the
 * end of the log is another log's: "0 events behind" would be a lie). The composition root adds these checks to
 * `/readyz` and exports `lag()` as a metric.
 */
import { comparePositions } from '../domain/eventStore.js';
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
      const pastTheEnd = lag.checkpoint !== undefined && (lag.head === undefined || comparePositions(lag.checkpoint, lag.head) > 0);
      checks[name] = pastTheEnd
        ? { ok: false, detail: `its checkpoint (position ${lag.checkpoint!.commit}) is past the end of the event log (${lag.head === undefined ? 'empty' : `position ${lag.head.commit}`}): it follows another log; rebuild it` }
        : lag.events <= maxLagEvents
          ? { ok: true, detail: `${lag.events} event(s) behind` }
          : { ok: false, detail: `${lag.events} event(s) behind the head of the log, more than ${maxLagEvents} (behind for ${lag.ms} ms)` };
    } catch (error) {
      checks[name] = { ok: false, detail: `its lag cannot be read: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { ready: Object.values(checks).every((check) => check.ok), checks };
};
