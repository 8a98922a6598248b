import { Router } from 'express';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { IdentityIssuer } from '../identity/identity-issuer.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * /healthz: the process serves requests. /readyz: the peers, the CAs and the database
 * answer. /metrics: Prometheus text.
 */
export function healthRouter(deps: { ledger: LedgerAccess; issuer: IdentityIssuer; db: Db; metrics: Metrics }): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
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
  router.get('/metrics', async (_request, response) => {
    response.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
