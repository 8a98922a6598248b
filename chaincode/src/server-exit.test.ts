import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The tests run from the build output, beside the server entry fabric-shim loads.
const chaincodeEntry = path.join(__dirname, 'index.js');

describe('exitOnStopSignals', () => {
  it('is not installed where the contracts are loaded outside a chaincode server', async () => {
    const before = process.listenerCount('SIGTERM');
    await import('./index.js');
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  // The built server entry in a real Node process: SIGTERM must end it through its exit
  // path, which is what makes `--cpu-prof` write a profile.
  it('ends a chaincode server process on SIGTERM with a CPU profile written', async () => {
    const profileDir = mkdtempSync(path.join(os.tmpdir(), 'gl-cc-exit-'));
    try {
      const child = spawn(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          profileDir,
          '-e',
          `require(${JSON.stringify(chaincodeEntry)}); setInterval(() => undefined, 1000); process.stdout.write('ready\\n');`,
        ],
        {
          env: { PATH: process.env.PATH, CORE_CHAINCODE_ID_NAME: 'gigledger:test' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      // The contracts log as they load; only 'ready' says the handlers are in place.
      let output = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready\n')) resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => {
          resolve(code);
        }),
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))).toHaveLength(1);
    } finally {
      rmSync(profileDir, { recursive: true, force: true });
    }
  });
});
