import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  bundledConfigFile,
  parseAddedOrgs,
  parseNetworkFile,
  readAddedOrgs,
  readNetworkFile,
  type AddedOrgEntry,
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
 * `organisations.json` for an organisation's host: the organisations added at run time
 * (and removed ones, which every command leaves out), ports shifted like the bundle's
 * network description, so that every host describes the same channel members and derives
 * the same chaincode definition (an added organisation is a member of consortium-wide
 * collections, see `currentCollections`).
 */
function bundledAddedOrgs(config: NetworkConfig): AddedOrgEntry[] {
  const shift = (port: number): number => port + config.portOffset;
  return readAddedOrgs(config.paths.addedOrgs).map((entry) => ({
    ...entry,
    peer: {
      ...entry.peer,
      port: shift(entry.peer.port),
      chaincodePort: shift(entry.peer.chaincodePort),
      operationsPort: shift(entry.peer.operationsPort),
    },
    ca: { port: shift(entry.ca.port), operationsPort: shift(entry.ca.operationsPort) },
  }));
}

/** Where a bundle keeps `organisations.json`, relative to the home directory. */
const addedOrgsEntry = 'organisations.json';

/**
 * One organisation's bundle: its crypto material (only its own private keys, see
 * {@link keyDirsFor}), the public certificates and TLS CAs of the others, the genesis
 * block its nodes join from, its CA's registrar, the network description with every
 * node's address, and the command that starts its nodes.
 *
 * Organisations added at run time (`network:add-org`) are covered like the founders: a
 * founder's bundle lists them in `organisations.json` with their addresses and TLS CAs,
 * and an added organisation's bundle carries its own keys (cryptogen extend put them
 * beside the founders'). Every peer joins from the genesis block and reads the later
 * configuration blocks, the one that admitted the organisation included, from the orderers.
 *
 * @throws Error when the organisation is unknown or material is missing.
 */
export function exportOrgBundle(config: NetworkConfig, name: string, bundleFileName: string): OrgBundle {
  const hosted = hostedNodes(config, name);
  if (config.bundleOf !== undefined) {
    throw new Error(
      `${config.home} holds ${config.bundleOf}'s bundle; export from the home that generated the network`,
    );
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
  const added = bundledAddedOrgs(config);
  return {
    format: bundleFormat,
    org: name,
    exportedAt,
    network: bundledNetworkFile(config, name, exportedAt),
    files: [
      ...files.map((file) => ({
        path: path.relative(config.home, file).split(path.sep).join('/'),
        mode: statSync(file).mode & 0o777,
        base64: readFileSync(file).toString('base64'),
      })),
      ...(added.length === 0
        ? []
        : [
            {
              path: addedOrgsEntry,
              mode: 0o644,
              base64: Buffer.from(`${JSON.stringify(added, null, 2)}\n`).toString('base64'),
            },
          ]),
    ],
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
 * Every entry is checked before anything is written, so a refused bundle leaves the home
 * as it was: a path must stay inside the home (no `..`, no absolute path, no symbolic
 * link on the way that leads out), name a file once and have a file mode of at most 0777;
 * the network description and `organisations.json` must match their schemas.
 *
 * @param org the organisation `--org` names; must be the bundle's.
 * @throws Error when the file is no bundle, belongs to another organisation, the home
 *   holds another organisation's bundle, or an entry is refused (named in the message).
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
  const network = parseNetworkFile(bundle.network, `${file}: network`);
  const entries = bundle.files.map((entry) => ({
    ...entry,
    target: checkedEntryTarget(file, home, entry),
    content: Buffer.from(entry.base64, 'base64'),
  }));
  const targets = new Set<string>();
  for (const entry of entries) {
    if (targets.has(entry.target)) throw new Error(`${file}: ${entry.path} appears more than once`);
    if (entry.target === configFile) {
      throw new Error(`${file}: ${entry.path} would replace the bundle's own network description`);
    }
    targets.add(entry.target);
    if (entry.path === addedOrgsEntry) {
      let added: unknown;
      try {
        added = JSON.parse(entry.content.toString('utf8'));
      } catch {
        throw new Error(`${file}: ${entry.path} is not JSON`);
      }
      parseAddedOrgs(added, `${file}: ${entry.path}`);
    }
  }

  mkdirSync(home, { recursive: true });
  for (const entry of entries) {
    mkdirSync(path.dirname(entry.target), { recursive: true });
    writeFileSync(entry.target, entry.content, { mode: entry.mode });
    chmodSync(entry.target, entry.mode);
  }
  writeFileSync(configFile, `${JSON.stringify(network, null, 2)}\n`);
  return bundle;
}

/**
 * Where a bundle entry goes under `home`, after checking that it stays there.
 *
 * @throws Error naming the entry when its path leaves the home directory, lexically or
 *   through a symbolic link already in the home, or its mode is no file mode.
 */
function checkedEntryTarget(file: string, home: string, entry: { path: string; mode: number }): string {
  const outside = new Error(`${file}: ${entry.path} points outside the home directory; nothing was unpacked`);
  if (entry.path.includes('\0') || path.isAbsolute(entry.path) || entry.path.split(/[\\/]/).includes('..')) {
    throw outside;
  }
  const target = path.resolve(home, entry.path);
  if (!within(target, home)) throw outside;
  if (entry.mode < 0 || entry.mode > 0o777) {
    throw new Error(`${file}: ${entry.path} has mode ${entry.mode.toString(8)}, not a file mode of at most 0777`);
  }
  // A folder (or the file itself) that exists already may be a link leading elsewhere.
  const realHome = existsSync(home) ? realpathSync(home) : undefined;
  for (let at = target; realHome !== undefined && within(at, home); at = path.dirname(at)) {
    if (!existsSync(at) && !isDanglingLink(at)) continue;
    if (isDanglingLink(at) || !within(realpathSync(at), realHome)) throw outside;
    break;
  }
  return target;
}

function isDanglingLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink() && !existsSync(file);
  } catch {
    return false;
  }
}
