import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetworkConfig, OrdererNode, PeerOrg } from '../config.js';
import { ordererClientFlags, peerAdminEnv } from '../fabric/channel.js';
import { chaincodeClientMaterial, chaincodeServerMaterial, peerMaterial } from '../fabric/layout.js';
import { runCommand } from '../fabric/run-command.js';
import { isAlive, type ProcessRecord, type ProcessRegistry } from '../processes/registry.js';
import { isPortFree } from '../processes/ports.js';
import { StopWaiting, waitUntil } from '../processes/wait.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { deterministicTarGz } from './tar.js';
import { collectionsForMembers, endorsementPolicyFor, type CollectionDefinition } from './membership.js';

/** The chaincode definition committed on the channel, as `querycommitted` reports it. */
export interface CommittedDefinition {
  readonly sequence: number;
  readonly version: string;
}

/** What was deployed last, kept in `<home>/chaincode/deployment.json`. */
export interface Deployment {
  readonly sequence: number;
  readonly version: string;
  readonly label: string;
  readonly packageId: string;
  readonly sourceHash: string;
  readonly port: number;
}

export interface DeployResult {
  readonly deployment: Deployment;
  readonly changed: boolean;
}

const builderScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ccaas-builder.js');

/** Writes the ccaas external builder the peers are configured with. */
export function installBuilder(config: NetworkConfig): void {
  const binDir = path.join(config.paths.builders, 'ccaas', 'bin');
  mkdirSync(binDir, { recursive: true });
  for (const phase of ['detect', 'build', 'release']) {
    const file = path.join(binDir, phase);
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${builderScript}" ${phase} "$@"\n`);
    chmodSync(file, 0o755);
  }
}

/** The parts of the chaincode definition that follow the channel's membership. */
export interface MembershipDefinition {
  /** The collections file the definition is approved with (written under `<home>/chaincode/`), if any. */
  readonly collectionsFile?: string;
  /** The signature policy naming the channel's organisations (see {@link endorsementPolicyFor}). */
  readonly signaturePolicy: string;
}

/**
 * Writes the collections of `chaincode/collections.json` as they apply to the network's
 * organisations now (see {@link collectionsForMembers}) and derives the endorsement
 * policy they need (see {@link endorsementPolicyFor}).
 *
 * @throws Error when a collection would be left without a member.
 */
export function membershipDefinition(config: NetworkConfig): MembershipDefinition {
  const collections = currentCollections(config);
  const signaturePolicy = endorsementPolicyFor(
    collections ?? [],
    config.peerOrgs.map((org) => org.mspId),
  );
  if (collections === undefined) return { signaturePolicy };
  mkdirSync(config.paths.chaincodePackages, { recursive: true });
  const collectionsFile = path.join(config.paths.chaincodePackages, 'collections.json');
  writeFileSync(collectionsFile, `${JSON.stringify(collections, null, 2)}\n`);
  return { collectionsFile, signaturePolicy };
}

/**
 * The repository's collections as they apply to the network's organisations now (see
 * {@link collectionsForMembers}); undefined when the chaincode defines none.
 */
export function currentCollections(config: NetworkConfig): CollectionDefinition[] | undefined {
  if (!existsSync(config.chaincode.collectionsFile)) return undefined;
  const definitions = JSON.parse(readFileSync(config.chaincode.collectionsFile, 'utf8')) as CollectionDefinition[];
  const founders = config.peerOrgs.filter((org) => org.admission === undefined).map((org) => org.mspId);
  return collectionsForMembers(
    definitions,
    founders,
    config.peerOrgs.map((org) => org.mspId),
  );
}

function definitionFlagsOf(membership: MembershipDefinition): string[] {
  return [
    ...(membership.collectionsFile === undefined ? [] : ['--collections-config', membership.collectionsFile]),
    '--signature-policy',
    membership.signaturePolicy,
  ];
}

/**
 * Hash of what the chaincode server runs and what its definition says: the compiled
 * contracts, the manifest, the collections as they apply to the channel's members and
 * the endorsement policy. A new hash means a new package and a new sequence.
 */
export function chaincodeSourceHash(config: NetworkConfig, membership?: MembershipDefinition): string {
  const hash = createHash('sha256');
  if (membership !== undefined) hash.update(`policy\u0000${membership.signaturePolicy}\u0000`);
  const distDir = path.join(config.chaincode.sourceDir, 'dist');
  if (!existsSync(distDir)) throw new Error(`${distDir} is missing; run \`npm run build\` first`);
  const files = listFiles(distDir).filter((file) => file.endsWith('.js') && !file.endsWith('.test.js'));
  for (const file of [...files, path.join(config.chaincode.sourceDir, 'package.json')]) {
    if (!existsSync(file)) continue;
    hash.update(path.relative(config.chaincode.sourceDir, file)).update('\u0000').update(readFileSync(file));
  }
  const collections = membership?.collectionsFile ?? config.chaincode.collectionsFile;
  if (existsSync(collections)) hash.update('collections.json\u0000').update(readFileSync(collections));
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      return statSync(full).isDirectory() ? listFiles(full) : [full];
    });
}

