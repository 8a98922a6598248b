import { Router } from 'express';
import type { LedgerSession } from '@gigledger/gateway';

/** GET /v1/system/version: the chaincode version read through the ledger. */
export function systemRouter(serviceSession: LedgerSession): Router {
  const router = Router();
  router.get('/v1/system/version', async (_request, response) => {
    response.json(await serviceSession.system.version());
  });
  return router;
}
