/** A GraphQL subscription read over server-sent events, message by message. */
export class SseSubscription {
  readonly #controller: AbortController;
  /** The headers the stream was answered with. */
  readonly headers: Headers;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';

  private constructor(controller: AbortController, reader: ReadableStreamDefaultReader<Uint8Array>, headers: Headers) {
    this.#controller = controller;
    this.headers = headers;
    this.#reader = reader;
  }

  /** Resolves once the server has accepted the subscription and sent its headers. */
  static async open(url: string, query: string, headers: Record<string, string>): Promise<SseSubscription> {
    const controller = new AbortController();
    const response = await fetch(`${url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
      throw new Error(`the subscription was not accepted: ${response.status} ${await response.text()}`);
    }
    return new SseSubscription(controller, response.body.getReader(), response.headers);
  }

  /** The next `next` message's payload, or undefined when the stream ends or the wait runs out. */
  async next(timeoutMs = 15_000): Promise<unknown> {
    const timer = setTimeout(() => {
      this.#controller.abort();
    }, timeoutMs);
    try {
      for (;;) {
        const boundary = this.#buffer.indexOf('\n\n');
        if (boundary >= 0) {
          const lines = this.#buffer.slice(0, boundary).split('\n');
          this.#buffer = this.#buffer.slice(boundary + 2);
          const event = lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (event === 'complete') return undefined;
          if (event === 'next') return JSON.parse(data) as unknown;
          continue;
        }
        const chunk = await this.#reader.read();
        if (chunk.done) return undefined;
        this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
      }
    } catch (error) {
      if (this.#controller.signal.aborted) return undefined;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#controller.abort();
  }
}
