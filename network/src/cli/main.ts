import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { chaincodeServerCommand, readDeployment } from '../chaincode/deploy.js';
import { loadNetworkConfig, portAssignments, repoRoot, type NetworkConfig } from '../config.js';
import { ephemeralRangeWarning, systemEphemeralPorts } from '../processes/ports.js';
import { composeYaml } from '../docker/compose.js';
import { kubernetesYaml } from '../kubernetes/manifests.js';
import { readPlacementFile } from '../kubernetes/placement.js';
import { untilStopSignal } from '@gigledger/gateway';
import { waitUntil } from '../processes/wait.js';
import { Supervisor } from '../processes/supervisor.js';
import { networkRestarts } from './network-restarts.js';
import { peerAdminEnv } from '../fabric/channel.js';
import { LocalNetwork, type NetworkStatus } from '../network.js';
import { checkApiCanStart, startApi, stopApi } from './api-process.js';
import { ordererTlsCa } from '../fabric/layout.js';
import { exportOrgBundle, unpackOrgBundle, writeOrgBundle } from '../fabric/bundle.js';
import { ensureToolchain, isToolchainInstalled, toolchainAt, toolchainDir } from '../toolchain/toolchain.js';

const usage = `Usage: node network/dist/cli/main.js <command> [options]

  start               set up the toolchain, bring the network up, deploy the chaincode and run
                      the API in the foreground; Ctrl-C stops everything this command started
  setup               build the pinned Fabric binaries if they are missing
  up                  start the network (CAs, orderers, peers, chaincode server) in the background
  up --org <Org> [--bundle FILE]
                      start only that organisation's nodes against orderers and peers elsewhere,
                      from its bundle (unpacked into GIGLEDGER_HOME) or the material already there
  down                stop every network process; ledgers and keys are kept
  clean               stop the network and delete everything generated for it
  status [--json]     each process (API workers too) with PID, ports and health; channel height per peer
  logs [name] [-f] [-n N]
                      the last N lines (default 40) of every log, or of one process; -f follows
  env <OrgName>       export lines that make the stock peer CLI act as that org's admin
  deploy [--force]    redeploy the chaincode at the next sequence if its build changed
  reconcile [--from ISO] [--to ISO] [--json]
                      compare the ledger's settlement instructions, the API's outbox and the
                      payment providers' statements (exit 1 when they disagree)
  compose             regenerate docker-compose.yml from network.config.json
  kubernetes [--config FILE] [--placement FILE] [--out FILE]
                      write Kubernetes manifests (default kubernetes/gigledger.yaml) from the same process
                      definitions, for the network description FILE (network.config.json) and a placement
                      of each organisation's pods (namespace, storage class, node selectors)
  export-org <Org> [--out FILE]
                      write one organisation's bundle: its keys, the others' public certificates,
                      every node's address, the genesis block and its start command
  add-org <Name> [--proposal ID] [--msp-id ID] [--signers OrgA,OrgB] [--orderer NAME] [--address HOST]
                      admit a new member organisation to the running channel: its CA, peer and
                      identities, a configuration update signed by a majority of the members'
                      admins, the peer's join and the chaincode approved for it; once genesis is
                      sealed, only for an executed governance proposal giving it member rights
  remove-org <Name> [--proposal ID] [--signers OrgA,OrgB,OrgC] [--orderer NAME]
                      remove an added organisation from the channel for an executed proposal taking its rights

Used by docker-compose.yml inside containers:
  generate            certificates, genesis block and CA registrars only
  bootstrap           join the channel, deploy the chaincode, set the genesis rules and seal genesis on running nodes
  bootstrap --org <Org> [--bundle FILE]
                      the same for one organisation's nodes running elsewhere (kubernetes/: one job per organisation)
  serve-chaincode     wait for the deployment and run the chaincode server in the foreground

Environment: GIGLEDGER_HOME (data directory), GIGLEDGER_PORT_OFFSET (shift every port),
GIGLEDGER_TOOLCHAIN (binaries directory).`;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function networkFromEnvironment(): Promise<LocalNetwork> {
  const config = loadNetworkConfig();
  // The API's port and the sandbox provider's beside it (API + 10) start with the network too.
  const warning = ephemeralRangeWarning(
    [...portAssignments(config), { port: config.apiPort }, { port: config.apiPort + 10 }],
    systemEphemeralPorts(),
  );
  if (warning !== undefined) say(warning);
  const { toolchain, built, seconds } = await ensureToolchain(say);
  if (built) say(`Toolchain built in ${seconds}s`);
  return new LocalNetwork(config, toolchain, say);
}

