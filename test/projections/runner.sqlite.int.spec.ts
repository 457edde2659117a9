import { describeRunner } from './runnerBehaviour.js';
import { sqliteFactory } from './readStores.js';

describeRunner('SQLite', sqliteFactory, { propertyRuns: 40 });
