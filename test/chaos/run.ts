/**
 * `npm run chaos [minutes]`: the chaos run (chaos.ts) for as long as asked, 10 minutes by default,
 * on DATABASE_URL_TEST (else the local PostgreSQL) and KAFKA_BROKERS. Exits 1 when a figure says
 * something was lost, doubled or wrong, or a timer fired more than 5 s late.
 */
import { postgresTestUrl } from '../support/services.js';
import { runChaos } from './chaos.js';

const minutes = Number(process.argv[2] ?? '10');
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error(`usage: npm run chaos [minutes] (got ${process.argv[2]})`);
  process.exit(2);
}
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  console.error('KAFKA_BROKERS is not set: start a broker (bash infra/kafka/kafka.sh start) and export KAFKA_BROKERS=127.0.0.1:19092');
  process.exit(2);
}
const figures = await runChaos({ databaseUrl: postgresTestUrl(), brokers, trafficSeconds: minutes * 60 });
const wrong =
  figures.log.missing.length + figures.log.doubled.length + figures.log.orbitConflicts + figures.log.timersMissed.length + figures.log.timersDoubled.length + figures.log.late.length + figures.directives.missing + figures.directives.conflicting + figures.projections.different.length;
process.exit(wrong === 0 ? 0 : 1);
