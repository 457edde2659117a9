/** The simulator's command line: flags with sane defaults, and the help that explains them. */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { noTokenMessage, serviceUrlOf, tokenOf } from '../runtime/serviceTarget.js';
import { parseDelay, type Delay } from './randomness.js';

export interface KafkaTarget {
  readonly kind: 'kafka';
  readonly brokers: readonly string[];
  readonly signalingTopic: string;
  readonly directivesTopic: string;
}

export interface HttpTarget {
  readonly kind: 'http';
  readonly url: string;
}

export interface SimulatorOptions {
  readonly target: KafkaTarget | HttpTarget;
  /** The bearer token for HTTP (signaling or admin role). */
  readonly token: string | undefined;
  /** Where to enable call park for the tenants (Set-CsTeamsCallParkPolicy over HTTP), if anywhere. */
  readonly adminUrl: string | undefined;
  readonly enablePark: boolean;
  /** parkTimeoutSeconds to set with --enable-park (so ring backs happen within a demo). */
  readonly parkTimeoutSeconds: number | undefined;
  readonly durationSeconds: number;
  /** After the duration, how long to keep following the calls under way. */
  readonly drainSeconds: number;
  readonly tenants: readonly string[];
  readonly usersPerTenant: number;
  /** Park arrivals per second, per tenant (a Poisson process). */
  readonly ratePerTenant: number;
  readonly retrieveProbability: number;
  readonly retrieveDelay: Delay;
  readonly hangUpProbability: number;
  readonly hangUpDelay: Delay;
  readonly answerProbability: number;
  readonly answerDelay: Delay;
  /** Share of park requests for a video call (refused: media-not-parkable). */
  readonly videoProbability: number;
  readonly reportEverySeconds: number;
  readonly seed: number;
}