function existingNetwork(): LocalNetwork {
  const config = loadNetworkConfig();
  const toolchain = toolchainAt(toolchainDir());
  if (!isToolchainInstalled(toolchain)) {
    throw new Error('the Fabric toolchain is not installed yet; run `npm start` or `npm run setup`');
  }
  return new LocalNetwork(config, toolchain, say);
}

async function commandUp(): Promise<void> {
  const started = Date.now();
  const network = await networkFromEnvironment();
  const result = await network.up();
  if (result.alreadyRunning) say('The network was already running; nothing was restarted.');
  printSummary(network, await network.status());
  say(`Network ready in ${((Date.now() - started) / 1000).toFixed(1)}s. Stop it with \`npm run network:down\`.`);
}

/** A path the user typed, relative to where they ran `npm run` (npm runs scripts from the repository root). */
function fromInvokingDirectory(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

/** Unpacks the bundle that `--bundle` names, if any, into GIGLEDGER_HOME. */
function unpackBundleArgument(args: string[], org: string): void {
  const bundle = flagValue(args, '--bundle');
  if (bundle === undefined) return;
  const home = loadNetworkConfig().home;
  const unpacked = unpackOrgBundle(fromInvokingDirectory(bundle), home, org);
  say(
    `Unpacked ${unpacked.org}'s bundle (${unpacked.files.length} files, exported ${unpacked.exportedAt}) into ${home}`,
  );
}

async function commandUpOrg(args: string[]): Promise<void> {
  const org = flagValue(args, '--org');
  if (org === undefined) throw new Error('--org needs an organisation name');
  const started = Date.now();
  unpackBundleArgument(args, org);
  const network = await networkFromEnvironment();
  const result = await network.upOrg(org);
  printStatusTable(await network.status());
  if (result.chaincodeCommitted === false) {
    say('The chaincode is approved here and is committed once a majority of the organisations has approved.');
  }
  say(
    `${org}'s nodes ready in ${((Date.now() - started) / 1000).toFixed(1)}s. Stop them with \`npm run network:down\`.`,
  );
}

/**
 * `bootstrap --org <Org> [--bundle FILE]`, what each organisation's Kubernetes job runs:
 * `up --org` against nodes that run as pods of their own, so it starts none of them.
 */
async function commandBootstrapOrg(args: string[]): Promise<void> {
  const org = flagValue(args, '--org');
  if (org === undefined) throw new Error('--org needs an organisation name');
  unpackBundleArgument(args, org);
  const network = existingNetwork();
  const result = await network.upOrg(org, { nodesStartedElsewhere: true });
  say(
    result.chaincodeCommitted === undefined
      ? `${org}'s orderers joined channel ${network.config.channel}.`
      : `${org} joined channel ${network.config.channel}; chaincode ${result.chaincodeCommitted ? 'committed' : 'approved, committed once a majority has approved'}.`,
  );
}

async function commandExportOrg(args: string[]): Promise<void> {
  const [org] = args;
  if (org === undefined || org.startsWith('--')) throw new Error('usage: export-org <Org> [--out FILE]');
  const network = await networkFromEnvironment();
  if (network.config.bundleOf !== undefined) {
    throw new Error(
      `${network.config.home} holds ${network.config.bundleOf}'s bundle; export from the home that generated the network`,
    );
  }
  await network.generate();
  const outFlag = flagValue(args, '--out');
  const out =
    outFlag === undefined
      ? path.join(network.config.home, 'bundles', `${org}.bundle.json`)
      : fromInvokingDirectory(outFlag);
  const bundle = exportOrgBundle(network.config, org, path.basename(out));
  writeOrgBundle(bundle, out);
  say(`Wrote ${org}'s bundle (${bundle.files.length} files; it holds ${org}'s private keys: mode 0600) to ${out}`);
  say(`On ${org}'s host, in a checkout of the same commit with \`npm ci\` done: ${bundle.startCommand}`);
}

async function commandStart(): Promise<void> {
  const started = Date.now();
  // Listening from the first moment: a Ctrl-C while nodes start must still stop them, so
  // it waits for the start under way to finish and then stops what this command started.
  let ready = false;
  const stopSignal = untilStopSignal((signal) => {
    say(`(${signal}: already stopping what this command started; it ends by itself)`);
  });
  void stopSignal.then((signal) => {
    if (!ready) say(`(${signal}: stopping what this command started as soon as the nodes starting now are up)`);
  });
  const network = await networkFromEnvironment();
  const wasRunning = network.isRunning();
  await checkApiCanStart(network);
  const { started: startedNodes } = await network.up();
  let api: Awaited<ReturnType<typeof startApi>>;
  try {
    api = await startApi(network);
  } catch (error) {
    // Nothing this command started may outlive it, the network included.
    if (!wasRunning) await network.down();
    throw error;
  }
  printSummary(network, await network.status());
  say(`API:        http://127.0.0.1:${api.port}  (PID ${api.pid}; REST under /v1, GraphQL at /graphql, /openapi.json)`);
  say(`Console:    http://127.0.0.1:${api.port}/console  (sign in as an administrator or a person they created)`);
  say(
    `Administrators: one per organisation, passwords in ${path.join(api.dataDir, 'bootstrap-admin.json')} (README: Using the API)`,
  );
  say(`Ready in ${((Date.now() - started) / 1000).toFixed(1)}s. Press Ctrl-C to stop what this command started.`);
  if (wasRunning) say('(The network was already running and will be left running.)');

  ready = true;
  const ended = await superviseUntilSignal(network, stopSignal, api.port);
  if (ended === 'stopped elsewhere') {
    say('\nEvery process was stopped by another command (`npm run network:down`); nothing is left to supervise.');
    return;
  }
  say('\nStopping…');
  const stoppedApi = await stopApi(network);
  if (!wasRunning || startedNodes.length > 0) {
    const stopped = [...stoppedApi.stopped, ...(await network.down())];
    say(`Stopped ${stopped.length} processes. Data is kept in ${network.config.home}.`);
  } else {
    const pid = stoppedApi.api === undefined ? '' : ` (PID ${stoppedApi.api.pid})`;
    say(`Stopped the API${pid}; the network was running before and keeps running.`);
  }
}

/**
 * Keeps the command in the foreground until `stopSignal` (Ctrl-C, SIGTERM or SIGHUP)
 * settles, starting again any process of the network that stops by itself meanwhile
 * (see {@link Supervisor}): Fabric's CAs, orderers and peers, the chaincode server, the
 * API and the sandbox provider, each with its usual settings and data. Ends early when
 * another command has stopped every process (the registry is empty).
 */
async function superviseUntilSignal(
  network: LocalNetwork,
  stopSignal: Promise<NodeJS.Signals>,
  apiPort: number,
): Promise<'signal' | 'stopped elsewhere'> {
  let stoppedElsewhere: () => void = () => undefined;
  const nothingLeft = new Promise<'stopped elsewhere'>((resolve) => {
    stoppedElsewhere = () => {
      resolve('stopped elsewhere');
    };
  });
  const supervisor = new Supervisor({
    registry: network.registry,
    report: say,
    restartOf: networkRestarts(network, apiPort),
    lock: network.lock,
    onNothingRecorded: stoppedElsewhere,
  });
  supervisor.start();
  const ended = await Promise.race([stopSignal.then(() => 'signal' as const), nothingLeft]);
  await supervisor.stop();
  return ended;
}

/** Runs the chaincode server in the foreground once a deployment names its package id. */
async function serveChaincode(config: NetworkConfig): Promise<void> {
  const deployment = await waitUntil('a chaincode deployment', () => Promise.resolve(readDeployment(config)), {
    timeoutMs: 600_000,
    intervalMs: 1000,
  });
  const { command, args, env } = chaincodeServerCommand(config, deployment);
  say(`Serving chaincode package ${deployment.packageId} on port ${deployment.port}`);
  const child = spawn(command, args, { env, cwd: config.chaincode.sourceDir, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  await new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      process.exitCode = code ?? 1;
      resolve();
    });
  });
}

