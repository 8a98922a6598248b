import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers for a JSON API: nothing a response carries is a page to render,
 * frame or sniff, so the policy allows nothing (`default-src 'none'`).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * The policy of the GraphiQL page only, when it is enabled: yoga's page runs inline
 * scripts and loads its editor from unpkg, which the API's own policy forbids.
 */
export const graphiqlContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self' 'unsafe-inline' https://unpkg.com",
  "style-src 'self' 'unsafe-inline' https://unpkg.com",
  "font-src 'self' data: https://unpkg.com",
  "img-src 'self' data: https://raw.githubusercontent.com",
  "connect-src 'self' https://unpkg.com",
  'worker-src blob:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Responses carry tokens, confidential terms, claims and salts: no cache, shared or
 * private, may keep them.
 */
export function noStore(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  };
}

/**
 * CORS for the listed origins only; any other origin gets no CORS headers, so browsers
 * keep its pages from reading responses. Credentials travel in headers, not cookies.
 */
export function corsAllowList(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => {
      callback(null, origin !== undefined && allowed.has(origin));
    },
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    exposedHeaders: ['x-request-id', 'x-client-request-id', 'location', 'ratelimit', 'ratelimit-policy', 'retry-after'],
    credentials: false,
    maxAge: 600,
  });
}
