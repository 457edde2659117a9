/**
 * The plain pipeline (plainPipeline.ts) in a process of its own, as the latency benchmark runs the
 * bridge: settings as JSON in CALLPARK_BENCH_PLAIN_PIPELINE; it prints `{"joined":true}` once it
 * has joined its group, and stops on SIGTERM.
 */
import { startPlainPipeline, type PlainPipelineSettings } from './plainPipeline.js';

const pipeline = await startPlainPipeline(JSON.parse(process.env.CALLPARK_BENCH_PLAIN_PIPELINE ?? '{}') as PlainPipelineSettings);
process.stdout.write(`${JSON.stringify({ joined: true })}\n`);
process.once('SIGTERM', () => void pipeline.stop().finally(() => process.exit(0)));
