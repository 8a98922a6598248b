/**
 * A process that listens as the API does and then stops accepting, as a saturated API
 * does: it reports its port over IPC, blocks its event loop until the file named by its
 * second argument exists, then serves `ok` to every request.
 *
 * Arguments: <backlog> <release file>.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { listenHttp } from '../http/listen.js';

const [backlog, releaseFile] = process.argv.slice(2);
if (backlog === undefined || releaseFile === undefined)
  throw new Error('usage: busy-listener <backlog> <release file>');
const server = await listenHttp(
  (_request, response) => {
    response.end('ok');
  },
  { port: 0, host: '127.0.0.1', backlog: Number(backlog), keepAliveTimeoutMs: 65_000, requestTimeoutMs: 30_000 },
);
process.send?.({ port: (server.address() as AddressInfo).port }, () => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(releaseFile)) Atomics.wait(cell, 0, 0, 20);
});
