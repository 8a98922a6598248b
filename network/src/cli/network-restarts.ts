import { ensureChaincodeServer, readDeployment } from '../chaincode/deploy.js';
import type { LocalNetwork } from '../network.js';
import type { ProcessRecord } from '../processes/registry.js';
import type { Restart } from '../processes/supervisor.js';
import { restartSandboxProvider, sandboxProcessName, startApi } from './api-process.js';

/**
 * How `npm start` starts again each process of its network that stopped by itself, for a
 * {@link Supervisor}: a CA, orderer or peer with its usual settings (waiting until it
 * reports healthy), the current deployment's chaincode server, the sandbox provider with
 * its secrets and data, and the API (`apiPort` is where the sandbox provider's callbacks
 * go). A chaincode server of an earlier deployment is not started again.
 */
export function networkRestarts(
  network: LocalNetwork,
  apiPort: number,
): (record: ProcessRecord) => Restart | undefined {
  const nodes = new Set(network.nodeProcesses().map((request) => request.name));
  return (record) => {
    if (nodes.has(record.name)) return async () => (await network.startProcess(record.name)).pid;
    if (record.kind === 'chaincode') {
      const deployment = readDeployment(network.config);
      if (deployment === undefined || record.ports[0] !== deployment.port) return undefined;
      return async () => (await ensureChaincodeServer(network.config, network.registry, deployment)).pid;
    }
    if (record.name === sandboxProcessName) return () => restartSandboxProvider(network, apiPort);
    if (record.kind === 'api') return async () => (await startApi(network)).pid;
    return undefined;
  };
}
