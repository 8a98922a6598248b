import { Router } from 'express';
import type { PeerConnections } from '@gigledger/gateway';

/** /healthz says the process serves requests; /readyz that every organisation's peer is reachable. */
export function healthRouter(connections: PeerConnections): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    try {
      await connections.waitForReady(3000);
      response.json({ status: 'ready' });
    } catch (error) {
      response
        .status(503)
        .json({ status: 'not ready', reason: error instanceof Error ? error.message : String(error) });
    }
  });
  return router;
}
