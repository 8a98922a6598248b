import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.js';

/** What Node's HTTP parser refused, as the API's error shape names it. */
function refusalOf(error: NodeJS.ErrnoException): { status: number; reason: string; code: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        code: 'HEADERS_TOO_LARGE',
        message: 'the request line and headers together exceed 16 KB; send long values in a POST body',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        code: 'REQUEST_TIMEOUT',
        message: 'the request was not received in full in time',
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        code: 'MALFORMED_REQUEST',
        message: 'the request is not valid HTTP/1.1',
      };
  }
}

/**
 * Answers a request that Node's HTTP parser refuses before the app sees it (request line
 * and headers over 16 KB, a malformed request, headers sent too slowly) with the API's
 * own error shape, `{status, code, message, requestId}` in JSON, and closes the
 * connection: Node's default is a bare status line with no body (RFC 6585 §5 for 431).
 * A kept-alive connection whose earlier answers are complete is answered as a new one is;
 * a connection reset, no longer writable, or with an answer already partly written is
 * closed without one.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: Node attaches the response under way to its socket and
    // detaches it once it has finished, so a kept-alive connection's next request finds
    // none, and a request whose body is late (408) finds its own, not yet begun. Only once
    // an attached response has sent its head would bytes written now corrupt it.
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    const { status, reason, code, message } = refusalOf(error);
    const requestId = randomUUID();
    const body = JSON.stringify({ status, code, message, requestId });
    socket.end(
      [
        `HTTP/1.1 ${String(status)} ${reason}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${String(Buffer.byteLength(body))}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        `X-Request-Id: ${requestId}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}

/**
 * Refuses an HTTP/1.1 request without a Host header, and any request with more than one,
 * as RFC 9112 §3.2 requires, with 400 MALFORMED_REQUEST naming `header.host` in the API's
 * error shape. Node makes the first check before the app when its `requireHostHeader` is
 * on, but answers it with an empty body, and keeps the first of repeated Host headers
 * without a word; listenHttp turns Node's check off so that this one answers instead.
 */
export function requireOneHost(): RequestHandler {
  return (request, _response, next) => {
    const hosts = request.rawHeaders.filter((name, index) => index % 2 === 0 && /^host$/i.test(name)).length;
    const missing = hosts === 0 && request.httpVersion === '1.1';
    if (missing || hosts > 1) {
      const reason = missing ? 'an HTTP/1.1 request must carry a Host header' : 'a request carries one Host header';
      next(new ApiError(400, 'MALFORMED_REQUEST', `header.host: ${reason} (RFC 9112 §3.2)`, 'header.host'));
      return;
    }
    next();
  };
}
