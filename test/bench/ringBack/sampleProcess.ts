/**
 * One sample of the ring-back benchmark in a process of its own (forked by ringBack.bench.ts), so
 * that no sample measures the memory or the garbage another one left behind. It sends its
 * measurement over IPC and exits.
 */
import { measure } from './measure.js';

const measurement = await measure();
process.send!(measurement, () => process.exit(0));