function printSummary(network: LocalNetwork, status: NetworkStatus): void {
  say('');
  say(`Channel ${status.channel}, data in ${status.home}`);
  printStatusTable(status);
  say(`Connection profile: ${network.config.paths.connectionProfile}`);
  say(`Logs:               npm run network:logs [-- <name> -f]`);
  say(`Stop:               Ctrl-C (npm start) or npm run network:down`);
}

function printStatusTable(status: NetworkStatus): void {
  const rows = status.processes.map((entry) => [
    entry.name,
    entry.kind,
    entry.pid === undefined ? 'stopped' : String(entry.pid),
    entry.ports.join(','),
    entry.pid === undefined
      ? '-'
      : entry.suspended === true
        ? 'suspended'
        : entry.probed === false
          ? 'running'
          : entry.healthy
            ? 'healthy'
            : 'unhealthy',
    entry.pid === undefined ? '-' : `${Math.round(entry.rssKib / 1024)} MiB`,
  ]);
  const header = ['NAME', 'KIND', 'PID', 'PORTS', 'HEALTH', 'RSS'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  for (const row of [header, ...rows]) {
    say(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  }
  for (const height of status.heights) {
    say(`height ${height.peer}: ${height.height === undefined ? 'unavailable' : String(height.height)}`);
  }
  if (status.chaincode !== undefined) {
    say(`chaincode: sequence ${status.chaincode.sequence}, version ${status.chaincode.version}`);
  }
  say(`total RSS: ${Math.round(status.totalRssKib / 1024)} MiB`);
}

async function commandStatus(json: boolean): Promise<void> {
  const status = await existingNetwork().status();
  if (json) say(JSON.stringify(status, null, 2));
  else printStatusTable(status);
}

function commandEnv(config: NetworkConfig, orgName: string | undefined): void {
  const org = config.peerOrgs.find((candidate) => candidate.name.toLowerCase() === orgName?.toLowerCase());
  if (org === undefined) {
    throw new Error(`name an organisation: ${config.peerOrgs.map((candidate) => candidate.name).join(', ')}`);
  }
  const toolchain = toolchainAt(toolchainDir());
  const orderer = config.ordererOrg.orderers.find((node) => node.org === org.name) ?? config.ordererOrg.orderers[0];
  const env = {
    ...peerAdminEnv(config, toolchain, org),
    ORDERER_ADDRESS: `${orderer?.address ?? ''}:${orderer?.port ?? 0}`,
    ORDERER_CA: ordererTlsCa(config),
    CHANNEL_NAME: config.channel,
  };
  say(`# ${org.name} admin on ${org.peer.host}; use: eval "$(npm run -s network:env -- ${org.name})"`);
  say(`export PATH=${shellQuote(toolchain.binDir)}:"$PATH"`);
  for (const [name, value] of Object.entries(env)) say(`export ${name}=${shellQuote(value)}`);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

async function commandLogs(config: NetworkConfig, args: string[]): Promise<void> {
  const follow = args.includes('-f');
  const countIndex = args.indexOf('-n');
  const count = countIndex >= 0 ? Number(args[countIndex + 1]) : 40;
  if (!Number.isInteger(count) || count <= 0) throw new Error('-n takes a positive whole number of lines');
  const name = args.find((arg, index) => !arg.startsWith('-') && args[index - 1] !== '-n');
  const registry = new LocalNetwork(config, toolchainAt(toolchainDir())).registry;
  const logDir = config.paths.logs;
  const files = name === undefined ? listLogs(logDir) : [registry.logFile(name)];
  if (files.length === 0 || !files.every((file) => existsSync(file))) {
    throw new Error(
      `no logs${name === undefined ? '' : ` for ${name}`} in ${logDir}; names: ${listLogs(logDir)
        .map((file) => path.basename(file, '.log'))
        .join(', ')}`,
    );
  }
  for (const file of files) {
    say(`==> ${path.basename(file, '.log')} <==`);
    say(readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n'));
  }
  if (follow) await followFiles(files);
}

function listLogs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.log'))
    .sort()
    .map((file) => path.join(dir, file));
}

async function followFiles(files: string[]): Promise<void> {
  const offsets = new Map(files.map((file) => [file, statSync(file).size]));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const file of files) {
      const size = statSync(file).size;
      const offset = offsets.get(file) ?? 0;
      if (size <= offset) continue;
      const handle = openSync(file, 'r');
      const buffer = Buffer.alloc(size - offset);
      readSync(handle, buffer, 0, buffer.length, offset);
      closeSync(handle);
      offsets.set(file, size);
      const prefix = files.length > 1 ? `[${path.basename(file, '.log')}] ` : '';
      for (const line of buffer.toString().trimEnd().split('\n')) say(`${prefix}${line}`);
    }
  }
}

/** Runs the API's reconciliation with the configuration `npm start` gave the API. */
async function commandReconcile(config: NetworkConfig, args: string[]): Promise<void> {
  // npm start's API unless the caller names another (a second organisation's API, say).
  const settlementConfig =
    process.env.GIGLEDGER_SETTLEMENT_CONFIG ?? path.join(config.home, 'settlement', 'settlement.json');
  if (!existsSync(settlementConfig))
    throw new Error(`no settlement configuration in ${settlementConfig}; run \`npm start\` first`);
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'api', 'dist', 'cli', 'settlement-reconcile.js'), ...args],
    {
      stdio: 'inherit',
      env: {
        GIGLEDGER_CONNECTION_PROFILE: config.paths.connectionProfile,
        GIGLEDGER_DATA_DIR: path.join(config.home, 'api'),
        ...process.env,
        GIGLEDGER_SETTLEMENT_CONFIG: settlementConfig,
      },
    },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  process.exitCode = code ?? 1;
}