function chaincodeVersion(config: NetworkConfig): string {
  const manifest = JSON.parse(readFileSync(path.join(config.chaincode.sourceDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Builds the ccaas package for a server address; returns its file and package id. */
export function buildPackage(config: NetworkConfig, label: string, port: number): { file: string; packageId: string } {
  const server = chaincodeServerMaterial(config);
  const client = chaincodeClientMaterial(config);
  const connection = {
    address: `${config.chaincode.address}:${port}`,
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: true,
    client_key: readFileSync(client.tlsKey, 'utf8'),
    client_cert: readFileSync(client.tlsCert, 'utf8'),
    root_cert: readFileSync(server.tlsCa, 'utf8'),
  };
  const code = deterministicTarGz([
    { name: 'connection.json', content: Buffer.from(JSON.stringify(connection, null, 2)) },
  ]);
  const metadata = { type: 'ccaas', label };
  const packageBytes = deterministicTarGz([
    { name: 'metadata.json', content: Buffer.from(JSON.stringify(metadata)) },
    { name: 'code.tar.gz', content: code },
  ]);
  mkdirSync(config.paths.chaincodePackages, { recursive: true });
  const file = path.join(config.paths.chaincodePackages, `${label}.tar.gz`);
  writeFileSync(file, packageBytes);
  return { file, packageId: `${label}:${createHash('sha256').update(packageBytes).digest('hex')}` };
}

function deploymentFile(config: NetworkConfig): string {
  return path.join(config.paths.chaincodePackages, 'deployment.json');
}

export function readDeployment(config: NetworkConfig): Deployment | undefined {
  const file = deploymentFile(config);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Deployment) : undefined;
}

export async function queryCommitted(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
): Promise<CommittedDefinition | undefined> {
  try {
    const { stdout } = await runCommand(
      toolchain.bin('peer'),
      [
        'lifecycle',
        'chaincode',
        'querycommitted',
        '--channelID',
        config.channel,
        '--name',
        config.chaincode.name,
        '--output',
        'json',
      ],
      { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } },
    );
    const definition = JSON.parse(stdout) as { sequence: number; version: string };
    return { sequence: definition.sequence, version: definition.version };
  } catch (error) {
    if (error instanceof Error && /namespace \S+ is not defined|not found/i.test(error.message)) return undefined;
    throw error;
  }
}

async function installedPackageIds(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<string[]> {
  const { stdout } = await runCommand(
    toolchain.bin('peer'),
    ['lifecycle', 'chaincode', 'queryinstalled', '--output', 'json'],
    { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } },
  );
  const parsed = JSON.parse(stdout || '{}') as { installed_chaincodes?: { package_id: string }[] };
  return (parsed.installed_chaincodes ?? []).map((entry) => entry.package_id);
}

function chaincodeServerName(port: number): string {
  return `chaincode@${port}`;
}

/** How to run the chaincode server of a deployment: fabric-chaincode-node with mutual TLS. */
export function chaincodeServerCommand(
  config: NetworkConfig,
  deployment: Deployment,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const server = chaincodeServerMaterial(config);
  const client = chaincodeClientMaterial(config);
  // The benchmarks profile the server with V8; it writes the profile as it ends on SIGTERM.
  const profileDir = process.env.GIGLEDGER_CHAINCODE_PROFILE_DIR;
  return {
    command: process.execPath,
    args: [
      ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      path.join(config.repoRoot, 'node_modules', 'fabric-shim', 'cli'),
      'server',
      '--chaincode-address',
      `${config.chaincode.address}:${deployment.port}`,
      '--chaincode-id',
      deployment.packageId,
      '--module-path',
      config.chaincode.sourceDir,
      '--chaincode-tls-cert-file',
      server.tlsCert,
      '--chaincode-tls-key-file',
      server.tlsKey,
      '--chaincode-tls-client-cacert-file',
      client.tlsCa,
    ],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CORE_CHAINCODE_ID_NAME: deployment.packageId,
      CORE_CHAINCODE_LOGGING_LEVEL: process.env.GIGLEDGER_CHAINCODE_LOGGING ?? 'info',
    },
  };
}

/** Starts the chaincode server for a deployment unless it already runs. */
export async function ensureChaincodeServer(
  config: NetworkConfig,
  registry: ProcessRegistry,
  deployment: Deployment,
): Promise<ProcessRecord> {
  const name = chaincodeServerName(deployment.port);
  const existing = registry.find(name);
  if (existing !== undefined && isAlive(existing) && existing.details?.packageId === deployment.packageId) {
    return existing;
  }
  if (existing !== undefined) await registry.stop(name);
  const record = registry.start({
    name,
    kind: 'chaincode',
    ...chaincodeServerCommand(config, deployment),
    cwd: config.chaincode.sourceDir,
    ports: [deployment.port],
    details: { packageId: deployment.packageId, sequence: String(deployment.sequence) },
  });
  await waitUntil(
    `chaincode server on port ${deployment.port}`,
    async () => {
      if (!isAlive(record)) throw new StopWaiting(`the chaincode server exited; see ${record.log}`);
      return (await isPortFree(deployment.port, config.chaincode.address)) ? undefined : true;
    },
    // Loading the contracts takes about a second on a quiet host; a host busy with a build
    // or a test run beside it has been seen to take over half a minute.
    { timeoutMs: 120_000 },
  );
  return record;
}

/**
 * Deploys the chaincode when its build differs from the committed definition: builds
 * a new package, installs it on every peer, starts its server beside the old one,
 * approves and commits the next sequence, then stops the old server. Ledger state is
 * kept; only the definition changes.
 */
export async function deployChaincode(
  config: NetworkConfig,
  toolchain: Toolchain,
  registry: ProcessRegistry,
  report: (line: string) => void,
  {
    force = false,
    chaincodeServer = 'managed',
  }: {
    force?: boolean;
    /** `managed`: this host starts and stops the chaincode server; `external`: it runs elsewhere (a container). */
    chaincodeServer?: 'managed' | 'external';
  } = {},
): Promise<DeployResult> {
  const [firstOrg] = config.peerOrgs;
  if (firstOrg === undefined) throw new Error('the network has no peer organisation');
  const membership = membershipDefinition(config);
  const sourceHash = chaincodeSourceHash(config, membership);
  const previous = readDeployment(config);
  const committed = await queryCommitted(config, toolchain, firstOrg);

  if (
    !force &&
    previous !== undefined &&
    committed !== undefined &&
    committed.sequence === previous.sequence &&
    previous.sourceHash === sourceHash
  ) {
    if (chaincodeServer === 'managed') await ensureChaincodeServer(config, registry, previous);
    return { deployment: previous, changed: false };
  }

  const sequence = (committed?.sequence ?? 0) + 1;
  const [firstPort, secondPort] = config.chaincode.serverPorts;
  const port = previous?.port === firstPort && committed !== undefined ? secondPort : firstPort;
  const label = `${config.chaincode.name}_${sourceHash.slice(0, 12)}`;
  const version = `${chaincodeVersion(config)}+${sourceHash.slice(0, 12)}`;
  const built = buildPackage(config, label, port);
  report(`Deploying chaincode ${config.chaincode.name} ${version} as sequence ${sequence} (server port ${port})`);
  report(`  endorsement policy: ${membership.signaturePolicy}`);

  for (const org of config.peerOrgs) {
    if ((await installedPackageIds(config, toolchain, org)).includes(built.packageId)) continue;
    await runCommand(toolchain.bin('peer'), ['lifecycle', 'chaincode', 'install', built.file], {
      env: { ...process.env, ...peerAdminEnv(config, toolchain, org) },
    });
    report(`  installed on ${org.peer.host}`);
  }

  const deployment: Deployment = { sequence, version, label, packageId: built.packageId, sourceHash, port };
  if (chaincodeServer === 'managed') {
    await ensureChaincodeServer(config, registry, deployment);
  } else {
    // The external server learns its package id from this file before it starts.
    writeFileSync(deploymentFile(config), `${JSON.stringify(deployment, null, 2)}\n`);
  }

  const definitionFlags = sequenceDefinitionFlags(config, membership, version, sequence);
  const orderer = config.ordererOrg.orderers[0];
  if (orderer === undefined) throw new Error('the network has no orderer');
  for (const org of config.peerOrgs) {
    await approveForOrg(config, toolchain, org, orderer, definitionFlags, built.packageId);
    report(`  approved by ${org.mspId}`);
  }

  const peerFlags = config.peerOrgs.flatMap((org) => [
    '--peerAddresses',
    `${org.address}:${org.peer.port}`,
    '--tlsRootCertFiles',
    peerMaterial(config, org).tlsCa,
  ]);
  await runCommand(
    toolchain.bin('peer'),
    [
      'lifecycle',
      'chaincode',
      'commit',
      ...ordererClientFlags(config, firstOrg, orderer),
      ...definitionFlags,
      ...peerFlags,
    ],
    { env: { ...process.env, ...peerAdminEnv(config, toolchain, firstOrg) } },
  );
  for (const org of config.peerOrgs) {
    await waitUntil(`sequence ${sequence} committed on ${org.peer.host}`, async () => {
      const definition = await queryCommitted(config, toolchain, org);
      return definition?.sequence === sequence ? definition : undefined;
    });
  }
  report(`  committed sequence ${sequence} on ${config.channel}`);

  writeFileSync(deploymentFile(config), `${JSON.stringify(deployment, null, 2)}\n`);
  if (chaincodeServer === 'external') {
    await waitUntil(
      `the chaincode server at ${config.chaincode.address}:${port}`,
      async () => ((await isPortFree(port, config.chaincode.address)) ? undefined : true),
      {
        timeoutMs: 120_000,
      },
    );
  } else if (previous !== undefined && previous.port !== port) {
    await registry.stop(chaincodeServerName(previous.port));
  }
  return { deployment, changed: true };
}

/** `peer lifecycle chaincode approveformyorg` of one definition and package, as `org`'s admin. */
async function approveForOrg(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  orderer: OrdererNode,
  definitionFlags: readonly string[],
  packageId: string,
): Promise<void> {
  await runCommand(
    toolchain.bin('peer'),
    [
      'lifecycle',
      'chaincode',
      'approveformyorg',
      ...ordererClientFlags(config, org, orderer),
      ...definitionFlags,
      '--package-id',
      packageId,
    ],
    { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } },
  );
}

