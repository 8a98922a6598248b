import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { ApiError } from '../errors/api-error.js';

/**
 * The web console's policy: scripts, styles, images and API calls from this origin only,
 * no inline script or style and nothing from another origin, so an injected tag can
 * neither run nor send what the page holds elsewhere. With OIDC sign-in the page may also
 * call the issuer's origin, for its discovery document and token endpoint (the
 * authorization request is a top-level navigation, which the policy does not govern).
 *
 * @param oidcIssuer the OIDC issuer the console signs in with, if any.
 */
export function consoleContentSecurityPolicy(oidcIssuer?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    oidcIssuer === undefined ? "connect-src 'self'" : `connect-src 'self' ${new URL(oidcIssuer).origin}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The paths the console's page answers on (GET): its root and every path under it. */
export const consolePagePaths = ['/console', '/console/{*page}'] as const;

/**
 * Serves the built web console at `/console`: its hashed assets (cacheable for a year,
 * since their names change with their content) and `index.html` for every other path
 * under it, where the page's own router takes over. The console calls the public API
 * like any other client; this router serves files only.
 *
 * @param directory the console build output (`index.html`, `assets/`); while it holds no
 *   `index.html` (the console was not built) every console path answers 404 `CONSOLE_NOT_BUILT`.
 * @param oidcIssuer the issuer of the console's OIDC sign-in, when offered.
 */
export function consoleRouter(directory: string, oidcIssuer?: string): Router {
  const router = express.Router();
  const policy = consoleContentSecurityPolicy(oidcIssuer);
  const index = path.join(directory, 'index.html');
  router.use('/console', (_request, response, next) => {
    response.setHeader('Content-Security-Policy', policy);
    if (!existsSync(index)) {
      next(new ApiError(404, 'CONSOLE_NOT_BUILT', 'the web console is not built here (npm run build)'));
      return;
    }
    next();
  });
  router.use(
    '/console/assets',
    (_request, response, next) => {
      // Assets are public code, unlike API answers; the app's no-store would make every page load fetch them again.
      response.removeHeader('Cache-Control');
      next();
    },
    express.static(path.join(directory, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
    }),
    (request, _response, next) => {
      // serve-static passes a path it cannot decode on as if the file were missing.
      try {
        decodeURIComponent(request.path);
      } catch {
        next(new ApiError(400, 'MALFORMED_REQUEST', 'the request path is not valid percent-encoded UTF-8'));
        return;
      }
      next(new ApiError(404, 'ROUTE_NOT_FOUND', `no console asset ${request.path}`));
    },
  );
  router.get([...consolePagePaths], (_request, response) => {
    response.sendFile(index);
  });
  return router;
}
