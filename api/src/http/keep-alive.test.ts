import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { applyKeepAliveTimeout } from './keep-alive.js';

async function listening(keepAliveTimeoutMs: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_request, response) => response.end('ok'));
  applyKeepAliveTimeout(server, keepAliveTimeoutMs);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends one request on a raw connection and collects what comes back until the server closes it. */
function oneRequest(port: number): { answer: Promise<string>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: api\r\n\r\n'));
  const answer = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => {
      resolve(received);
    });
    socket.on('error', reject);
  });
  return { answer, socket };
}

describe('applyKeepAliveTimeout', () => {
  it('announces the idle timeout in the Keep-Alive header and keeps the connection open that long', async () => {
    const { server, port } = await listening(65_000);
    const { answer, socket } = oneRequest(port);
    await once(socket, 'data');
    // Still open after the answer, as Node's 5 s default would no longer be a minute later.
    expect(socket.destroyed).toBe(false);
    expect(server.keepAliveTimeout).toBe(65_000);
    socket.end();
    expect(await answer).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
    server.close();
  });

  it('closes a connection left idle past the timeout, from the server side', async () => {
    const { server, port } = await listening(1000);
    const { answer } = oneRequest(port);
    // The client never closes: the connection ends only because the server closes it.
    expect(await answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Keep-Alive: timeout=1\r\n/i);
    server.close();
  });

  it.each([0, 999, 1500.5, Number.NaN])('refuses %s ms', (wrong) => {
    expect(() => {
      applyKeepAliveTimeout(http.createServer(), wrong);
    }).toThrow(RangeError);
    expect(() => {
      applyKeepAliveTimeout(http.createServer(), wrong);
    }).toThrow(/^keepAliveTimeoutMs: must be an integer/);
  });
});