export const usage = `npm run simulate -- [--kafka [--brokers H:P,…] | --http URL] [--token T] [options]

Realistic signaling traffic of a media tier, for demos and load: calls parked per tenant as a
Poisson process, retrieved after a delay with some probability, hung up while parked with
another, and rung back by the service when nobody retrieves them in time (the parker then
answers, or not). It prints what it sent and what came back, every few seconds and at the end.

Where to:
  --kafka                     produce to the signaling topic and read the directives topic
  --brokers H:P[,H:P…]        Kafka brokers (default: KAFKA_BROKERS)
  --signaling-topic NAME      (default: KAFKA_SIGNALING_TOPIC or callpark.signaling)
  --directives-topic NAME     (default: KAFKA_DIRECTIVES_TOPIC or callpark.directives)
  --http URL                  POST each message to URL/v1/signaling; ring backs follow the due times
                              (the default, to CALLPARK_URL or the local service on PORT, 8080)
  --token T                   bearer token (role signaling or admin) for --http and --admin-url
                              (default: CALLPARK_TOKEN, else the admin token in CALLPARK_DATA_DIR,
                              ./data/admin-token, as the callpark command finds it)

Set up:
  --enable-park               allow call park in each tenant's Global policy first (PATCH
                              /v1/tenants/{t}/policies/Global; default on with --http)
  --no-enable-park
  --admin-url URL             where to enable it when sending over Kafka
  --park-timeout S            parkTimeoutSeconds to set with it, 10 to 1800 (e.g. 10, so calls
                              ring back within a demo)

Traffic:
  --duration S                seconds of new calls (60)
  --drain S                   seconds to follow the calls under way afterwards (15)
  --tenants N                 how many tenants: sim-1 … sim-N (3)
  --tenant-ids A,B,…          these tenants instead
  --users N                   parkers and retrievers per tenant (20)
  --rate R                    parks per second per tenant (0.5)
  --retrieve-probability P    share of parked calls someone retrieves (0.7)
  --retrieve-delay D          when (lognormal:20,0.6)
  --hangup-probability P      share of parked calls whose caller hangs up first (0.1)
  --hangup-delay D            when (exp:30)
  --answer-probability P      share of ring backs the parker answers (0.6)
  --answer-delay D            when (exp:4)
  --video-probability P       share of park requests for video calls, refused (0.02)
  --report-every S            seconds between reports (5)
  --seed N                    replay a run (default: random, printed)

Delays D: exp:MEAN, lognormal:MEDIAN,SIGMA or fixed:SECONDS, in seconds.
The tenants must be known to the service (over HTTP: named by a token, or with events).`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const number = (name: string, text: string | undefined, fallback: number, { min = 0, max = Number.POSITIVE_INFINITY } = {}): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} expects a number from ${min} to ${max}, got "${text}"`);
  return value;
};

const probability = (name: string, text: string | undefined, fallback: number): number => number(name, text, fallback, { min: 0, max: 1 });

const delay = (name: string, text: string | undefined, fallback: string): Delay => {
  try {
    return parseDelay(text ?? fallback);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
};

export const parseOptions = (argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SimulatorOptions | 'help' => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      kafka: { type: 'boolean' },
      brokers: { type: 'string' },
      'signaling-topic': { type: 'string' },
      'directives-topic': { type: 'string' },
      http: { type: 'string' },
      token: { type: 'string' },
      'enable-park': { type: 'boolean' },
      'no-enable-park': { type: 'boolean' },
      'admin-url': { type: 'string' },
      'park-timeout': { type: 'string' },
      duration: { type: 'string' },
      drain: { type: 'string' },
      tenants: { type: 'string' },
      'tenant-ids': { type: 'string' },
      users: { type: 'string' },
      rate: { type: 'string' },
      'retrieve-probability': { type: 'string' },
      'retrieve-delay': { type: 'string' },
      'hangup-probability': { type: 'string' },
      'hangup-delay': { type: 'string' },
      'answer-probability': { type: 'string' },
      'answer-delay': { type: 'string' },
      'video-probability': { type: 'string' },
      'report-every': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (values.help) return 'help';
  if (values.kafka && values.http !== undefined) throw new UsageError('say where to send: --kafka or --http URL, not both');

  let target: SimulatorOptions['target'];
  if (values.kafka) {
    const brokers = (values.brokers ?? env.KAFKA_BROKERS ?? '').split(',').map((broker) => broker.trim()).filter(Boolean);
    if (brokers.length === 0) throw new UsageError('--kafka needs brokers: --brokers host:port[,…] or KAFKA_BROKERS');
    target = {
      kind: 'kafka',
      brokers,
      signalingTopic: values['signaling-topic'] ?? env.KAFKA_SIGNALING_TOPIC ?? 'callpark.signaling',
      directivesTopic: values['directives-topic'] ?? env.KAFKA_DIRECTIVES_TOPIC ?? 'callpark.directives',
    };
  } else {
    const url = serviceUrlOf(values.http, env);
    if (!/^https?:\/\/\S+$/.test(url)) throw new UsageError(`--http expects the service's base URL (http://host:port), got "${url}"`);
    target = { kind: 'http', url };
  }

  const adminUrl = values['admin-url']?.replace(/\/+$/, '') ?? (target.kind === 'http' ? target.url : undefined);
  const enablePark = values['no-enable-park'] ? false : (values['enable-park'] ?? target.kind === 'http');
  if (enablePark && adminUrl === undefined) throw new UsageError('--enable-park over Kafka needs --admin-url URL (and an admin token)');

  const count = number('tenants', values.tenants, 3, { min: 1, max: 100_000 });
  const tenants = values['tenant-ids'] !== undefined ? values['tenant-ids'].split(',').map((id) => id.trim()).filter(Boolean) : Array.from({ length: count }, (_, n) => `sim-${n + 1}`);
  if (tenants.length === 0) throw new UsageError('--tenant-ids names no tenant');

  return {
    target,
    token: values.token,
    adminUrl,
    enablePark,
    parkTimeoutSeconds: values['park-timeout'] === undefined ? undefined : number('park-timeout', values['park-timeout'], 300, { min: 10, max: 1800 }),
    durationSeconds: number('duration', values.duration, 60, { min: 1 }),
    drainSeconds: number('drain', values.drain, 15),
    tenants,
    usersPerTenant: number('users', values.users, 20, { min: 2, max: 100_000 }),
    ratePerTenant: number('rate', values.rate, 0.5, { min: 0.0001, max: 10_000 }),
    retrieveProbability: probability('retrieve-probability', values['retrieve-probability'], 0.7),
    retrieveDelay: delay('retrieve-delay', values['retrieve-delay'], 'lognormal:20,0.6'),
    hangUpProbability: probability('hangup-probability', values['hangup-probability'], 0.1),
    hangUpDelay: delay('hangup-delay', values['hangup-delay'], 'exp:30'),
    answerProbability: probability('answer-probability', values['answer-probability'], 0.6),
    answerDelay: delay('answer-delay', values['answer-delay'], 'exp:4'),
    videoProbability: probability('video-probability', values['video-probability'], 0.02),
    reportEverySeconds: number('report-every', values['report-every'], 5, { min: 0.5 }),
    seed: number('seed', values.seed, randomInt(1, 2 ** 31), { min: 0, max: 2 ** 32 - 1 }),
  };
};

/**
 * The options with their token: the flag's, else CALLPARK_TOKEN, else the embedded service's
 * admin-token file. Needed to send over HTTP and to enable call park.
 */
export const withToken = async (options: SimulatorOptions, env: Readonly<Record<string, string | undefined>>): Promise<SimulatorOptions> => {
  const token = await tokenOf(options.token, env);
  if (token === undefined && (options.target.kind === 'http' || options.enablePark)) throw new UsageError(noTokenMessage(env));
  return { ...options, token };
};
