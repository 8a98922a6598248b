import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeHttpServer, createHttpServer, listenHttp, serveHandedConnections } from './listen.js';

const busyListener = fileURLToPath(new URL('../test-support/busy-listener.js', import.meta.url));

/** The accept-queue limit the kernel keeps for a listening port (`ss` shows it as Send-Q). */
function kernelBacklog(port: number): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${String(port)}`], { encoding: 'utf8' }).trim();
  return Number(line.split(/\s+/)[2]);
}

/** Opens a TCP connection and resolves once the handshake completes. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends one request on an open connection and resolves with the answer's text once it ends. */
function requestOn(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('ok')) resolve(received);
    });
    socket.once('error', reject);
    socket.write('GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n');
  });
}

/** Answers once the whole body is read, as the API's body parsers do. */
function readsTheBody(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  request.once('end', () => response.end('ok'));
}

/**
 * Sends headers promising 100 bytes of body, then six bytes and nothing more, and
 * resolves with everything received once the server closes the connection.
 */
async function answerToStalledBody(port: number): Promise<string> {
  const socket = await connect(port);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = once(socket, 'close');
  socket.write('POST / HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a": ');
  await closed;
  return received;
}

describe('listenHttp', () => {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

  it('gives the kernel the configured backlog (capped at net.core.somaxconn), not Node 511', async () => {
    const server = await listenHttp((_request, response) => response.end(), {
      port: 0,
      host: '127.0.0.1',
      backlog: 3000,
      keepAliveTimeoutMs: 65_000,
      requestTimeoutMs: 30_000,
    });
    try {
      expect(kernelBacklog((server.address() as AddressInfo).port)).toBe(Math.min(3000, somaxconn));
      expect(server.keepAliveTimeout).toBe(65_000);
    } finally {
      server.close();
    }
  });

  it('answers a request whose body does not arrive in time with 408 in the JSON error shape, and closes the connection', async () => {
    const server = await listenHttp(readsTheBody, {
      port: 0,
      host: '127.0.0.1',
      backlog: 16,
      keepAliveTimeoutMs: 65_000,
      requestTimeoutMs: 1000,
    });
    try {
      const received = await answerToStalledBody((server.address() as AddressInfo).port);
      expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 408,
        code: 'REQUEST_TIMEOUT',
      });
    } finally {
      server.close();
    }
  });

  it('fails with the bind error when the address is taken', async () => {
    const first = await listenHttp((_request, response) => response.end(), {
      port: 0,
      host: '127.0.0.1',
      backlog: 16,
      keepAliveTimeoutMs: 65_000,
      requestTimeoutMs: 30_000,
    });
    const { port } = first.address() as AddressInfo;
    try {
      await expect(
        listenHttp((_request, response) => response.end(), {
          port,
          host: '127.0.0.1',
          backlog: 16,
          keepAliveTimeoutMs: 65_000,
          requestTimeoutMs: 30_000,
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      first.close();
    }
  });

  it('holds a burst of 1,000 new connections while the process cannot accept, and serves each once it can', async () => {
    const burst = 1000;
    // More than Node's default backlog (511): without ours, the kernel drops the excess.
    expect(Math.min(4096, somaxconn)).toBeGreaterThan(burst);
    const directory = mkdtempSync(path.join(tmpdir(), 'gl-listen-'));
    const releaseFile = path.join(directory, 'release');
    const child = fork(busyListener, ['4096', releaseFile], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const sockets: net.Socket[] = [];
    try {
      const [{ port }] = (await once(child, 'message')) as [{ port: number }];
      // Every handshake completes while the listener's event loop is blocked.
      sockets.push(...(await Promise.all(Array.from({ length: burst }, () => connect(port)))));
      writeFileSync(releaseFile, '');
      const answers = await Promise.all(sockets.map(requestOn));
      expect(answers.filter((answer) => answer.startsWith('HTTP/1.1 200 OK')).length).toBe(burst);
    } finally {
      for (const socket of sockets) socket.destroy();
      child.kill();
      rmSync(directory, { recursive: true, force: true });
    }
    // Without the backlog the burst never completes; fail in seconds rather than minutes.
  }, 30_000);
});

describe('serveHandedConnections', () => {
  /** A server that never listens, fed by a plain TCP listener handing it every socket, as a cluster primary does. */
  async function handedServer(app: Parameters<typeof createHttpServer>[0], requestTimeoutMs: number) {
    const server = createHttpServer(app, { keepAliveTimeoutMs: 65_000, requestTimeoutMs });
    const take = serveHandedConnections(server);
    const acceptor = net.createServer({ pauseOnConnect: true }, take);
    acceptor.listen(0, '127.0.0.1');
    await once(acceptor, 'listening');
    return {
      port: (acceptor.address() as AddressInfo).port,
      close() {
        acceptor.close();
        server.close();
        server.closeAllConnections();
      },
    };
  }

  it('answers requests on connections it never accepted', async () => {
    const handed = await handedServer((_request, response) => response.end('ok'), 30_000);
    try {
      expect(await requestOn(await connect(handed.port))).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      handed.close();
    }
  }, 10_000);

  it('holds handed connections to the request timeout: a body that does not arrive is answered 408 and closed', async () => {
    const handed = await handedServer(readsTheBody, 1000);
    try {
      expect(await answerToStalledBody(handed.port)).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    } finally {
      handed.close();
    }
    // Node checks handed connections only once the server is told it serves; without that the connection stays open.
  }, 30_000);
});

describe('closeHttpServer', () => {
  const options = { port: 0, host: '127.0.0.1', backlog: 511, keepAliveTimeoutMs: 5000, requestTimeoutMs: 30_000 };

  it('answers the requests it is serving before it closes their connections, and closes event streams without waiting', async () => {
    let started = 0;
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await listenHttp((request: IncomingMessage, response: ServerResponse) => {
      started += 1;
      if (request.url === '/events') {
        // An event stream never ends by itself.
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(': open\n\n');
        return;
      }
      void released.then(() => {
        response.end('answered');
      });
    }, options);
    const { port } = server.address() as AddressInfo;
    const stream = await fetch(`http://127.0.0.1:${String(port)}/events`);
    const streamEnded = stream.text().then(
      () => 'ended',
      () => 'ended',
    );
    const slow = fetch(`http://127.0.0.1:${String(port)}/slow`).then((answer) => answer.text());
    while (started < 2) await new Promise((resolve) => setTimeout(resolve, 5));

    // A grace long past any test's run: closing must not wait for the stream.
    const closed = closeHttpServer(server, 600_000);
    release?.();
    expect(await slow).toBe('answered');
    await closed;
    expect(await streamEnded).toBe('ended');
  });

  it('closes a connection whose request is still unanswered once the grace is over', async () => {
    const server = await listenHttp(() => undefined, options);
    const { port } = server.address() as AddressInfo;
    const never = fetch(`http://127.0.0.1:${String(port)}/`).then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closeHttpServer(server, 100);
    expect(await never).toBe('closed');
  });
});
