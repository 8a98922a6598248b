import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
/** The local default address of every node. */
export const loopback = '127.0.0.1';
const name = z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be letters and digits, starting with a letter');

/** Where a node listens and others reach it: an IPv4 address or a DNS name; 127.0.0.1 when omitted. */
const address = z
  .string()
  .regex(/^[A-Za-z0-9.-]+$/, 'must be an IPv4 address or a host name')
  .default(loopback);

const peerOrgSchema = z.object({
  name,
  mspId: name,
  /** The host of the organisation's peer and CA. */
  address,
  peer: z.object({ name: z.string().regex(/^[a-z0-9]+$/), port, chaincodePort: port, operationsPort: port }),
  ca: z.object({ port, operationsPort: port }),
});

/** An organisation that joined the running channel (`network:add-org`), with how it was admitted. */
const addedOrgSchema = peerOrgSchema.extend({
  admission: z.object({
    /** The executed governance proposal that admitted it. */
    proposalId: z.string().optional(),
    /** The MSP ids whose admins signed the channel configuration update. */
    signedBy: z.array(z.string()),
    at: z.string(),
  }),
  /** Set when the organisation left the channel (`network:remove-org`); it is then no organisation of the network. */
  removal: z.object({ proposalId: z.string().optional(), signedBy: z.array(z.string()), at: z.string() }).optional(),
});
export type AddedOrgEntry = z.output<typeof addedOrgSchema>;
const addedOrgsFileSchema = z.array(addedOrgSchema);

const networkFileSchema = z.object({
  channel: z.string().regex(/^[a-z][a-z0-9.-]*$/, 'must be a valid Fabric channel name'),
  domain: z.string().regex(/^[a-z0-9.-]+$/),
  batchTimeout: z.string().regex(/^\d+(ms|s)$/),
  ordererOrg: z.object({
    name,
    mspId: name,
    orderers: z
      .array(
        z.object({
          name: z.string().regex(/^[a-z0-9]+$/),
          address,
          /** The peer organisation whose host runs this orderer; the orderer organisation's own host when omitted. */
          org: name.optional(),
          port,
          adminPort: port,
          operationsPort: port,
        }),
      )
      .min(1),
  }),
  peerOrgs: z.array(peerOrgSchema).min(1),
  chaincode: z.object({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/),
    path: z.string(),
    collectionsFile: z.string(),
    /** The host of the chaincode server, which every peer dials. */
    address,
    /** The peer organisation whose host runs the chaincode server; the first one when omitted. */
    org: name.optional(),
    serverPorts: z.tuple([port, port]),
  }),
  api: z.object({ port }),
  genesisParameters: z.record(z.string(), z.union([z.number(), z.array(z.string())])),
  /** Member organisations' rights at genesis, by organisation name; governance changes them afterwards. */
  genesisMembers: z.record(z.string(), z.object({ voting: z.boolean(), veto: z.boolean() })),
  /** Set in the configuration an organisation bundle carries: its ports are final, GIGLEDGER_PORT_OFFSET does not apply. */
  bundle: z.object({ org: name, exportedAt: z.string() }).optional(),
});
export type NetworkFile = z.output<typeof networkFileSchema>;

/** A listening process of the network and the ports it owns. */
export interface PortAssignment {
  readonly owner: string;
  /** The address the port is bound on. */
  readonly address: string;
  readonly port: number;
  readonly purpose: string;
}

export interface OrdererNode {
  readonly name: string;
  /** Host name in certificates, which also name `address`, 127.0.0.1 and localhost. */
  readonly host: string;
  /** Where the node listens and the channel configuration says it is reached (network.config.json `address`). */
  readonly address: string;
  /** The peer organisation whose host runs it, or the orderer organisation's name. */
  readonly org: string;
  readonly port: number;
  readonly adminPort: number;
  readonly operationsPort: number;
  readonly dir: string;
}

export interface PeerOrg {
  readonly name: string;
  readonly mspId: string;
  readonly domain: string;
  /** Where the organisation's peer and CA listen and are reached (network.config.json `address`). */
  readonly address: string;
  readonly peer: {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly chaincodePort: number;
    readonly operationsPort: number;
    readonly dir: string;
  };
  readonly ca: { readonly name: string; readonly port: number; readonly operationsPort: number; readonly dir: string };
  /** Set for an organisation that joined the running channel rather than being in the genesis block. */
  readonly admission?: AddedOrgEntry['admission'];
}

