import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isHealthy } from '../fabric/nodes.js';
import type { LocalNetwork } from '../network.js';
import { describeConflicts, findPortConflicts } from '../processes/ports.js';
import { isAlive, type ProcessRecord } from '../processes/registry.js';
import { StopWaiting, waitUntil } from '../processes/wait.js';
import { exitReasonIn } from '../processes/exit-reason.js';

const apiProcessName = 'api';

/** A process's exit during start-up, with the reason its log gives (a setting refused, a port taken). */
function exitedMessage(what: string, logFile: string): string {
  const reason = exitReasonIn(logFile);
  return `${what} exited${reason === undefined ? '' : `: ${reason}`}; see ${logFile}`;
}

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
  const conflicts = await findPortConflicts([{ owner: 'the API', address: '127.0.0.1', port, purpose: 'HTTP' }]);
  if (conflicts.length > 0) throw new Error(describeConflicts(conflicts));
  checkApiSettings(network, port);
  return port;
}

/** Where the API keeps its database and wallet. */
function apiDataDir(network: LocalNetwork): string {
  return path.join(network.config.home, 'api');
}

/** The environment the API runs in: the caller's, with where this network keeps its parts. */
function apiEnvironment(network: LocalNetwork, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    GIGLEDGER_CONNECTION_PROFILE: network.config.paths.connectionProfile,
    GIGLEDGER_DATA_DIR: apiDataDir(network),
    GIGLEDGER_SETTLEMENT_CONFIG: settlementConfigFile(network),
  };
}

/**
 * Reads the API's settings as the API will (its own `check-config`), so that a refused
 * one stops the start before the network's half minute rather than after it.
 *
 * @throws Error with the API's reason, e.g. `environment variable PORT: …`.
 */
function checkApiSettings(network: LocalNetwork, port: number): void {
  const checked = spawnSync(
    process.execPath,
    [path.join(network.config.repoRoot, 'api', 'dist', 'cli', 'check-config.js')],
    { env: apiEnvironment(network, port), encoding: 'utf8' },
  );
  if (checked.status === 0) return;
  const reason = checked.stderr.trim() || checked.error?.message || `exit ${String(checked.status ?? checked.signal)}`;
  throw new Error(`the API refuses its settings: ${reason}`);
}

/**
 * Starts the API server against the network's connection profile and waits until it
 * answers /healthz. PORT overrides the configured port.
 *
 * @throws Error when the port is taken or the server exits during start-up.
 */
export async function startApi(network: LocalNetwork): Promise<{ port: number; pid: number; dataDir: string }> {
  // Checked again here: the port may have been taken while the network started.
  const port = await checkApiCanStart(network);
  await startSandboxProvider(network, port);
  const env = apiEnvironment(network, port);
  const record = network.registry.start({
    name: apiProcessName,
    kind: 'api',
    command: process.execPath,
    args: [path.join(network.config.repoRoot, 'api', 'dist', 'main.js')],
    cwd: network.config.repoRoot,
    ports: [port],
    env,
  });
  await waitUntil(`the API to answer on port ${port}`, async () => {
    if (!isAlive(record)) throw new StopWaiting(exitedMessage('the API', record.log));
    return (await isHealthy(port)) ? true : undefined;
  });
  return { port, pid: record.pid, dataDir: apiDataDir(network) };
}

/**
 * Stops the API and the sandbox provider it started.
 *
 * @returns the API's record as it was, and the names of the processes that were running.
 */
export async function stopApi(network: LocalNetwork): Promise<{ api?: ProcessRecord; stopped: string[] }> {
  const api = network.registry.find(apiProcessName);
  const running = new Set(network.registry.running().map((record) => record.name));
  const stopped = [apiProcessName, sandboxProcessName].filter((name) => running.has(name));
  await network.registry.stop(apiProcessName);
  await network.registry.stop(sandboxProcessName);
  return { ...(api === undefined ? {} : { api }), stopped };
}

