import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startRecordingServer, testSecret } from '../webhook/test-support/recording-server.js';
import { parseSandboxConfig } from './sandbox-config.js';

const environment = {
  SANDBOX_PORT: '0',
  SANDBOX_OUTBOUND_SECRET: testSecret(),
  SANDBOX_CALLBACK_SECRET: testSecret(),
  SANDBOX_CALLBACK_URL: 'http://127.0.0.1:9/callbacks',
  SANDBOX_API_KEY: 'sandbox-api-key-0123456789',
};

describe('sandbox configuration', () => {
  it('reads the environment, with defaults for the fault controls', () => {
    expect(parseSandboxConfig(environment)).toEqual({
      port: 0,
      outboundSecret: environment.SANDBOX_OUTBOUND_SECRET,
      callbackSecret: environment.SANDBOX_CALLBACK_SECRET,
      callbackUrl: environment.SANDBOX_CALLBACK_URL,
      apiKey: environment.SANDBOX_API_KEY,
      failAmountSuffixes: ['13'],
      failPayees: [],
      duplicateEvery: 0,
      lateEvery: 0,
      lateMs: 5000,
      callbackDelayMs: 200,
    });
    expect(
      parseSandboxConfig({
        ...environment,
        SANDBOX_FAIL_AMOUNT_SUFFIXES: '13, 99',
        SANDBOX_FAIL_PAYEES: 'Mallory Example,FR7630006000011234567890189',
        SANDBOX_DUPLICATE_EVERY: '3',
      }),
    ).toMatchObject({
      failAmountSuffixes: ['13', '99'],
      failPayees: ['Mallory Example', 'FR7630006000011234567890189'],
      duplicateEvery: 3,
    });
  });

  it.each([
    ['SANDBOX_OUTBOUND_SECRET', 'plain-text-secret'],
    ['SANDBOX_CALLBACK_SECRET', undefined],
    ['SANDBOX_CALLBACK_URL', 'ftp://127.0.0.1/x'],
    ['SANDBOX_PORT', '70000'],
    ['SANDBOX_FAIL_AMOUNT_SUFFIXES', '13,1x'],
    ['SANDBOX_DUPLICATE_EVERY', '-1'],
    ['SANDBOX_CALLBACK_DELAY_MS', 'soon'],
  ])('names %s when it is %p', (variable, value) => {
    expect(() => parseSandboxConfig({ ...environment, [variable]: value })).toThrow(
      new RegExp(`^environment variable ${variable}: `),
    );
  });
});

describe('sandbox process', () => {
  it('listens on 127.0.0.1, says where, and exits 0 on SIGTERM', async () => {
    const receiver = await startRecordingServer();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./main.js', import.meta.url))], {
      env: { ...process.env, ...environment, SANDBOX_CALLBACK_URL: receiver.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          const match = /sandbox provider listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.once('exit', (code) => {
          reject(new Error(`exited with ${code} before listening: ${output}`));
        });
      });
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await receiver.close();
    }
  });
});
