import { describe } from 'vitest';
import { describeReadSide } from './readSideBehaviour.js';
import { postgresAvailable, postgresFactory } from './readStores.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeReadSide('PostgreSQL', postgresFactory, { propertyRuns: 12 });
});