/** The definition flags of `approveformyorg`, `checkcommitreadiness` and `commit` for one sequence. */
function sequenceDefinitionFlags(
  config: NetworkConfig,
  membership: MembershipDefinition,
  version: string,
  sequence: number,
): string[] {
  return [
    '--channelID',
    config.channel,
    '--name',
    config.chaincode.name,
    '--version',
    version,
    '--sequence',
    String(sequence),
    ...definitionFlagsOf(membership),
  ];
}

/** MSP ids that approved a definition, from the organisation's peer (`checkcommitreadiness`). */
async function approvalsOf(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  definitionFlags: readonly string[],
): Promise<string[]> {
  const { stdout } = await runCommand(
    toolchain.bin('peer'),
    ['lifecycle', 'chaincode', 'checkcommitreadiness', ...definitionFlags, '--output', 'json'],
    { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } },
  );
  const { approvals } = JSON.parse(stdout) as { approvals: Record<string, boolean> };
  return Object.entries(approvals)
    .filter(([, approved]) => approved)
    .map(([mspId]) => mspId);
}

/**
 * The chaincode as one organisation's host brings it up (`network:up -- --org`), when
 * every organisation runs on its own host: builds the same package as the others do
 * (deterministic tar over the same build, server address and TLS files, so the package
 * id agrees without exchanging files), installs it on the organisation's peer, approves
 * sequence 1 (or the committed sequence when that carries this build's version) for its
 * MSP, and commits the definition when its approval completes a majority, endorsed by
 * the approving organisations' peers. The host named by `chaincode.org` also runs the
 * chaincode server.
 *
 * @returns the deployment and whether the definition is committed on the channel.
 * @throws Error when the channel carries a different build of the chaincode (the hosts
 *   must build the same commit), or a peer command fails.
 */
