/**
 * The read side's projections, for the composition root to run (one ProjectionRunner each) and
 * for `callpark projections rebuild [name]` to choose from (adapters/app/projectionRebuild.ts).
 */
import { auditHistoryProjection } from './auditHistory.js';
import { occupancyProjection } from './occupancy.js';
import type { Projection } from './projection.js';
import { reportingProjection } from './reporting.js';
import type { RunnerOptions } from './runner.js';

export const readSideProjections: readonly Projection[] = [occupancyProjection, auditHistoryProjection, reportingProjection];

/**
 * The runner options each read-side projection wants on top of the service's own (clock, …). The
 * occupancy runner feeds the live board: it commits at least every 10 ms under a steady load, so a
 * change reaches the board within tens of milliseconds (the default 250 ms window would hold it
 * back that long); a backlog still goes in batches of up to 500.
 */
export const readSideRunnerOptions = (projection: Projection): RunnerOptions => (projection === occupancyProjection ? { maxBatchMs: 10 } : {});
