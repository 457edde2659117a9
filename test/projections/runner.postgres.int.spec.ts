import { describe } from 'vitest';
import { describeRunner } from './runnerBehaviour.js';
import { postgresAvailable, postgresFactory } from './readStores.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeRunner('PostgreSQL', postgresFactory, { propertyRuns: 15 });
});