/** The network as the setup, the operator commands and the tests use it: ports shifted, paths absolute. */
export interface NetworkConfig {
  readonly repoRoot: string;
  /** Every generated file lives under this directory. */
  readonly home: string;
  readonly portOffset: number;
  readonly channel: string;
  readonly domain: string;
  readonly batchTimeout: string;
  readonly ordererOrg: {
    readonly name: string;
    readonly mspId: string;
    readonly domain: string;
    readonly orderers: readonly OrdererNode[];
  };
  readonly peerOrgs: readonly PeerOrg[];
  readonly chaincode: {
    readonly name: string;
    readonly sourceDir: string;
    /** Where the chaincode server listens and peers dial it. */
    readonly address: string;
    /** The peer organisation whose host runs the chaincode server. */
    readonly org: string;
    readonly collectionsFile: string;
    readonly serverPorts: readonly [number, number];
  };
  readonly apiPort: number;
  readonly genesisParameters: Readonly<Record<string, number | readonly string[]>>;
  /** Member rights at genesis, by MSP id. */
  readonly genesisMembers: Readonly<Record<string, { readonly voting: boolean; readonly veto: boolean }>>;
  readonly paths: {
    readonly config: string;
    readonly crypto: string;
    readonly channelArtifacts: string;
    readonly logs: string;
    readonly run: string;
    readonly builders: string;
    readonly chaincodePackages: string;
    readonly identities: string;
    readonly connectionProfile: string;
    /** Organisations added to the running channel, kept with the network's data (see {@link AddedOrgEntry}). */
    readonly addedOrgs: string;
  };
  /** The network description file this configuration was read from. */
  readonly sourceFile: string;
  /** The organisation whose bundle this configuration came from (see `network:export-org`). */
  readonly bundleOf?: string;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const networkConfigFile = path.join(repoRoot, 'network', 'network.config.json');

export interface ConfigOverrides {
  /** Defaults to GIGLEDGER_HOME, then `<repo>/.gigledger/network`. */
  readonly home?: string;
  /** Defaults to GIGLEDGER_PORT_OFFSET, then the offset the home was generated with, then 0. */
  readonly portOffset?: number;
  /** Where the repository is, for configurations used inside containers. */
  readonly repoRoot?: string;
  /**
   * The network description to read. Defaults to GIGLEDGER_NETWORK_CONFIG, then the
   * `network.config.json` an organisation bundle left in the home directory, then
   * network/network.config.json.
   */
  readonly configFile?: string;
}

/** The configuration an unpacked organisation bundle leaves in its home directory. */
export function bundledConfigFile(home: string): string {
  return path.join(home, 'network.config.json');
}

/**
 * Reads and checks a network description file.
 *
 * @throws Error naming the file and the field when it does not match the schema.
 */
export function readNetworkFile(file: string): NetworkFile {
  if (!existsSync(file)) throw new Error(`${file} is missing`);
  return parseNetworkFile(JSON.parse(readFileSync(file, 'utf8')), file);
}

/**
 * Checks a network description already read, e.g. the one a bundle carries.
 *
 * @param source names the description in the error (a file, or the bundle's field).
 * @throws Error naming `source` and the field when it does not match the schema.
 */
export function parseNetworkFile(json: unknown, source: string): NetworkFile {
  return parseChecked(networkFileSchema, json, source);
}

/**
 * Parses `json` with `schema`, for a configuration file or a part of a bundle.
 *
 * @throws Error naming `source`, the path of the first refused field and why.
 */
export function parseChecked<T>(schema: z.ZodType<T>, json: unknown, source: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // A refused record key carries the key schema's own message one level down.
  const inner = issue !== undefined && 'issues' in issue ? (issue.issues as { message: string }[])[0] : undefined;
  throw new Error(`${source}: ${issue?.path.join('.') ?? ''}: ${inner?.message ?? issue?.message ?? 'invalid'}`);
}

/**
 * Checks the list of organisations added at run time, e.g. the one a bundle carries.
 *
 * @throws Error naming `source` and the field when it does not match the schema.
 */
export function parseAddedOrgs(json: unknown, source: string): AddedOrgEntry[] {
  return parseChecked(addedOrgsFileSchema, json, source);
}

/**
 * Reads network/network.config.json and applies the port offset and home directory.
 *
 * @throws Error naming the field when the file does not match its schema.
 */
export function loadNetworkConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): NetworkConfig {
  const home = path.resolve(overrides.home ?? env.GIGLEDGER_HOME ?? path.join(repoRoot, '.gigledger', 'network'));
  const bundled = bundledConfigFile(home);
  const sourceFile =
    overrides.configFile ??
    (env.GIGLEDGER_NETWORK_CONFIG !== undefined && env.GIGLEDGER_NETWORK_CONFIG !== ''
      ? path.resolve(env.GIGLEDGER_NETWORK_CONFIG)
      : existsSync(bundled)
        ? bundled
        : networkConfigFile);
  const file = readNetworkFile(sourceFile);
  const root = overrides.repoRoot ?? repoRoot;
  // A bundle's ports were shifted when it was exported; shifting again would miss the other hosts.
  const offset =
    file.bundle !== undefined
      ? 0
      : (overrides.portOffset ??
        (env.GIGLEDGER_PORT_OFFSET !== undefined && env.GIGLEDGER_PORT_OFFSET !== ''
          ? parseOffset(env.GIGLEDGER_PORT_OFFSET)
          : (recordedPortOffset(home) ?? 0)));
  const shift = shiftBy(offset);
  const ordererDomain = `orderer.${file.domain}`;

  return {
    repoRoot: root,
    home,
    portOffset: offset,
    channel: file.channel,
    domain: file.domain,
    batchTimeout: file.batchTimeout,
    ordererOrg: {
      name: file.ordererOrg.name,
      mspId: file.ordererOrg.mspId,
      domain: ordererDomain,
      orderers: file.ordererOrg.orderers.map((node) => ({
        name: node.name,
        host: `${node.name}.${ordererDomain}`,
        address: node.address,
        org: node.org ?? file.ordererOrg.name,
        port: shift(node.port),
        adminPort: shift(node.adminPort),
        operationsPort: shift(node.operationsPort),
        dir: path.join(home, 'orderers', node.name),
      })),
    },
    peerOrgs: [
      ...file.peerOrgs,
      ...readAddedOrgs(path.join(home, 'organisations.json')).filter((org) => org.removal === undefined),
    ].map((org) => peerOrgOf(org, file.domain, home, shift)),
    chaincode: {
      name: file.chaincode.name,
      sourceDir: path.resolve(root, file.chaincode.path),
      address: file.chaincode.address,
      org: file.chaincode.org ?? file.peerOrgs[0]?.name ?? '',
      collectionsFile: path.resolve(root, file.chaincode.collectionsFile),
      serverPorts: [shift(file.chaincode.serverPorts[0]), shift(file.chaincode.serverPorts[1])],
    },
    apiPort: shift(file.api.port),
    genesisParameters: file.genesisParameters,
    genesisMembers: Object.fromEntries(
      Object.entries(file.genesisMembers).map(([name, rights]) => {
        const org = file.peerOrgs.find((candidate) => candidate.name === name);
        if (org === undefined) throw new Error(`genesisMembers names ${name}, which is not a peer organisation`);
        return [org.mspId, rights];
      }),
    ),
    paths: {
      config: path.join(home, 'config'),
      crypto: path.join(home, 'crypto'),
      channelArtifacts: path.join(home, 'channel'),
      logs: path.join(home, 'logs'),
      run: path.join(home, 'run'),
      builders: path.join(home, 'builders'),
      chaincodePackages: path.join(home, 'chaincode'),
      identities: path.join(home, 'identities'),
      connectionProfile: path.join(home, 'connection-profile.json'),
      addedOrgs: path.join(home, 'organisations.json'),
    },
    sourceFile,
    ...(file.bundle === undefined ? {} : { bundleOf: file.bundle.org }),
  };
}

