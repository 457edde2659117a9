/**
 * Writes the responses of a server-streaming call with back-pressure: a write that fills the
 * call's buffer waits for it to drain (HTTP/2 flow control reaches back to the client's reader),
 * and everything stops as soon as the client cancels or the connection goes away.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';

export class ResponseWriter<Request, Response> {
  private stopped = false;
  private readonly stopListeners = new Set<() => void>();
  /** Resolves when the call is cancelled or closed: the moment to stop producing. */
  readonly whenStopped: Promise<void>;

  constructor(private readonly call: ServerWritableStream<Request, Response>) {
    this.whenStopped = new Promise((resolve) => this.stopListeners.add(resolve));
    const stop = (): void => {
      this.stopped = true;
      for (const listener of this.stopListeners) listener();
      this.stopListeners.clear();
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
  }

  get isStopped(): boolean {
    return this.stopped || this.call.cancelled;
  }

  /** Write one response; false when the call is gone and the producer should stop. */
  async write(response: Response): Promise<boolean> {
    if (this.isStopped) return false;
    if (!this.call.write(response)) {
      await Promise.race([new Promise((resolve) => this.call.once('drain', resolve)), this.whenStopped]);
    }
    return !this.isStopped;
  }

  end(): void {
    if (!this.isStopped) this.call.end();
  }
}
