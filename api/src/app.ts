import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { LedgerSession, PeerConnections } from '@gigledger/gateway';
import { errorHandler } from './errors/error-handler.js';
import { healthRouter } from './health/health-router.js';
import { systemRouter } from './system/system-router.js';

export interface AppDependencies {
  readonly connections: PeerConnections;
  /** Session of the server's own service identity, for reads that need no user. */
  readonly serviceSession: LedgerSession;
  readonly log: (entry: Record<string, unknown>) => void;
}

/** Builds the HTTP application from its dependencies; main.ts only parses config and listens. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((request, response, next) => {
    const requestId = request.get('x-request-id') ?? randomUUID();
    response.locals.requestId = requestId;
    response.setHeader('x-request-id', requestId);
    next();
  });
  app.use(express.json({ limit: '1mb' }));
  app.use(healthRouter(deps.connections));
  app.use(systemRouter(deps.serviceSession));
  app.use((request, response) => {
    response.status(404).json({
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      message: `no route ${request.method} ${request.path}`,
      requestId: response.locals.requestId as string,
    });
  });
  app.use(errorHandler(deps.log));
  return app;
}
