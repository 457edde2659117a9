import { describe } from 'vitest';
import { describeSchedulerScenarios } from './schedulerScenarios.js';
import { postgresAnswers, postgresDatabase } from './timerWorld.js';

const available = await postgresAnswers();

describe.skipIf(!available)('over PostgreSQL', () => {
  describeSchedulerScenarios('PostgreSQL', postgresDatabase);
});
