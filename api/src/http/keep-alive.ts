import type { Server } from 'node:http';

/**
 * Sets how long the server keeps an idle kept-alive connection open (Node's default is
 * 5 s). A proxy, load balancer or HTTP client that keeps connections open longer than
 * the server may send a request on one the server is closing that very moment, and its
 * caller sees a reset or a 502, so the server's timeout must be the longer one. Node
 * announces it in the `Keep-Alive: timeout=<s>` answer header, which clients such as
 * undici read and stay under. Idle connections are not subject to `headersTimeout`.
 *
 * @param keepAliveTimeoutMs idle time in milliseconds, an integer of at least 1,000.
 * @throws RangeError when keepAliveTimeoutMs is not such an integer.
 */
export function applyKeepAliveTimeout(server: Server, keepAliveTimeoutMs: number): void {
  if (!Number.isInteger(keepAliveTimeoutMs) || keepAliveTimeoutMs < 1000) {
    throw new RangeError(`keepAliveTimeoutMs: must be an integer of at least 1000, got ${String(keepAliveTimeoutMs)}`);
  }
  server.keepAliveTimeout = keepAliveTimeoutMs;
}
