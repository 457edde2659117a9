/**
 * `npm run simulate`: realistic signaling traffic for demos and load, into Kafka or over HTTP
 * (see simulator/options.ts for the flags, simulator/callModel.ts for the traffic model).
 */
import { describeDelay, seededRandom } from '../simulator/randomness.js';
import { CallModel } from '../simulator/callModel.js';
import { enablePark, httpTransport } from '../simulator/httpTransport.js';
import { kafkaTransport, type Transport } from '../simulator/kafkaTransport.js';
import { UsageError, parseOptions, usage, withToken, type SimulatorOptions } from '../simulator/options.js';
import { Tally } from '../simulator/tally.js';

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

const main = async (): Promise<number> => {
  let options: SimulatorOptions;
  try {
    const parsed = parseOptions(process.argv.slice(2), process.env);
    if (parsed === 'help') {
      console.log(usage);
      return 0;
    }
    options = await withToken(parsed, process.env);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }
  const { target } = options;
  console.log(
    [
      `Simulating ${options.tenants.length} tenant(s) (${options.tenants.slice(0, 5).join(', ')}${options.tenants.length > 5 ? ', …' : ''}) for ${options.durationSeconds} s, seed ${options.seed}`,
      `  into ${target.kind === 'kafka' ? `Kafka ${target.brokers.join(',')} (${target.signalingTopic} → ${target.directivesTopic})` : `HTTP ${target.url}/v1/signaling`}`,
      `  parks: ${options.ratePerTenant}/s per tenant (Poisson), ${(options.videoProbability * 100).toFixed(0)}% video (refused)`,
      `  retrieved: ${(options.retrieveProbability * 100).toFixed(0)}% after ${describeDelay(options.retrieveDelay)}; hung up while parked: ${(options.hangUpProbability * 100).toFixed(0)}% after ${describeDelay(options.hangUpDelay)}`,
      `  ring backs answered: ${(options.answerProbability * 100).toFixed(0)}% after ${describeDelay(options.answerDelay)}, the others declined`,
    ].join('\n'),
  );

  if (options.enablePark) {
    console.log(`Enabling call park${options.parkTimeoutSeconds === undefined ? '' : ` (parkTimeoutSeconds ${options.parkTimeoutSeconds})`}:`);
    for (const line of await enablePark(options.adminUrl!, options.token!, options.tenants, options.parkTimeoutSeconds)) console.log(line);
  }

  const tally = new Tally();
  // The model sends through the transport, and the transport tells the model what came back.
  const link: { transport?: Transport } = {};
  const model = new CallModel(options, seededRandom(options.seed), (message) => link.transport!.send(message), tally);
  const transport = target.kind === 'kafka' ? await kafkaTransport(target, options.tenants, tally, model) : httpTransport(target.url, options.token!, tally, model);
  link.transport = transport;

  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  const reporting = setInterval(() => console.log(tally.line(elapsed(), model.active)), options.reportEverySeconds * 1000);
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    console.log('\nInterrupted: stopping.');
  });

  model.start();
  while (!interrupted && elapsed() < options.durationSeconds) await sleep(100);
  model.stopArrivals();
  const drainUntil = elapsed() + options.drainSeconds;
  while (!interrupted && model.active > 0 && elapsed() < drainUntil) await sleep(100);

  clearInterval(reporting);
  const active = model.active;
  model.close();
  await transport.close();
  console.log(tally.line(elapsed(), active));
  console.log(tally.summary(active, elapsed()));
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`simulate: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
