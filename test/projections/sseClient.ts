/**
 * A Server-Sent Events client for tests and benchmarks: connects with fetch, parses the stream
 * (event, id, data; comments ignored) and hands each message over as it arrives, with the time
 * it arrived.
 */
export interface SseMessage {
  readonly event: string;
  readonly id?: string;
  readonly data: string;
  /** performance.now() when its last line arrived. */
  readonly receivedAt: number;
}

export interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  /** How many comment lines (heartbeats) came so far. */
  readonly comments: () => number;
  /** Resolves once `count` comment lines (heartbeats) have come in all. */
  untilComments(count: number): Promise<void>;
  /** The next message (of `event`, when given), waiting at most `timeoutMs`. */
  next(event?: string, timeoutMs?: number): Promise<SseMessage>;
  /** Called with every message as it arrives, besides being queued for `next`. */
  onMessage(listener: (message: SseMessage) => void): void;
  close(): void;
}

export const connectSse = async (url: string, headers: Record<string, string> = {}): Promise<SseClient> => {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const queue: SseMessage[] = [];
  const waiters: (() => void)[] = [];
  const listeners: ((message: SseMessage) => void)[] = [];
  let ended = false;
  let comments = 0;

  const deliver = (message: SseMessage): void => {
    queue.push(message);
    for (const listener of listeners) listener(message);
    for (const wake of waiters.splice(0)) wake();
  };

  void (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let fields: { event?: string; id?: string; data: string[] } = { data: [] };
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (fields.data.length > 0) deliver({ event: fields.event ?? 'message', ...(fields.id === undefined ? {} : { id: fields.id }), data: fields.data.join('\n'), receivedAt: performance.now() });
            fields = { data: [] };
          } else if (line.startsWith(':')) {
            comments++;
            for (const wake of waiters.splice(0)) wake();
          } else {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'data') fields.data.push(value);
            else if (name === 'event') fields.event = value;
            else if (name === 'id') fields.id = value;
          }
        }
      }
    } catch {
      // Aborted, or the server ended the stream.
    } finally {
      ended = true;
      for (const wake of waiters.splice(0)) wake();
    }
  })();

  return {
    status: response.status,
    headers: response.headers,
    comments: () => comments,
    untilComments: async (count) => {
      while (comments < count) {
        if (ended) throw new Error(`The stream ended after ${comments} of ${count} comments.`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    onMessage: (listener) => void listeners.push(listener),
    next: async (event, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = queue.findIndex((message) => event === undefined || message.event === event);
        if (index >= 0) return queue.splice(0, index + 1).at(-1)!;
        if (ended) throw new Error(`The stream ended before a${event ? ` "${event}"` : ''} message came.`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`No${event ? ` "${event}"` : ''} message within ${timeoutMs} ms.`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => abort.abort(),
  };
};
