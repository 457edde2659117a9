/** What the simulator sent and what came back, counted, with the time to the first answer of each message. */

const percentile = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);

const counts = (map: ReadonlyMap<string, number>): string =>
  [...map]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([label, count]) => `${label} ${count}`)
    .join(', ') || 'nothing';

const total = (map: ReadonlyMap<string, number>): number => [...map.values()].reduce((sum, count) => sum + count, 0);

export class Tally {
  private readonly sent = new Map<string, number>();
  private readonly back = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly sentAt = new Map<string, number>();
  private window: number[] = [];
  private readonly all: number[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A message went out. */
  sentMessage(type: string, eventId: string): void {
    this.sent.set(type, (this.sent.get(type) ?? 0) + 1);
    this.sentAt.set(eventId, this.now());
  }

  /** Something came back; `eventId` names the message it answers, when known (its first answer is timed). */
  answered(label: string, eventId?: string): void {
    this.back.set(label, (this.back.get(label) ?? 0) + 1);
    const sentAt = eventId === undefined ? undefined : this.sentAt.get(eventId);
    if (sentAt === undefined) return;
    this.sentAt.delete(eventId!);
    const millis = this.now() - sentAt;
    this.window.push(millis);
    this.all.push(millis);
  }

  /** A message could not be sent (the transport's error, in a few words). */
  failed(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  /** One line: totals so far, and the answer times since the last line. */
  line(elapsedSeconds: number, activeCalls: number): string {
    const window = [...this.window].sort((a, b) => a - b);
    this.window = [];
    const timing = window.length === 0 ? '' : ` | first answer p50 ${percentile(window, 50).toFixed(0)} ms, p99 ${percentile(window, 99).toFixed(0)} ms`;
    const failed = this.failures.size === 0 ? '' : ` | failed to send ${total(this.failures)}`;
    return `[${elapsedSeconds.toFixed(0).padStart(4)} s] sent ${total(this.sent)} | back ${total(this.back)} | calls under way ${activeCalls}${timing}${failed}`;
  }

  summary(activeCalls: number, elapsedSeconds: number): string {
    const all = [...this.all].sort((a, b) => a - b);
    const lines = [
      `Summary after ${elapsedSeconds.toFixed(1)} s`,
      `  sent      ${total(this.sent)}: ${counts(this.sent)}`,
      `  came back ${total(this.back)}: ${counts(this.back)}`,
      `  first answer to a message: ${all.length} timed, p50 ${percentile(all, 50).toFixed(1)} ms, p90 ${percentile(all, 90).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms`,
      `  unanswered messages: ${this.sentAt.size}; calls still under way: ${activeCalls}`,
    ];
    if (this.failures.size > 0) lines.push(`  failed to send ${total(this.failures)}: ${counts(this.failures)}`);
    return lines.join('\n');
  }
}
