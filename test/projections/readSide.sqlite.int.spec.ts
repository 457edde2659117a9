import { describeReadSide } from './readSideBehaviour.js';
import { sqliteFactory } from './readStores.js';

describeReadSide('SQLite', sqliteFactory, { propertyRuns: 30 });
