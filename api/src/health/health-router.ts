import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Store } from 'express-rate-limit';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { unauthenticated } from '../errors/api-error.js';
import { callerRateLimit } from '../http/rate-limits.js';
import type { IdentityIssuer } from '../identity/identity-issuer.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Metrics } from '../observability/metrics.js';

/** Compared as digests so that neither the length nor the content leaks through timing. */
function bearerTokenIs(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (request, _response, next) => {
    const presented = /^Bearer (.+)$/i.exec(request.get('authorization') ?? '')?.[1];
    const matches =
      presented !== undefined && timingSafeEqual(createHash('sha256').update(presented).digest(), expected);
    next(matches ? undefined : unauthenticated('this endpoint needs the metrics bearer token'));
  };
}

/**
 * /healthz: the process serves requests. /readyz: the peers, the CAs and the database
 * answer. /metrics: Prometheus text (in an API cluster, every process's summed). /readyz and /metrics do work on every call and
 * describe the deployment, so they are rate-limited per address and, when
 * `probes.token` is set, answer only that bearer token (401 UNAUTHENTICATED otherwise).
 */
export function healthRouter(deps: {
  ledger: LedgerAccess;
  issuer: IdentityIssuer;
  db: Db;
  metrics: Metrics;
  config: { readonly probes: { readonly token: string | undefined; readonly rateLimitPerMinute: number } };
  rateLimitStore?: ((name: string) => Store) | undefined;
  metricsText?: (() => Promise<string>) | undefined;
}): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  const guarded: RequestHandler[] = [
    callerRateLimit(deps.config.probes.rateLimitPerMinute, { store: deps.rateLimitStore?.('probes') }).middleware,
  ];
  if (deps.config.probes.token !== undefined) guarded.push(bearerTokenIs(deps.config.probes.token));
  router.get('/readyz', ...guarded, async (_request, response) => {
    const [peers, certificateAuthorities, database] = await Promise.all([
      deps.ledger.ready(),
      deps.issuer.ready(),
      sql`select 1 as one`.execute(deps.db).then(
        () => true,
        () => false,
      ),
    ]);
    const checks = { peers, certificateAuthorities, database };
    const ready = Object.values(checks).every(Boolean);
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  router.get('/metrics', ...guarded, async (_request, response) => {
    const text = await (deps.metricsText ?? (() => deps.metrics.registry.metrics()))();
    response.type(deps.metrics.registry.contentType).send(text);
  });
  return router;
}
