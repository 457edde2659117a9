/**
 * LISTEN on the log's channel: each commit of appends, by any process, is announced by a NOTIFY
 * (sent inside the appending transaction, so delivered only when it commits) and wakes this
 * store's live subscriptions at once. The listening connection is its own; when it is lost it is
 * opened again after a delay, and the subscriptions are woken (they read what they missed; their
 * poll at a long interval covers the time without it).
 */
import pg from 'pg';

export interface ListenerOptions {
  readonly connectionString: string;
  readonly channel: string;
  readonly reconnectDelayMs: number;
  readonly applicationName: string;
  /** Told of each notification, with its payload (the head of the log after the commit), and with nothing after (re)connecting. */
  readonly onNotification: (payload?: string) => void;
}

export class LogListener {
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Resolves when the first LISTEN is in place (or has failed: the poll still covers it). */
  readonly listening: Promise<void>;

  constructor(private readonly options: ListenerOptions) {
    this.listening = this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.options.applicationName });
    this.client = client;
    client.on('notification', (message) => this.options.onNotification(message.payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
      if (this.closed) await client.end();
      else this.options.onNotification();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.timer = setTimeout(() => void this.connect(), this.options.reconnectDelayMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
