import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitReasonIn } from './exit-reason.js';

describe('exitReasonIn', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-exit-reason-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const log = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('names the uncaught error Node printed last, not the stack under it', () => {
    const file = log(
      'uncaught.log',
      [
        'file:///srv/api/dist/config.js:251',
        '        throw new Error(',
        '              ^',
        '',
        'Error: environment variable AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: must be above AUTH_FAILURES_PER_ADDRESS',
        '    at parseApiConfig (file:///srv/api/dist/config.js:251:15)',
        '    at file:///srv/api/dist/main.js:4:16',
        '',
        'Node.js v20.20.2',
        '',
      ].join('\n'),
    );
    expect(exitReasonIn(file)).toBe(
      'environment variable AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: must be above AUTH_FAILURES_PER_ADDRESS',
    );
  });

  it('names an error with a code, as Node prints a system error', () => {
    const file = log(
      'listen.log',
      'Error [ERR_SOCKET_BAD_PORT]: Port should be >= 0 and < 65536. Received 70000.\n    at x\n',
    );
    expect(exitReasonIn(file)).toBe('Port should be >= 0 and < 65536. Received 70000.');
  });

  it("names the last error-level line of a JSON log, the error's own message first", () => {
    const file = log(
      'pino.log',
      [
        JSON.stringify({ level: 30, msg: 'listening' }),
        JSON.stringify({ level: 50, msg: 'start failed', err: { message: 'the peers did not answer' } }),
        JSON.stringify({ level: 60, msg: 'database is locked' }),
        JSON.stringify({ level: 30, msg: 'closing' }),
        '',
      ].join('\n'),
    );
    expect(exitReasonIn(file)).toBe('database is locked');
  });

  it('names nothing for a log without an error, or no log at all', () => {
    expect(
      exitReasonIn(log('quiet.log', `${JSON.stringify({ level: 30, msg: 'bye' })}\nnot json {\n`)),
    ).toBeUndefined();
    expect(exitReasonIn(path.join(dir, 'missing.log'))).toBeUndefined();
  });
});
