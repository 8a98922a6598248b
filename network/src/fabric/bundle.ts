import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  bundledConfigFile,
  readNetworkFile,
  type NetworkConfig,
  type NetworkFile,
  type OrdererNode,
  type PeerOrg,
} from '../config.js';
import {
  caTlsMaterial,
  chaincodeClientMaterial,
  chaincodeServerMaterial,
  genesisBlockFile,
  ordererAdmin,
  ordererMaterial,
  ordererOrgDir,
  ordererTlsCa,
  orgAdmin,
  orgSigningCa,
  orgTlsCa,
  peerMaterial,
  peerOrgDir,
} from './layout.js';
import { registrarFile } from './nodes.js';

/** Identifies the file format; a reader refuses any other. */
export const bundleFormat = 'gigledger-org-bundle/1';

/** The nodes one organisation's host runs. */
export interface HostedNodes {
  /** The organisation's name as `--org` takes it. */
  readonly name: string;
  /** Its CA and peer, unless it is the orderer organisation. */
  readonly peerOrg: PeerOrg | undefined;
  /** Orderers whose `org` names it (all orderers without `org` belong to the orderer organisation). */
  readonly orderers: readonly OrdererNode[];
  /** Whether its host runs the chaincode server every peer dials (network.config.json `chaincode.org`). */
  readonly chaincodeServer: boolean;
}

/**
 * The nodes an organisation's host runs.
 *
 * @throws Error listing the organisations when `name` is none of them.
 */
export function hostedNodes(config: NetworkConfig, name: string): HostedNodes {
  const peerOrg = config.peerOrgs.find((org) => org.name === name);
  const orderers = config.ordererOrg.orderers.filter((node) => node.org === name);
  if (peerOrg === undefined && name !== config.ordererOrg.name) {
    const names = [...config.peerOrgs.map((org) => org.name), config.ordererOrg.name];
    throw new Error(`no organisation is called ${name}; the network has ${names.join(', ')}`);
  }
  return { name, peerOrg, orderers, chaincodeServer: peerOrg !== undefined && config.chaincode.org === name };
}

const bundleSchema = z.object({
  format: z.literal(bundleFormat),
  org: z.string(),
  exportedAt: z.string(),
  /** network.config.json for the organisation's host: every node's address, ports already shifted. */
  network: z.unknown(),
  /** Files relative to the home directory, base64, with their Unix mode. */
  files: z.array(z.object({ path: z.string(), mode: z.number().int(), base64: z.string() })),
  startCommand: z.string(),
});
export type OrgBundle = z.output<typeof bundleSchema>;

/** A private key file as cryptogen lays them out: `priv_sk` in CA folders, MSP keystores, TLS `*.key`. */
function isPrivateKey(relative: string): boolean {
  const parts = relative.split(path.sep);
  return parts.includes('keystore') || relative.endsWith('_sk') || relative.endsWith('.key');
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      return statSync(full).isDirectory() ? listFiles(full) : [full];
    });
}