export async function deployOnOrgHost(
  config: NetworkConfig,
  toolchain: Toolchain,
  registry: ProcessRegistry,
  org: PeerOrg,
  runServer: boolean,
  report: (line: string) => void,
): Promise<{ deployment: Deployment; committed: boolean }> {
  const orderer = config.ordererOrg.orderers.find((node) => node.org === org.name) ?? config.ordererOrg.orderers[0];
  if (orderer === undefined) throw new Error('the network has no orderer');
  const membership = membershipDefinition(config);
  const sourceHash = chaincodeSourceHash(config, membership);
  const label = `${config.chaincode.name}_${sourceHash.slice(0, 12)}`;
  const version = `${chaincodeVersion(config)}+${sourceHash.slice(0, 12)}`;
  const [port] = config.chaincode.serverPorts;
  const built = buildPackage(config, label, port);
  const env = { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } };
  if (!(await installedPackageIds(config, toolchain, org)).includes(built.packageId)) {
    await runCommand(toolchain.bin('peer'), ['lifecycle', 'chaincode', 'install', built.file], env);
    report(`  installed ${label} on ${org.peer.host}`);
  }
  const committedVersion = async (): Promise<CommittedDefinition | undefined> => {
    const definition = await queryCommitted(config, toolchain, org);
    if (definition !== undefined && definition.version !== version) {
      throw new Error(
        `the channel runs chaincode ${definition.version} (sequence ${definition.sequence}) but this host built ${version}; ` +
          'build the commit the other organisations run',
      );
    }
    return definition;
  };
  const approve = async (sequence: number): Promise<void> => {
    await approveForOrg(
      config,
      toolchain,
      org,
      orderer,
      sequenceDefinitionFlags(config, membership, version, sequence),
      built.packageId,
    );
    report(`  approved sequence ${sequence} for ${org.mspId}`);
  };
  /** The committed definition, approved for this organisation if it had not approved it yet. */
  const joinCommitted = async (
    definition: CommittedDefinition,
  ): Promise<{ deployment: Deployment; committed: true }> => {
    const approved = await runCommand(
      toolchain.bin('peer'),
      ['lifecycle', 'chaincode', 'queryapproved', '--channelID', config.channel, '--name', config.chaincode.name],
      env,
    ).then(
      ({ stdout }) => stdout.includes(built.packageId) && stdout.includes(`sequence: ${definition.sequence},`),
      () => false,
    );
    if (!approved) await approve(definition.sequence);
    return { deployment: { ...deployment, sequence: definition.sequence }, committed: true };
  };

  const deployment: Deployment = { sequence: 1, version, label, packageId: built.packageId, sourceHash, port };
  writeFileSync(deploymentFile(config), `${JSON.stringify(deployment, null, 2)}\n`);
  if (runServer) await ensureChaincodeServer(config, registry, deployment);

  /**
   * After this host's approval or commit failed: whether another host committed meanwhile.
   * This peer may learn of that block a moment after the orderer refused or invalidated
   * ours, so it is asked for a while before the failure counts.
   */
  const committedElsewhere = async (failure: unknown): Promise<CommittedDefinition> => {
    const seen = await waitUntil(
      `a definition committed by another host after ${org.name}'s own attempt failed`,
      () => queryCommitted(config, toolchain, org),
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch(() => undefined);
    // Asked again so that a definition of another build is refused in words.
    const definition = seen === undefined ? undefined : await committedVersion();
    if (definition === undefined) throw failure;
    return definition;
  };

  const current = await committedVersion();
  if (current !== undefined) return joinCommitted(current);
  const sequence = 1;
  const definitionFlags = sequenceDefinitionFlags(config, membership, version, sequence);
  try {
    if (!(await approvalsOf(config, toolchain, org, definitionFlags)).includes(org.mspId)) await approve(sequence);
  } catch (error) {
    // Another host committed sequence 1 meanwhile: readiness is then asked of sequence 2.
    return joinCommitted(await committedElsewhere(error));
  }
  const approvals = await approvalsOf(config, toolchain, org, definitionFlags).catch((error: unknown) =>
    committedElsewhere(error),
  );
  if (!Array.isArray(approvals)) return { deployment, committed: true };
  if (approvals.length * 2 <= config.peerOrgs.length) {
    report(
      `  approved by ${approvals.join(', ')}; the definition is committed when a majority of the ` +
        `${config.peerOrgs.length} organisations has approved (the host completing it commits)`,
    );
    return { deployment, committed: false };
  }
  const endorsers = config.peerOrgs.filter((candidate) => approvals.includes(candidate.mspId));
  try {
    await runCommand(
      toolchain.bin('peer'),
      [
        'lifecycle',
        'chaincode',
        'commit',
        ...ordererClientFlags(config, org, orderer),
        ...definitionFlags,
        ...endorsers.flatMap((endorser) => [
          '--peerAddresses',
          `${endorser.address}:${endorser.peer.port}`,
          '--tlsRootCertFiles',
          peerMaterial(config, endorser).tlsCa,
        ]),
      ],
      env,
    );
  } catch (error) {
    // Two hosts completing the majority at once both commit; the second finds it done.
    if ((await committedElsewhere(error)).sequence !== sequence) throw error;
  }
  await waitUntil(`sequence ${sequence} committed on ${org.peer.host}`, async () => {
    const definition = await queryCommitted(config, toolchain, org);
    return definition?.sequence === sequence ? definition : undefined;
  });
  report(`  committed sequence ${sequence} on ${config.channel}, endorsed by ${approvals.join(', ')}`);
  return { deployment, committed: true };
}
