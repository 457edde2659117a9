/**
 * `callpark projections rebuild [name]`: replay the whole log into fresh tables built beside the
 * live ones, then swap them in, in one transaction: readers see the old tables or the new, never a
 * mix, and a running service's projection carries on from the rebuilt checkpoint. A progress bar
 * follows the build's checkpoint up to the head of the log as it was when the rebuild began.
 */
import { comparePositions, type Position } from '../../domain/eventStore.js';
import { readCheckpoint } from '../../projections/checkpoints.js';
import { buildName, type Projection } from '../../projections/projection.js';
import { readSideProjections } from '../../projections/readSide.js';
import { ringBackTimersProjection } from '../../projections/ringBackTimers.js';
import { buildShadow } from '../../projections/rebuild.js';
import { loadConfig } from '../config/config.js';
import { openEventStore, openReadStore } from '../config/stores.js';

export const rebuildableProjections: readonly Projection[] = [ringBackTimersProjection, ...readSideProjections];

const fraction = (done: Position | undefined, head: Position | undefined): number => {
  if (head === undefined || head.commit <= 0n) return 1;
  if (done === undefined) return 0;
  return comparePositions(done, head) >= 0 ? 1 : Number((done.commit * 1000n) / head.commit) / 1000;
};

const bar = (name: string, share: number, seconds: number): string => {
  const width = 30;
  const filled = Math.round(share * width);
  return `${name.padEnd(18)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1).padStart(5)}%  ${seconds.toFixed(1)} s`;
};

export const rebuildProjections = async (env: Readonly<Record<string, string | undefined>>, only?: string, out: NodeJS.WriteStream = process.stderr): Promise<number> => {
  const projections = rebuildableProjections.filter((projection) => only === undefined || projection.name === only);
  if (projections.length === 0) {
    out.write(`No projection is called ${only}; there are ${rebuildableProjections.map((projection) => projection.name).join(', ')}.\n`);
    return 2;
  }
  const config = loadConfig(env);
  const eventStore = openEventStore(config);
  const readStore = await openReadStore(config);
  try {
    for (const projection of projections) {
      const head = await eventStore.headPosition();
      const prefix = `rb${Date.now().toString(36)}_`;
      const started = Date.now();
      const draw = (share: number, end = ''): void => {
        out.write(`${out.isTTY ? '\r' : ''}${bar(projection.name, share, (Date.now() - started) / 1000)}${end || (out.isTTY ? '' : '\n')}`);
      };
      const progress = setInterval(() => {
        void readCheckpoint(readStore, buildName(projection, prefix)).then(
          (checkpoint) => draw(fraction(checkpoint?.position, head)),
          () => undefined,
        );
      }, out.isTTY ? 200 : 2_000);
      try {
        const shadow = await buildShadow({ eventStore, readStore }, projection, { prefix });
        await shadow.swap();
      } finally {
        clearInterval(progress);
      }
      draw(1, '  rebuilt and swapped in\n');
    }
    return 0;
  } finally {
    await eventStore.close();
    await readStore.close();
  }
};