export const sandboxProcessName = 'sandbox-provider';

/**
 * Starts the sandbox payment provider again after it stopped, with the secrets and data
 * it had: it stands in for an outside service, which would come back by itself, and
 * instructions waiting for it are sent when it answers again.
 *
 * @returns the new process's PID.
 * @throws Error when its port is taken or it does not come up.
 */
export async function restartSandboxProvider(network: LocalNetwork, apiPort: number): Promise<number | undefined> {
  await startSandboxProvider(network, apiPort);
  return network.registry.find(sandboxProcessName)?.pid;
}

/** Standard Webhooks secrets: `whsec_` and the base64 of 32 random bytes. */
function webhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Starts the local payment provider every organisation is paid through by default
 * (API port + 10), and writes the settlement configuration that points the API at it.
 * The secrets are generated once and kept with the network's data (mode 0600).
 *
 * @throws Error when the port is taken or the provider does not come up.
 */
async function startSandboxProvider(network: LocalNetwork, apiPort: number): Promise<void> {
  const port = apiPort + 10;
  const settlementDir = path.join(network.config.home, 'settlement');
  mkdirSync(settlementDir, { recursive: true });
  const secretsFile = path.join(settlementDir, 'sandbox-secrets.json');
  if (!existsSync(secretsFile)) {
    const secrets = {
      outboundSecret: webhookSecret(),
      inboundSecret: webhookSecret(),
      apiKey: randomBytes(24).toString('hex'),
    };
    writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as {
    outboundSecret: string;
    inboundSecret: string;
    apiKey: string;
  };
  const existing = network.registry.find(sandboxProcessName);
  if (existing === undefined || !isAlive(existing)) {
    const conflicts = await findPortConflicts([
      { owner: 'sandbox payment provider', address: '127.0.0.1', port, purpose: 'HTTP' },
    ]);
    if (conflicts.length > 0) throw new Error(describeConflicts(conflicts));
    const record = network.registry.start({
      name: sandboxProcessName,
      kind: 'settlement',
      command: process.execPath,
      args: [path.join(network.config.repoRoot, 'settlement', 'dist', 'sandbox', 'main.js')],
      cwd: network.config.repoRoot,
      ports: [port],
      env: {
        ...process.env,
        SANDBOX_PORT: String(port),
        SANDBOX_OUTBOUND_SECRET: secrets.outboundSecret,
        SANDBOX_CALLBACK_SECRET: secrets.inboundSecret,
        SANDBOX_CALLBACK_URL: `http://127.0.0.1:${apiPort}/v1/settlement/callbacks/sandbox`,
        SANDBOX_API_KEY: secrets.apiKey,
        SANDBOX_DATA_DIR: path.join(settlementDir, 'sandbox-data'),
      },
    });
    await waitUntil(`the sandbox payment provider to answer on port ${port}`, async () => {
      if (!isAlive(record)) throw new StopWaiting(exitedMessage('the sandbox payment provider', record.log));
      return (await isHealthy(port)) ? true : undefined;
    });
  }
  const providerName = 'sandbox';
  const config = {
    providers: {
      [providerName]: {
        kind: 'webhook',
        url: `http://127.0.0.1:${port}`,
        outboundSecret: secrets.outboundSecret,
        inboundSecret: secrets.inboundSecret,
        apiKey: secrets.apiKey,
      },
    },
    organisations: Object.fromEntries(network.config.peerOrgs.map((org) => [org.mspId, providerName])),
  };
  writeFileSync(settlementConfigFile(network), JSON.stringify(config, null, 2), { mode: 0o600 });
}

/** The settlement configuration the API reads (GIGLEDGER_SETTLEMENT_CONFIG), pointing it at the sandbox provider. */
function settlementConfigFile(network: LocalNetwork): string {
  return path.join(network.config.home, 'settlement', 'settlement.json');
}
