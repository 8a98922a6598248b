import { rmSync } from 'node:fs';
import { ensureToolchain, LocalNetwork } from '@gigledger/network';
import { e2eConfig, reuseRunningNetwork } from './e2e-environment.js';

function report(line: string): void {
  process.stdout.write(`[e2e network] ${line}\n`);
}

/** Builds the toolchain if needed and starts a fresh network for the e2e suites. */
export default async function globalSetup(): Promise<void> {
  const config = e2eConfig();
  const { toolchain } = await ensureToolchain(report);
  const network = new LocalNetwork(config, toolchain, report);
  if (reuseRunningNetwork) {
    if (!network.isRunning())
      throw new Error('GIGLEDGER_E2E_REUSE_NETWORK=1 but no network is running; start one with `npm start`');
    report(`reusing the running network in ${config.home}`);
    return;
  }
  await network.down();
  rmSync(config.home, { recursive: true, force: true });
  const started = Date.now();
  report(`starting a fresh network in ${config.home} (ports +${config.portOffset})`);
  // Read again now that the old data is gone: organisations a suite added are not part of a fresh network.
  await new LocalNetwork(e2eConfig(), toolchain, report).up();
  report(`network ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