/** Reads `--flag value` pairs after the positional arguments. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value;
}

async function commandAddOrg(args: string[]): Promise<void> {
  const [name] = args;
  if (name === undefined || name.startsWith('--')) throw new Error('usage: add-org <Name> [--proposal ID] …');
  const network = existingNetwork();
  const signers = flagValue(args, '--signers');
  const mspId = flagValue(args, '--msp-id');
  const proposalId = flagValue(args, '--proposal');
  const orderer = flagValue(args, '--orderer');
  const address = flagValue(args, '--address');
  say(`Adding ${name} to channel ${network.config.channel}`);
  const result = await network.addOrg({
    name,
    ...(mspId === undefined ? {} : { mspId }),
    ...(proposalId === undefined ? {} : { proposalId }),
    ...(signers === undefined ? {} : { signers: signers.split(',') }),
    ...(orderer === undefined ? {} : { orderer }),
    ...(address === undefined ? {} : { address }),
  });
  say(
    `${result.org.mspId} joined ${network.config.channel} in ${result.seconds.toFixed(1)}s: peer ${result.org.peer.host} ` +
      `on port ${result.org.peer.port} at height ${result.height}, CA on port ${result.org.ca.port}; ` +
      `signed by ${result.signedBy.join(', ')}${result.proposalId === undefined ? '' : `, for proposal ${result.proposalId}`}.`,
  );
}

async function commandRemoveOrg(args: string[]): Promise<void> {
  const [name] = args;
  if (name === undefined || name.startsWith('--')) throw new Error('usage: remove-org <Name> [--proposal ID] …');
  const network = existingNetwork();
  const signers = flagValue(args, '--signers');
  const proposalId = flagValue(args, '--proposal');
  const orderer = flagValue(args, '--orderer');
  say(`Removing ${name} from channel ${network.config.channel}`);
  const result = await network.removeOrg({
    name,
    ...(proposalId === undefined ? {} : { proposalId }),
    ...(signers === undefined ? {} : { signers: signers.split(',') }),
    ...(orderer === undefined ? {} : { orderer }),
  });
  say(
    `${result.name} left ${network.config.channel} in ${result.seconds.toFixed(1)}s: signed by ${result.signedBy.join(', ')}` +
      `${result.proposalId === undefined ? '' : `, for proposal ${result.proposalId}`}; chaincode sequence ${result.sequence}.`,
  );
}

// A reader that went away (e.g. a pipe closed by Ctrl-C) must not stop the shutdown.
process.stdout.on('error', () => undefined);

/**
 * What each command accepts besides its positionals: options that take a value and
 * switches. A command is refused before it does anything when its command line names
 * anything else, so `add-org -h` can never start a channel change for an organisation
 * called "-h", nor `kubernetes --bogus` overwrite the manifests.
 */
