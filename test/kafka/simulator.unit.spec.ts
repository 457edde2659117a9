/** The simulator's options, randomness and traffic model, without a broker or a service. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallModel, type SignalingRecord } from '../../adapters/simulator/callModel.js';
import { UsageError, parseOptions, type SimulatorOptions } from '../../adapters/simulator/options.js';
import { drawDelay, exponential, parseDelay, seededRandom } from '../../adapters/simulator/randomness.js';
import { Tally } from '../../adapters/simulator/tally.js';

const options = (argv: string[], env: Record<string, string> = {}): SimulatorOptions => {
  const parsed = parseOptions(argv, env);
  if (parsed === 'help') throw new Error('help');
  return parsed;
};

describe('simulator options', () => {
  it('has sane defaults', () => {
    const parsed = options(['--kafka', '--seed', '7'], { KAFKA_BROKERS: '127.0.0.1:19092' });
    expect(parsed).toMatchObject({
      target: { kind: 'kafka', brokers: ['127.0.0.1:19092'], signalingTopic: 'callpark.signaling', directivesTopic: 'callpark.directives' },
      enablePark: false,
      durationSeconds: 60,
      tenants: ['sim-1', 'sim-2', 'sim-3'],
      ratePerTenant: 0.5,
      retrieveProbability: 0.7,
      retrieveDelay: { kind: 'lognormal', median: 20, sigma: 0.6 },
      seed: 7,
    });
    expect(options(['--http', 'http://127.0.0.1:8080/', '--token', 't'])).toMatchObject({ target: { kind: 'http', url: 'http://127.0.0.1:8080' }, enablePark: true, adminUrl: 'http://127.0.0.1:8080' });
  });

  it('says what is wrong', () => {
    expect(() => parseOptions(['--kafka', '--http', 'http://127.0.0.1:8080'], {})).toThrow(UsageError);
    expect(() => parseOptions(['--kafka'], {})).toThrow(/brokers/);
    expect(() => parseOptions(['--kafka', '--brokers', 'b:1', '--retrieve-delay', 'soon'], {})).toThrow(/--retrieve-delay/);
    expect(() => parseOptions(['--kafka', '--brokers', 'b:1', '--answer-probability', '2'], {})).toThrow(/from 0 to 1/);
    expect(() => parseOptions(['--kafka', '--brokers', 'b:1', '--enable-park'], {})).toThrow(/--admin-url/);
  });
});

describe('simulator randomness', () => {
  it('replays a seed, and draws delays with the asked-for mean', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const random = seededRandom(1);
    const draws = Array.from({ length: 20_000 }, () => exponential(random, 4));
    expect(draws.reduce((sum, draw) => sum + draw, 0) / draws.length).toBeCloseTo(4, 0);
    const median = Array.from({ length: 20_001 }, () => drawDelay(random, parseDelay('lognormal:20,0.6'))).sort((x, y) => x - y)[10_000]!;
    expect(median).toBeGreaterThan(18);
    expect(median).toBeLessThan(22);
    expect(drawDelay(random, parseDelay('fixed:3'))).toBe(3);
  });
});

describe('the traffic model', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('parks, retrieves the parked call by its orbit, and lets the ring back be answered', () => {
    vi.useFakeTimers();
    const sent: SignalingRecord[] = [];
    const model = new CallModel(
      options(['--kafka', '--brokers', 'b:1', '--tenant-ids', 'contoso', '--rate', '1', '--retrieve-probability', '1', '--retrieve-delay', 'fixed:2', '--hangup-probability', '0', '--answer-probability', '1', '--answer-delay', 'fixed:1', '--video-probability', '0']),
      seededRandom(3),
      (message) => void sent.push(message),
      new Tally(),
    );
    model.start();
    vi.advanceTimersByTime(10_000);
    model.stopArrivals();
    const parks = sent.filter((message) => message.type === 'park.requested');
    expect(parks.length).toBeGreaterThan(2);
    const [first, second] = parks as [SignalingRecord, SignalingRecord];

    model.onDirective({ type: 'hold-caller', tenantId: 'contoso', callId: first.callId, at: Date.now(), sessionId: 's1', orbitCode: '42', musicOnHold: true }, first.eventId);
    vi.advanceTimersByTime(2_000);
    const retrieve = sent.find((message) => message.type === 'retrieve.requested');
    expect(retrieve).toMatchObject({ tenantId: 'contoso', orbit: '42' });

    model.onDirective({ type: 'hold-caller', tenantId: 'contoso', callId: second.callId, at: Date.now(), sessionId: 's2', orbitCode: '43', musicOnHold: true }, second.eventId);
    model.onDirective({ type: 'ring-parker', tenantId: 'contoso', callId: second.callId, at: Date.now(), sessionId: 's2', orbitCode: '43', parker: { userId: 'u', endpoint: 'teams-desktop' }, attempt: 1, ringUntil: Date.now() + 30_000 }, 'timer');
    vi.advanceTimersByTime(1_000);
    expect(sent.filter((message) => message.type === 'ringback.answered').map((message) => message.callId)).toEqual([second.callId]);

    const before = model.active;
    model.onDirective({ type: 'release-orbit', tenantId: 'contoso', callId: second.callId, at: Date.now(), sessionId: 's2', orbitCode: '43' }, 'x');
    expect(model.active).toBe(before - 1);
    model.close();
  });
});
