import path from 'node:path';
import { isHealthy } from '../fabric/nodes.js';
import type { LocalNetwork } from '../network.js';
import { describeConflicts, findPortConflicts } from '../processes/ports.js';
import { isAlive, type ProcessRecord } from '../processes/registry.js';
import { waitUntil } from '../processes/wait.js';

const apiProcessName = 'api';

/**
 * The API's port (PORT overrides the configured one), once it is known to be free and
 * no API of this network runs; checked before the network starts as well.
 *
 * @throws Error naming the port and its owner, or the running API's PID.
 */
export async function checkApiCanStart(network: LocalNetwork): Promise<number> {
  const port = process.env.PORT === undefined ? network.config.apiPort : Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`PORT must be a TCP port, got ${process.env.PORT ?? ''}`);
  const existing = network.registry.find(apiProcessName);
  if (existing !== undefined && isAlive(existing)) {
    throw new Error(`the API is already running as PID ${existing.pid}; stop it with \`npm run network:down\``);
  }
  const conflicts = await findPortConflicts([{ owner: 'the API', port, purpose: 'HTTP' }]);
  if (conflicts.length > 0) throw new Error(describeConflicts(conflicts));
  return port;
}

/**
 * Starts the API server against the network's connection profile and waits until it
 * answers /healthz. PORT overrides the configured port.
 *
 * @throws Error when the port is taken or the server exits during start-up.
 */
export async function startApi(network: LocalNetwork): Promise<{ port: number; pid: number; dataDir: string }> {
  const port = process.env.PORT === undefined ? network.config.apiPort : Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`PORT must be a TCP port, got ${process.env.PORT ?? ''}`);
  const existing = network.registry.find(apiProcessName);
  if (existing !== undefined && isAlive(existing)) {
    throw new Error(`the API is already running as PID ${existing.pid}; stop it with \`npm run network:down\``);
  }
  const conflicts = await findPortConflicts([{ owner: 'api', port, purpose: 'API' }]);
  if (conflicts.length > 0) throw new Error(describeConflicts(conflicts));
  const dataDir = path.join(network.config.home, 'api');
  const record = network.registry.start({
    name: apiProcessName,
    kind: 'api',
    command: process.execPath,
    args: [path.join(network.config.repoRoot, 'api', 'dist', 'main.js')],
    cwd: network.config.repoRoot,
    ports: [port],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      GIGLEDGER_CONNECTION_PROFILE: network.config.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: dataDir,
    },
  });
  await waitUntil(`the API to answer on port ${port}`, async () => {
    if (!isAlive(record)) throw new Error(`the API exited; see ${record.log}`);
    return (await isHealthy(port)) ? true : undefined;
  });
  return { port, pid: record.pid, dataDir };
}

export async function stopApi(network: LocalNetwork): Promise<ProcessRecord | undefined> {
  const record = network.registry.find(apiProcessName);
  await network.registry.stop(apiProcessName);
  return record;
}
