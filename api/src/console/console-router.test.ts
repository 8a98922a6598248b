import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suiteServer } from '../test-support/suite-server.js';

function builtConsole(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'gl-console-'));
  mkdirSync(path.join(directory, 'assets'));
  writeFileSync(
    path.join(directory, 'index.html'),
    '<!doctype html><title>console</title><script type="module" src="/console/assets/app.js"></script>',
  );
  writeFileSync(path.join(directory, 'assets', 'app.js'), 'export {};\n');
  return directory;
}

describe('the web console at /console', () => {
  const consoleDir = builtConsole();
  const server = suiteServer({ GIGLEDGER_CONSOLE_DIR: consoleDir });
  afterAll(() => {
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('answers its page for every console path under a policy with no inline script and no other origin', async () => {
    for (const page of ['/console', '/console/', '/console/agreements/A-1', '/console/verify']) {
      const answer = await server().request('GET', page);
      expect({ page, status: answer.status }).toEqual({ page, status: 200 });
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.text).toContain('/console/assets/app.js');
      const policy = answer.headers.get('content-security-policy') ?? '';
      expect(policy.split('; ')).toEqual(
        expect.arrayContaining([
          "default-src 'none'",
          "script-src 'self'",
          "connect-src 'self'",
          "frame-ancestors 'none'",
        ]),
      );
      expect(policy).not.toMatch(/unsafe-|https?:|\*/);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('serves hashed assets as cacheable files and a missing one as 404, never the page', async () => {
    const asset = await server().request('GET', '/console/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    const missing = await server().request('GET', '/console/assets/gone.js');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    // A path that does not decode is a malformed request, as it is anywhere else in the API.
    for (const malformed of ['/console/assets/x%ZZ', '/console/x%ZZ']) {
      const answer = await server().request('GET', malformed);
      expect([answer.status, answer.body]).toMatchObject([400, { code: 'MALFORMED_REQUEST' }]);
    }
  });

  it('answers OPTIONS on its pages 204 with Allow, and another method 405 with the same Allow, as every API path', async () => {
    for (const page of ['/console', '/console/agreements/A-1']) {
      const options = await server().request('OPTIONS', page);
      expect([page, options.status, options.headers.get('allow'), options.text]).toEqual([
        page,
        204,
        'GET, HEAD, OPTIONS',
        '',
      ]);
      const patch = await server().request('PATCH', page);
      expect([page, patch.status, patch.headers.get('allow'), patch.body]).toEqual([
        page,
        405,
        'GET, HEAD, OPTIONS',
        expect.objectContaining({ code: 'METHOD_NOT_ALLOWED' }),
      ]);
    }
  });
});

describe('the web console before it is built', () => {
  const consoleDir = mkdtempSync(path.join(os.tmpdir(), 'gl-console-empty-'));
  const server = suiteServer({ GIGLEDGER_CONSOLE_DIR: consoleDir });
  afterAll(() => {
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('answers 404 CONSOLE_NOT_BUILT rather than an empty page', async () => {
    const answer = await server().request('GET', '/console/agreements');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 'CONSOLE_NOT_BUILT' });
  });
});
