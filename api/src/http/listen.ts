import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { answerClientErrors } from './client-errors.js';
import { applyKeepAliveTimeout } from './keep-alive.js';

/** How the API's HTTP server treats its connections, wherever they come from. */
export interface ConnectionOptions {
  /** Idle time of a kept-alive connection, in milliseconds (see applyKeepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /**
   * Time to receive a whole request, headers and body, in milliseconds; past it the client
   * is answered 408 REQUEST_TIMEOUT and the connection closed. Node's default (300 s) lets
   * a client that sends a body slowly hold a connection for five minutes.
   */
  readonly requestTimeoutMs: number;
}

/** Where and how the API's HTTP server listens. */
export interface ListenOptions extends ConnectionOptions {
  /** TCP port; 0 lets the system choose one. */
  readonly port: number;
  readonly host: string;
  /**
   * Connections the kernel completes and holds for the server while it is busy and has
   * not accepted them yet (listen(2)'s backlog; Linux caps it at `net.core.somaxconn`).
   */
  readonly backlog: number;
}

/**
 * The API's HTTP server, not yet listening: the app's own error shape for requests Node's
 * parser refuses (and for a missing Host, which the app must then refuse with
 * requireOneHost), the configured kept-alive idle time and request timeout.
 *
 * @throws RangeError for a keep-alive timeout applyKeepAliveTimeout refuses.
 */
export function createHttpServer(app: RequestListener, options: ConnectionOptions): Server {
  // Node would answer an HTTP/1.1 request without Host with a bare 400; the app answers it
  // in its own shape instead (requireOneHost).
  const server = http.createServer(
    {
      requireHostHeader: false,
      // Node looks for overdue requests every 30 s by default, which would let one run up to
      // the timeout plus 30 s; a tenth of the timeout keeps the overrun small.
      connectionsCheckingInterval: Math.min(30_000, Math.max(1000, Math.round(options.requestTimeoutMs / 10))),
    },
    app,
  );
  answerClientErrors(server);
  trackResponses(server);
  applyKeepAliveTimeout(server, options.keepAliveTimeoutMs);
  server.requestTimeout = options.requestTimeoutMs;
  // Node checks both timeouts on one timer; headers alone may not take longer than the whole request.
  server.headersTimeout = Math.min(server.headersTimeout, options.requestTimeoutMs);
  return server;
}

/**
 * Listens with the API's connection handling (see createHttpServer) and a listen backlog
 * sized for many clients connecting at once. Node's default backlog is 511: a burst of
 * more new connections than that while the event loop is busy (a load test opening 2,048
 * at once against a saturated API) overflows the accept queue, and Linux answers the
 * excess with resets the client sees as `ECONNRESET` before any request is sent.
 *
 * Resolves once the server is listening.
 *
 * @throws the listen error (EADDRINUSE, EACCES) when the address cannot be bound;
 *   RangeError for a keep-alive timeout applyKeepAliveTimeout refuses.
 */
export async function listenHttp(app: RequestListener, options: ListenOptions): Promise<Server> {
  const server = createHttpServer(app, options);
  server.listen({ port: options.port, host: options.host, backlog: options.backlog });
  await once(server, 'listening');
  return server;
}

/**
 * Readies a server that never listens itself (an API cluster's worker) to serve
 * connections another process accepted and handed over, and returns what takes each one.
 *
 * Node keeps its list of a server's connections, and with it the request and header
 * timeouts and `closeAllConnections`, only from the server's `'listening'` event on; a
 * server that never binds a port has to be told once that it now serves. `'connection'`
 * is the documented way in for a socket the server did not accept.
 */
export function serveHandedConnections(server: Server): (socket: Socket) => void {
  server.emit('listening');
  return (socket) => {
    server.emit('connection', socket);
    // A socket accepted paused (`pauseOnConnect`) in this process is read from here on.
    socket.resume();
  };
}

/** How long {@link closeHttpServer} waits for requests being served to be answered. */
export const closeGraceMs = 2000;

/**
 * Closes `server`: no new requests, idle connections at once, then each connection once
 * the request it serves is answered, without waiting for responses already streaming
 * (event streams never end by themselves), and whatever is still unanswered after
 * `graceMs`. A worker whose primary has
 * gone answers the requests that were waiting on it 503 `SERVER_RESTARTING` a few turns
 * after the disconnect that closes it; closing their connections at once would leave
 * their clients a reset, with no word whether to send a command again.
 *
 * Resolves once every connection is closed.
 */
export async function closeHttpServer(server: Server, graceMs = closeGraceMs): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  server.closeIdleConnections();
  const answering = [...responsesBeingServed(server)];
  const deadline = Date.now() + graceMs;
  // A response whose head is out is either ended or streaming (an event stream never ends by itself).
  while (Date.now() < deadline && answering.some((response) => !response.headersSent)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  server.closeAllConnections();
  await closed;
}

const servedResponses = new WeakMap<Server, Set<ServerResponse>>();

/** Keeps the responses a server is writing, for {@link closeHttpServer}. */
function trackResponses(server: Server): void {
  const responses = new Set<ServerResponse>();
  servedResponses.set(server, responses);
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    responses.add(response);
    response.once('close', () => responses.delete(response));
  });
}

function responsesBeingServed(server: Server): ReadonlySet<ServerResponse> {
  return servedResponses.get(server) ?? new Set();
}
