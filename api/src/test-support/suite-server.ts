import { startTestServer, type TestServer } from './test-server.js';

/**
 * One test server for the enclosing `describe`: started in its `beforeAll` with `options`
 * (those of {@link startTestServer}), closed in its `afterAll`. The returned function
 * answers that server inside the suite's tests and hooks.
 *
 * @throws Error when the returned function is called before the suite's `beforeAll` has run.
 */
export function suiteServer(...options: Parameters<typeof startTestServer>): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(...options);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (server === undefined) throw new Error('the suite server starts in beforeAll; ask for it inside a test');
    return server;
  };
}