function within(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * Which private keys of the network an organisation's host holds: everything of its own
 * organisation (CA signing key, TLS CA key, peer and users), the keys of the orderers it
 * runs and the orderer admin's TLS client key to join them (osnadmin), the chaincode
 * server's key where it runs the server, and the client key peers present to that
 * server (which every chaincode package carries anyway). Other organisations' keys never
 * leave their hosts; their public certificates and TLS CAs do, so clients verify them.
 */
function keyDirsFor(config: NetworkConfig, hosted: HostedNodes): string[] {
  const dirs: string[] = [];
  if (hosted.peerOrg !== undefined) {
    dirs.push(peerOrgDir(config, hosted.peerOrg));
    dirs.push(path.dirname(path.dirname(chaincodeClientMaterial(config).tlsCert)));
  }
  if (hosted.name === config.ordererOrg.name) dirs.push(ordererOrgDir(config));
  for (const node of hosted.orderers) dirs.push(path.dirname(path.dirname(ordererMaterial(config, node).tlsCert)));
  if (hosted.orderers.length > 0) dirs.push(path.dirname(path.dirname(ordererAdmin(config).tlsCert)));
  if (hosted.chaincodeServer) dirs.push(path.dirname(path.dirname(chaincodeServerMaterial(config).tlsCert)));
  return dirs;
}

/**
 * The files a host needs to start `hosted`'s nodes and talk to the others, absolute:
 * the checks of {@link missingMaterial} and the first thing to look at when a bundle is refused.
 */
export function requiredFiles(config: NetworkConfig, hosted: HostedNodes): string[] {
  const files = [
    genesisBlockFile(config),
    ordererTlsCa(config),
    ...config.peerOrgs.map((org) => orgTlsCa(config, org)),
  ];
  const org = hosted.peerOrg;
  if (org !== undefined) {
    const peer = peerMaterial(config, org);
    const admin = orgAdmin(config, org);
    const signing = orgSigningCa(config, org);
    const caTls = caTlsMaterial(config, org);
    const client = chaincodeClientMaterial(config);
    files.push(peer.tlsCert, peer.tlsKey, admin.tlsCert, admin.tlsKey, signing.cert, signing.key);
    files.push(caTls.tlsCert, caTls.tlsKey, client.tlsCert, client.tlsKey, chaincodeServerMaterial(config).tlsCa);
    files.push(...config.peerOrgs.map((other) => peerMaterial(config, other).tlsCa));
  }
  for (const node of hosted.orderers) {
    const material = ordererMaterial(config, node);
    files.push(material.tlsCert, material.tlsKey);
  }
  if (hosted.orderers.length > 0) files.push(ordererAdmin(config).tlsCert, ordererAdmin(config).tlsKey);
  if (hosted.chaincodeServer) {
    const server = chaincodeServerMaterial(config);
    files.push(server.tlsCert, server.tlsKey);
  }
  return files;
}

/** The files of {@link requiredFiles} that are not on this host. */
export function missingMaterial(config: NetworkConfig, hosted: HostedNodes): string[] {
  return requiredFiles(config, hosted).filter((file) => !existsSync(file));
}

/**
 * The network description for one organisation's host: the same nodes and addresses,
 * ports shifted by the exporting network's offset (the bundle's ports are final), and
 * the organisation it belongs to.
 */
function bundledNetworkFile(config: NetworkConfig, org: string, exportedAt: string): NetworkFile {
  const file = readNetworkFile(config.sourceFile);
  const shift = (port: number): number => port + config.portOffset;
  return {
    ...file,
    ordererOrg: {
      ...file.ordererOrg,
      orderers: file.ordererOrg.orderers.map((node) => ({
        ...node,
        port: shift(node.port),
        adminPort: shift(node.adminPort),
        operationsPort: shift(node.operationsPort),
      })),
    },
    peerOrgs: file.peerOrgs.map((peerOrg) => ({
      ...peerOrg,
      peer: {
        ...peerOrg.peer,
        port: shift(peerOrg.peer.port),
        chaincodePort: shift(peerOrg.peer.chaincodePort),
        operationsPort: shift(peerOrg.peer.operationsPort),
      },
      ca: { port: shift(peerOrg.ca.port), operationsPort: shift(peerOrg.ca.operationsPort) },
    })),
    chaincode: {
      ...file.chaincode,
      serverPorts: [shift(file.chaincode.serverPorts[0]), shift(file.chaincode.serverPorts[1])],
    },
    api: { port: shift(file.api.port) },
    bundle: { org, exportedAt },
  };
}

/**
 * One organisation's bundle: its crypto material (only its own private keys, see
 * {@link keyDirsFor}), the public certificates and TLS CAs of the others, the genesis
 * block its nodes join from, its CA's registrar, the network description with every
 * node's address, and the command that starts its nodes.
 *
 * @throws Error when the organisation is unknown, the network added organisations at
 *   run time (their bundles are not supported yet), or material is missing.
 */
export function exportOrgBundle(config: NetworkConfig, name: string, bundleFileName: string): OrgBundle {
  const hosted = hostedNodes(config, name);
  if (config.bundleOf !== undefined) {
    throw new Error(
      `${config.home} holds ${config.bundleOf}'s bundle; export from the home that generated the network`,
    );
  }
  if (config.peerOrgs.some((org) => org.admission !== undefined)) {
    throw new Error('the network has organisations added at run time; bundles cover the genesis organisations only');
  }
  const missing = missingMaterial(config, hosted);
  if (missing.length > 0) {
    throw new Error(
      `the network's material is not generated (missing ${missing.slice(0, 3).join(', ')}` +
        `${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}); run \`npm run network:up\` or \`node network/dist/cli/main.js generate\` first`,
    );
  }
  const keyDirs = keyDirsFor(config, hosted);
  const crypto = listFiles(config.paths.crypto).filter(
    (file) => !isPrivateKey(path.relative(config.paths.crypto, file)) || keyDirs.some((dir) => within(file, dir)),
  );
  const files = [
    ...crypto,
    genesisBlockFile(config),
    ...(hosted.peerOrg !== undefined && existsSync(registrarFile(hosted.peerOrg))
      ? [registrarFile(hosted.peerOrg)]
      : []),
  ];
  const exportedAt = new Date().toISOString();
  return {
    format: bundleFormat,
    org: name,
    exportedAt,
    network: bundledNetworkFile(config, name, exportedAt),
    files: files.map((file) => ({
      path: path.relative(config.home, file).split(path.sep).join('/'),
      mode: statSync(file).mode & 0o777,
      base64: readFileSync(file).toString('base64'),
    })),
    startCommand: `GIGLEDGER_HOME=.gigledger/${name} npm run network:up -- --org ${name} --bundle ${bundleFileName}`,
  };
}

/** Writes a bundle readable by its owner only: it holds the organisation's private keys. */
export function writeOrgBundle(bundle: OrgBundle, file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(bundle)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * Unpacks a bundle into a home directory: its files and `network.config.json`, which
 * every later command run with that home reads. Unpacking the same organisation's
 * bundle again overwrites its files and keeps ledgers.
 *
 * @param org the organisation `--org` names; must be the bundle's.
 * @throws Error when the file is no bundle, belongs to another organisation, or the home holds another organisation's bundle.
 */
export function unpackOrgBundle(file: string, home: string, org: string): OrgBundle {
  if (!existsSync(file)) throw new Error(`bundle ${file} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file} is not an organisation bundle (not JSON)`);
  }
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not an organisation bundle: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  const bundle = parsed.data;
  if (bundle.org !== org) throw new Error(`${file} is ${bundle.org}'s bundle, not ${org}'s`);
  const configFile = bundledConfigFile(home);
  if (existsSync(configFile)) {
    const present = readNetworkFile(configFile).bundle?.org;
    if (present !== undefined && present !== org) {
      throw new Error(`${home} holds ${present}'s nodes; unpack ${org}'s bundle into another GIGLEDGER_HOME`);
    }
  }
  for (const entry of bundle.files) {
    const target = path.resolve(home, entry.path);
    if (!within(target, home)) throw new Error(`${file}: ${entry.path} points outside the home directory`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(entry.base64, 'base64'), { mode: entry.mode });
    chmodSync(target, entry.mode);
  }
  mkdirSync(home, { recursive: true });
  writeFileSync(configFile, `${JSON.stringify(bundle.network, null, 2)}\n`);
  // Checked after writing so the error names the field of the file the commands will read.
  readNetworkFile(configFile);
  return bundle;
}