/**
 * The organisations added to the running channel, from `<home>/organisations.json`
 * (none when the file is missing).
 *
 * @throws Error naming the field when the file does not match its schema.
 */
export function readAddedOrgs(file: string): AddedOrgEntry[] {
  if (!existsSync(file)) return [];
  return parseAddedOrgs(JSON.parse(readFileSync(file, 'utf8')), file);
}

/**
 * Ports (before the offset) for the organisation at `index` of the peer organisations,
 * following the pattern of network.config.json: peer 7051 + 1000·index, its chaincode
 * port one above, the CA three above; operations ports 9443 + index and 9543 + index.
 */
export function defaultOrgPorts(index: number): Pick<AddedOrgEntry, 'peer' | 'ca'> {
  return {
    peer: {
      name: 'peer0',
      port: 7051 + 1000 * index,
      chaincodePort: 7052 + 1000 * index,
      operationsPort: 9443 + index,
    },
    ca: { port: 7054 + 1000 * index, operationsPort: 9543 + index },
  };
}

function shiftBy(offset: number): (value: number) => number {
  return (value) => {
    const shifted = value + offset;
    if (shifted > 65535) throw new Error(`GIGLEDGER_PORT_OFFSET ${offset} moves port ${value} past 65535`);
    return shifted;
  };
}

