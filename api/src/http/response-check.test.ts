import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { pino } from 'pino';
import { z } from 'zod';
import { errorHandler } from '../errors/error-handler.js';
import { mountRoutes, route } from './route.js';

const silent = pino({ level: 'silent' });

/** Two public routes: one answers what it declares, one a field more (as a stale schema would let through). */
const routes = [
  route({
    method: 'get',
    path: '/v1/kept',
    operationId: 'keptPromise',
    summary: 'Answers what it declares',
    tag: 'test',
    access: 'public',
    response: z.object({ count: z.string() }),
    handler: () => Promise.resolve({ count: '1' }),
  }),
  route({
    method: 'get',
    path: '/v1/drifted',
    operationId: 'driftedAnswer',
    summary: 'Answers a field its schema does not declare',
    tag: 'test',
    access: 'public',
    response: z.object({ count: z.string() }),
    handler: () => Promise.resolve({ count: '1', secret: 'not in the document' } as { count: string }),
  }),
];

async function serve(checkResponses: boolean): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use((_request, response, next) => {
    response.locals.requestId = 'test-request';
    response.locals.log = silent;
    next();
  });
  app.use(mountRoutes(routes, { checkResponses }));
  app.use(errorHandler(silent));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe('mountRoutes with checkResponses', () => {
  it('answers a body that matches the declared schema as it is', async () => {
    const { url, server } = await serve(true);
    try {
      expect(await get(`${url}/v1/kept`)).toEqual({ status: 200, body: { count: '1' } });
    } finally {
      server.close();
    }
  });

  it('turns a body the declared schema refuses into a 500 naming the operation and the fault', async () => {
    const { url, server } = await serve(true);
    try {
      const answer = await get(`${url}/v1/drifted`);
      expect(answer).toMatchObject({ status: 500, body: { code: 'RESPONSE_SCHEMA_MISMATCH' } });
      const { message } = answer.body as { message: string };
      expect(message).toContain('driftedAnswer');
      expect(message).toContain('additional properties');
      expect(JSON.stringify(answer.body)).not.toContain('not in the document');
    } finally {
      server.close();
    }
  });

  it('sends the body unchecked when the option is off, as in production', async () => {
    const { url, server } = await serve(false);
    try {
      expect(await get(`${url}/v1/drifted`)).toEqual({
        status: 200,
        body: { count: '1', secret: 'not in the document' },
      });
    } finally {
      server.close();
    }
  });
});

describe('mountRoutes outside its routes', () => {
  it('passes a request under no route prefix on untouched, and still matches prefixes without regard to case', async () => {
    const { url, server } = await serve(false);
    try {
      expect(await get(`${url}/V1/kept`)).toEqual({ status: 200, body: { count: '1' } });
      // Nothing after the routes answers, so the error handler's 404 comes from Express itself.
      const elsewhere = await fetch(`${url}/graphql`);
      expect(elsewhere.status).toBe(404);
      expect(await elsewhere.text()).toContain('Cannot GET /graphql');
    } finally {
      server.close();
    }
  });
});
