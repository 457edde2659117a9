import { describeSchedulerScenarios } from './schedulerScenarios.js';
import { sqliteDatabase } from './timerWorld.js';

describeSchedulerScenarios('SQLite', sqliteDatabase);
