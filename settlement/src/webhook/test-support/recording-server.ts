import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it, body exactly as sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAt: number;
}

/** What to answer; `hang` never answers (for timeouts). */
export type Reply = { readonly status: number; readonly body?: unknown } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers what the test
 * says: a stand-in for a provider (adapter tests) or for our callback endpoint
 * (sandbox tests).
 */
export interface RecordingServer {
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Replaces the answer for the requests to come; `index` counts from 0 over all requests. */
  reply(answer: (request: RecordedRequest, index: number) => Reply): void;
  /** Resolves with the requests once there are at least `count`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  close(): Promise<void>;
}

/** Starts a {@link RecordingServer} that answers 204 until told otherwise. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let answer: (request: RecordedRequest, index: number) => Reply = () => ({ status: 204 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      const reply = answer(recorded, requests.length - 1);
      if (reply === 'hang') return;
      if (reply.body === undefined) {
        response.writeHead(reply.status).end();
      } else {
        response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(next) {
      answer = next;
    },
    async waitForRequests(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return requests;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}

/** A fresh Standard Webhooks secret. */
export function testSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return `whsec_${Buffer.from(bytes).toString('base64')}`;
}