const commandOptions: Record<string, { readonly values?: readonly string[]; readonly switches?: readonly string[] }> = {
  start: {},
  setup: {},
  up: { values: ['--org', '--bundle'] },
  down: {},
  clean: {},
  status: { switches: ['--json'] },
  logs: { values: ['-n'], switches: ['-f'] },
  env: {},
  deploy: { switches: ['--force'] },
  reconcile: { values: ['--from', '--to'], switches: ['--json'] },
  compose: {},
  kubernetes: { values: ['--config', '--placement', '--out'] },
  'export-org': { values: ['--out'] },
  'add-org': { values: ['--proposal', '--msp-id', '--signers', '--orderer', '--address'] },
  'remove-org': { values: ['--proposal', '--signers', '--orderer'] },
  generate: {},
  bootstrap: { values: ['--org', '--bundle'] },
  'serve-chaincode': {},
};

const isHelp = (word: string): boolean => word === '--help' || word === '-h' || word === 'help';

/** Thrown for a command line that does not fit: the message, then the usage, exit 2. */
class UsageError extends Error {}

/**
 * Checks a command's words against {@link commandOptions}.
 *
 * @returns whether the command line asks for help.
 * @throws UsageError naming the unknown command or option.
 */
function checkCommandLine(command: string | undefined, args: readonly string[]): 'help' | 'run' {
  if (command === undefined || isHelp(command)) return 'help';
  const accepted = commandOptions[command];
  if (accepted === undefined) throw new UsageError(`unknown command '${command}'`);
  if (args.some((word) => word === '--help' || word === '-h')) return 'help';
  for (let index = 0; index < args.length; index += 1) {
    const word = args[index] ?? '';
    if (accepted.values?.includes(word)) index += 1;
    else if (word.startsWith('-') && !accepted.switches?.includes(word)) {
      throw new UsageError(`${command}: unknown option '${word}'`);
    }
  }
  return 'run';
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  let wanted: 'help' | 'run';
  try {
    wanted = checkCommandLine(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (wanted === 'help') {
    say(usage);
    return;
  }
  switch (command) {
    case 'start':
      return commandStart();
    case 'setup': {
      const { toolchain, built, seconds } = await ensureToolchain(say);
      say(
        built
          ? `Built the Fabric toolchain in ${seconds}s: ${toolchain.binDir}`
          : `Toolchain present: ${toolchain.binDir}`,
      );
      return;
    }
    case 'up':
      return args.includes('--org') ? commandUpOrg(args) : commandUp();
    case 'down': {
      const stopped = await existingNetwork().down();
      say(stopped.length === 0 ? 'Nothing was running.' : `Stopped ${stopped.join(', ')}.`);
      return;
    }
    case 'clean': {
      const config = loadNetworkConfig();
      await new LocalNetwork(config, toolchainAt(toolchainDir()), say).clean();
      say(`Removed ${config.home}.`);
      return;
    }
    case 'status':
      return commandStatus(args.includes('--json'));
    case 'logs':
      return commandLogs(loadNetworkConfig(), args);
    case 'env':
      commandEnv(loadNetworkConfig(), args[0]);
      return;
    case 'deploy': {
      const network = await networkFromEnvironment();
      const result = await network.deploy({ force: args.includes('--force') });
      say(
        result.changed
          ? `Chaincode ${result.deployment.version} committed as sequence ${result.deployment.sequence}.`
          : `Chaincode unchanged (sequence ${result.deployment.sequence}); use --force to redeploy anyway.`,
      );
      return;
    }
    case 'reconcile':
      return commandReconcile(loadNetworkConfig(), args);
    case 'add-org':
      return commandAddOrg(args);
    case 'export-org':
      return commandExportOrg(args);
    case 'remove-org':
      return commandRemoveOrg(args);
    case 'compose': {
      const file = path.join(repoRoot, 'docker-compose.yml');
      writeFileSync(file, composeYaml());
      say(`Wrote ${file}`);
      return;
    }
    case 'kubernetes': {
      const configFile = flagValue(args, '--config');
      const placementFile = flagValue(args, '--placement');
      const out = flagValue(args, '--out');
      const file = out === undefined ? path.join(repoRoot, 'kubernetes', 'gigledger.yaml') : fromInvokingDirectory(out);
      const yaml = kubernetesYaml(
        {
          ...(configFile === undefined ? {} : { configFile: fromInvokingDirectory(configFile) }),
          ...(placementFile === undefined
            ? {}
            : { placement: readPlacementFile(fromInvokingDirectory(placementFile)) }),
        },
        configFile ?? 'network/network.config.json',
      );
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, yaml);
      say(`Wrote ${file}`);
      return;
    }
    case 'generate': {
      const network = await networkFromEnvironment();
      await network.generate();
      say(`Material generated in ${network.config.home}`);
      return;
    }
    case 'bootstrap': {
      if (flagValue(args, '--org') !== undefined) return commandBootstrapOrg(args);
      const network = existingNetwork();
      const result = await network.bootstrapStartedNodes();
      say(`Channel ${network.config.channel} ready; chaincode sequence ${result.deployment.sequence}.`);
      return;
    }
    case 'serve-chaincode':
      return serveChaincode(loadNetworkConfig());
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
