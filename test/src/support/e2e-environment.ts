import path from 'node:path';
import { loadNetworkConfig, repoRoot, type NetworkConfig } from '@gigledger/network';

/**
 * The e2e network lives in its own data directory and port range, so a developer's
 * running network (npm start) and a test run never touch each other. Setting
 * GIGLEDGER_E2E_REUSE_NETWORK=1 runs the suites against the already running default
 * network instead.
 */
export const reuseRunningNetwork = process.env.GIGLEDGER_E2E_REUSE_NETWORK === '1';

/**
 * Two checkouts on one machine, or one checkout twice, can each run the suites at once
 * when they pick different offsets through GIGLEDGER_E2E_PORT_OFFSET: each offset has a
 * data directory of its own (`.gigledger/e2e` for the default, `.gigledger/e2e-<offset>`
 * for another), so one run's fresh start does not delete the other's network.
 */
const defaultE2ePortOffset = 20000;
const e2ePortOffset = parseE2ePortOffset(process.env.GIGLEDGER_E2E_PORT_OFFSET);
const e2eHome = path.join(
  repoRoot,
  '.gigledger',
  e2ePortOffset === defaultE2ePortOffset ? 'e2e' : `e2e-${String(e2ePortOffset)}`,
);

function parseE2ePortOffset(text: string | undefined): number {
  if (text === undefined || text === '') return defaultE2ePortOffset;
  if (!/^\d+$/.test(text)) throw new Error(`GIGLEDGER_E2E_PORT_OFFSET must be a whole number, got "${text}"`);
  return Number(text);
}

export function e2eConfig(): NetworkConfig {
  return reuseRunningNetwork ? loadNetworkConfig() : loadNetworkConfig({ home: e2eHome, portOffset: e2ePortOffset });
}
