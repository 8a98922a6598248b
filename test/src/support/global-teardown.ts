import { LocalNetwork, toolchainAt, toolchainDir } from '@gigledger/network';
import { e2eConfig, reuseRunningNetwork } from './e2e-environment.js';

/** Stops the e2e network; its data stays for inspection until the next run starts fresh. */
export default async function globalTeardown(): Promise<void> {
  if (reuseRunningNetwork) return;
  const network = new LocalNetwork(e2eConfig(), toolchainAt(toolchainDir()));
  const stopped = await network.down();
  process.stdout.write(`[e2e network] stopped ${stopped.length} processes\n`);
}