function peerOrgOf(
  org: z.output<typeof peerOrgSchema> | AddedOrgEntry,
  networkDomain: string,
  home: string,
  shift: (value: number) => number,
): PeerOrg {
  const domain = `${org.name.toLowerCase()}.${networkDomain}`;
  return {
    ...('admission' in org ? { admission: org.admission } : {}),
    name: org.name,
    mspId: org.mspId,
    domain,
    address: org.address,
    peer: {
      name: org.peer.name,
      host: `${org.peer.name}.${domain}`,
      port: shift(org.peer.port),
      chaincodePort: shift(org.peer.chaincodePort),
      operationsPort: shift(org.peer.operationsPort),
      dir: path.join(home, 'peers', `${org.peer.name}.${domain}`),
    },
    ca: {
      name: `ca-${org.name.toLowerCase()}`,
      port: shift(org.ca.port),
      operationsPort: shift(org.ca.operationsPort),
      dir: path.join(home, 'cas', org.name),
    },
  };
}

/**
 * The network with one more peer organisation, ports shifted and paths placed as
 * {@link loadNetworkConfig} does, before the organisation is recorded in `organisations.json`.
 *
 * @throws Error when the name or MSP id is taken, or a port would pass 65535.
 */
export function withAddedOrg(config: NetworkConfig, entry: AddedOrgEntry): NetworkConfig {
  const parsed = addedOrgSchema.parse(entry);
  const taken = config.peerOrgs.find((org) => org.name === parsed.name || org.mspId === parsed.mspId);
  if (taken !== undefined) throw new Error(`${taken.name} (${taken.mspId}) is already an organisation of the network`);
  const org = peerOrgOf(parsed, config.domain, config.home, shiftBy(config.portOffset));
  return { ...config, peerOrgs: [...config.peerOrgs, org] };
}

/**
 * The organisations `network:remove-org` took off the channel (and that did not join
 * again), described like members so that their process names and ports can be told
 * apart: on this host their CA and peer may still run, but they belong to no command's
 * view of the network.
 */
export function removedOrgs(config: NetworkConfig): PeerOrg[] {
  const shift = shiftBy(config.portOffset);
  return readAddedOrgs(config.paths.addedOrgs)
    .filter((entry) => entry.removal !== undefined)
    .filter((entry) => !config.peerOrgs.some((org) => org.name === entry.name))
    .map((entry) => peerOrgOf(entry, config.domain, config.home, shift));
}

/**
 * Where a network's home keeps the port offset its certificates, genesis block and node
 * configuration were generated with, so that later commands (`status`, `logs`, `down`)
 * find the nodes without being told the offset again.
 */
export function portOffsetFile(home: string): string {
  return path.join(home, 'port-offset');
}

/** The offset recorded in `home`, or undefined for a home generated before it was recorded. */
export function recordedPortOffset(home: string): number | undefined {
  const file = portOffsetFile(home);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  if (!/^\d+$/.test(text)) throw new Error(`${file} must hold the port offset as a whole number, got "${text}"`);
  return Number(text);
}

function parseOffset(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw new Error(`GIGLEDGER_PORT_OFFSET must be a whole number, got "${text}"`);
  return Number(text);
}

/** Every port the network listens on, with its owner, for the free-port check and the status table. */
export function portAssignments(config: NetworkConfig): PortAssignment[] {
  return [
    ...config.peerOrgs.flatMap((org) => [
      { owner: org.ca.name, address: org.address, port: org.ca.port, purpose: 'CA' },
      { owner: org.ca.name, address: org.address, port: org.ca.operationsPort, purpose: 'CA operations' },
    ]),
    ...config.ordererOrg.orderers.flatMap((node) => [
      { owner: node.name, address: node.address, port: node.port, purpose: 'orderer' },
      { owner: node.name, address: node.address, port: node.adminPort, purpose: 'orderer admin' },
      { owner: node.name, address: node.address, port: node.operationsPort, purpose: 'orderer operations' },
    ]),
    ...config.peerOrgs.flatMap((org) => [
      { owner: `${org.peer.name}.${org.name}`, address: org.address, port: org.peer.port, purpose: 'peer' },
      {
        owner: `${org.peer.name}.${org.name}`,
        address: org.address,
        port: org.peer.chaincodePort,
        purpose: 'peer chaincode',
      },
      {
        owner: `${org.peer.name}.${org.name}`,
        address: org.address,
        port: org.peer.operationsPort,
        purpose: 'peer operations',
      },
    ]),
  ];
}
