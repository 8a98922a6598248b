import path from 'node:path';
import { loadNetworkConfig, repoRoot, type NetworkConfig } from '@gigledger/network';

/**
 * The e2e network lives in its own data directory and port range, so a developer's
 * running network (npm start) and a test run never touch each other. Setting
 * GIGLEDGER_E2E_REUSE_NETWORK=1 runs the suites against the already running default
 * network instead.
 */
export const reuseRunningNetwork = process.env.GIGLEDGER_E2E_REUSE_NETWORK === '1';

const e2eHome = path.join(repoRoot, '.gigledger', 'e2e');
const e2ePortOffset = 20000;

export function e2eConfig(): NetworkConfig {
  return reuseRunningNetwork ? loadNetworkConfig() : loadNetworkConfig({ home: e2eHome, portOffset: e2ePortOffset });
}
