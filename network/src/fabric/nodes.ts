import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { NetworkConfig, OrdererNode, PeerOrg } from '../config.js';
import type { StartRequest } from '../processes/registry.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import {
  caTlsMaterial,
  ordererAdmin,
  ordererMaterial,
  ordererTlsCa,
  orgSigningCa,
  orgTlsCa,
  peerMaterial,
} from './layout.js';

/** Fabric's slice-valued settings accept `[a,b]` in environment variables. */
function list(values: readonly string[]): string {
  return `[${values.join(',')}]`;
}

function baseEnv(toolchain: Toolchain): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FABRIC_CFG_PATH: toolchain.configDir,
    // gRPC's own INFO lines drown Fabric's; keep them to errors unless asked otherwise.
    FABRIC_LOGGING_SPEC: process.env.GIGLEDGER_FABRIC_LOGGING ?? 'grpc=error:info',
  };
}

/**
 * Where a peer or orderer serves Go's pprof (`/debug/pprof/`) when the environment sets
 * GIGLEDGER_FABRIC_PROFILING=1, as the benchmarks do to profile the nodes: its operations
 * port less 3000, on its own address. Fabric's documentation keeps the profiler out of
 * production, so nothing else turns it on.
 */
export function profilingPort(operationsPort: number): number {
  return operationsPort - 3000;
}

export function isFabricProfilingOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GIGLEDGER_FABRIC_PROFILING === '1';
}

function profilingEnv(
  enabledVariable: string,
  addressVariable: string,
  address: string,
  operationsPort: number,
): NodeJS.ProcessEnv {
  if (!isFabricProfilingOn()) return {};
  return { [enabledVariable]: 'true', [addressVariable]: `${address}:${profilingPort(operationsPort)}` };
}

/**
 * Settings an operator adds to every peer or every orderer for a run: each variable
 * `<prefix><NAME>` of the environment becomes `<NAME>` in the node's environment, e.g.
 * `GIGLEDGER_PEER_GOGC=200` or `GIGLEDGER_PEER_CORE_PEER_VALIDATORPOOLSIZE=4`. They win
 * over the values set here. A prefix rather than Fabric's own names, because a shell that
 * points the `peer` CLI at a node (`npm run network:env`) holds CORE_PEER_* variables
 * meant for the CLI, not for the nodes.
 */
export function nodeOverrides(prefix: 'GIGLEDGER_PEER_' | 'GIGLEDGER_ORDERER_', env = process.env): NodeJS.ProcessEnv {
  const overrides: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && name.length > prefix.length && value !== undefined) {
      overrides[name.slice(prefix.length)] = value;
    }
  }
  return overrides;
}

function allTlsCas(config: NetworkConfig): string[] {
  return [ordererTlsCa(config), ...config.peerOrgs.map((org) => orgTlsCa(config, org))];
}

export function ordererProcess(config: NetworkConfig, toolchain: Toolchain, node: OrdererNode): StartRequest {
  const material = ordererMaterial(config, node);
  const admin = ordererAdmin(config);
  return {
    name: node.name,
    kind: 'orderer',
    command: toolchain.bin('orderer'),
    args: [],
    cwd: node.dir,
    ports: [node.port, node.adminPort, node.operationsPort],
    address: node.address,
    env: {
      ...baseEnv(toolchain),
      ORDERER_GENERAL_LISTENADDRESS: node.address,
      ORDERER_GENERAL_LISTENPORT: String(node.port),
      ORDERER_GENERAL_LOCALMSPID: config.ordererOrg.mspId,
      ORDERER_GENERAL_LOCALMSPDIR: material.mspDir,
      ORDERER_GENERAL_BOOTSTRAPMETHOD: 'none',
      ORDERER_GENERAL_TLS_ENABLED: 'true',
      ORDERER_GENERAL_TLS_CERTIFICATE: material.tlsCert,
      ORDERER_GENERAL_TLS_PRIVATEKEY: material.tlsKey,
      ORDERER_GENERAL_TLS_ROOTCAS: list([material.tlsCa]),
      ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED: 'true',
      ORDERER_GENERAL_TLS_CLIENTROOTCAS: list(allTlsCas(config)),
      ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: material.tlsCert,
      ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: material.tlsKey,
      ORDERER_GENERAL_CLUSTER_ROOTCAS: list([material.tlsCa]),
      ORDERER_CHANNELPARTICIPATION_ENABLED: 'true',
      ORDERER_FILELEDGER_LOCATION: path.join(node.dir, 'ledger'),
      ORDERER_CONSENSUS_WALDIR: path.join(node.dir, 'etcdraft', 'wal'),
      ORDERER_CONSENSUS_SNAPDIR: path.join(node.dir, 'etcdraft', 'snapshot'),
      ORDERER_ADMIN_LISTENADDRESS: `${node.address}:${node.adminPort}`,
      ORDERER_ADMIN_TLS_ENABLED: 'true',
      ORDERER_ADMIN_TLS_CERTIFICATE: material.tlsCert,
      ORDERER_ADMIN_TLS_PRIVATEKEY: material.tlsKey,
      ORDERER_ADMIN_TLS_ROOTCAS: list([material.tlsCa]),
      ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: 'true',
      ORDERER_ADMIN_TLS_CLIENTROOTCAS: list([admin.tlsCa]),
      // Peers ping their block stream every 10 s (see peerProcess); the orderer must accept that rate.
      ORDERER_GENERAL_KEEPALIVE_SERVERMININTERVAL: '5s',
      ORDERER_OPERATIONS_LISTENADDRESS: `${node.address}:${node.operationsPort}`,
      ORDERER_METRICS_PROVIDER: 'prometheus',
      ...profilingEnv(
        'ORDERER_GENERAL_PROFILE_ENABLED',
        'ORDERER_GENERAL_PROFILE_ADDRESS',
        node.address,
        node.operationsPort,
      ),
      ...nodeOverrides('GIGLEDGER_ORDERER_'),
    },
  };
}

/**
 * @param builderDir folder of the ccaas external builder (its `bin/` holds detect, build, release).
 */
export function peerProcess(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  builderDir = path.join(config.paths.builders, 'ccaas'),
): StartRequest {
  const material = peerMaterial(config, org);
  const address = `${org.address}:${org.peer.port}`;
  return {
    name: `${org.peer.name}.${org.name}`,
    kind: 'peer',
    command: toolchain.bin('peer'),
    args: ['node', 'start'],
    cwd: org.peer.dir,
    ports: [org.peer.port, org.peer.chaincodePort, org.peer.operationsPort],
    address: org.address,
    env: {
      ...baseEnv(toolchain),
      CORE_PEER_ID: org.peer.host,
      CORE_PEER_ADDRESS: address,
      CORE_PEER_LISTENADDRESS: address,
      CORE_PEER_CHAINCODEADDRESS: `${org.address}:${org.peer.chaincodePort}`,
      CORE_PEER_CHAINCODELISTENADDRESS: `${org.address}:${org.peer.chaincodePort}`,
      CORE_PEER_GOSSIP_BOOTSTRAP: address,
      CORE_PEER_GOSSIP_EXTERNALENDPOINT: address,
      // Peers on one host find each other in milliseconds; Fabric's defaults are tuned
      // for data centres and make a restarted network wait half a minute for gossip.
      CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '1s',
      CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT: '5s',
      CORE_PEER_GOSSIP_RECONNECTINTERVAL: '2s',
      // A host that vanishes without a TCP reset (cable, link or machine down) leaves the
      // peer's block stream from its orderer open; Fabric notices only when a keepalive
      // ping goes unanswered: 60 s + 20 s by default, measured 80 s before commits went on.
      CORE_PEER_KEEPALIVE_DELIVERYCLIENT_INTERVAL: '10s',
      CORE_PEER_KEEPALIVE_DELIVERYCLIENT_TIMEOUT: '5s',
      // The gateway dials other organisations' peers without keepalive settings of its own,
      // and gRPC raises that to its floor of one ping every 10 s; a peer accepting one a
      // minute (Fabric's default) counted those as abuse and closed the connection with
      // GOAWAY too_many_pings, so the next endorsement paid for a new TLS connection.
      CORE_PEER_KEEPALIVE_MININTERVAL: '5s',
      // A transaction sent again after a lost commit status lands a second time as
      // DUPLICATE_TXID; its private data left the transient store with the first copy,
      // and by default the peer tries to pull it for pullRetryThreshold (60 s) before
      // committing the block, stalling every commit on the channel meanwhile. Invalid
      // transactions write nothing, so their private data is left to the reconciler.
      CORE_PEER_GOSSIP_PVTDATA_SKIPPULLINGINVALIDTRANSACTIONSDURINGCOMMIT: 'true',
      CORE_PEER_LOCALMSPID: org.mspId,
      CORE_PEER_MSPCONFIGPATH: material.mspDir,
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_CERT_FILE: material.tlsCert,
      CORE_PEER_TLS_KEY_FILE: material.tlsKey,
      CORE_PEER_TLS_ROOTCERT_FILE: material.tlsCa,
      CORE_PEER_TLS_CLIENTAUTHREQUIRED: 'true',
      CORE_PEER_TLS_CLIENTROOTCAS_FILES: allTlsCas(config).join(' '),
      CORE_PEER_TLS_CLIENTCERT_FILE: material.tlsCert,
      CORE_PEER_TLS_CLIENTKEY_FILE: material.tlsKey,
      CORE_PEER_FILESYSTEMPATH: path.join(org.peer.dir, 'ledger'),
      CORE_LEDGER_SNAPSHOTS_ROOTDIR: path.join(org.peer.dir, 'snapshots'),
      CORE_PEER_GATEWAY_ENABLED: 'true',
      // The gateway hands a transaction to one orderer after another until one takes it, but
      // waits up to broadcastTimeout (30 s by default) on each: an orderer that stopped
      // answering (a frozen Raft leader) held every submit that tried it first until the
      // client's own 10 s deadline, so it never reached the next. A healthy orderer answers
      // a broadcast in milliseconds, or at once with SERVICE_UNAVAILABLE while it has no leader.
      CORE_PEER_GATEWAY_BROADCASTTIMEOUT: '3s',
      CORE_OPERATIONS_LISTENADDRESS: `${org.address}:${org.peer.operationsPort}`,
      CORE_METRICS_PROVIDER: 'prometheus',
      ...profilingEnv(
        'CORE_PEER_PROFILE_ENABLED',
        'CORE_PEER_PROFILE_LISTENADDRESS',
        org.address,
        org.peer.operationsPort,
      ),
      // Present and empty: no Docker daemon; chaincode runs only through external builders.
      CORE_VM_ENDPOINT: '',
      CORE_CHAINCODE_EXTERNALBUILDERS: `[{name: ccaas, path: ${builderDir}, propagateEnvironment: [HOME]}]`,
      ...nodeOverrides('GIGLEDGER_PEER_'),
    },
  };
}

/** The CA's bootstrap registrar, generated once per network and kept beside the CA's database. */
export interface Registrar {
  readonly enrollmentId: string;
  readonly secret: string;
}

export function registrarFile(org: PeerOrg): string {
  return path.join(org.ca.dir, 'registrar.json');
}

/** The registrar of an organisation's CA, or undefined before the network's material is generated. */
export function readRegistrar(org: PeerOrg): Registrar | undefined {
  const file = registrarFile(org);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Registrar) : undefined;
}

/** Creates the registrar's credentials once; its secret never leaves the CA's folder. */
export function ensureRegistrar(org: PeerOrg): Registrar {
  const existing = readRegistrar(org);
  if (existing !== undefined) return existing;
  mkdirSync(org.ca.dir, { recursive: true });
  const registrar: Registrar = { enrollmentId: 'registrar', secret: randomBytes(18).toString('base64url') };
  writeFileSync(registrarFile(org), `${JSON.stringify(registrar, null, 2)}\n`, { mode: 0o600 });
  return registrar;
}

/** The fabric-ca-server command line and environment, except the registrar secret. */
export function caProcess(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): StartRequest {
  const signing = orgSigningCa(config, org);
  const tls = caTlsMaterial(config, org);
  const registrar = readRegistrar(org);
  return {
    name: org.ca.name,
    kind: 'ca',
    command: toolchain.bin('fabric-ca-server'),
    args: [
      'start',
      '--home',
      org.ca.dir,
      '--address',
      org.address,
      '--port',
      String(org.ca.port),
      '--ca.name',
      org.ca.name,
      '--ca.certfile',
      signing.cert,
      '--ca.keyfile',
      signing.key,
      '--tls.enabled',
      '--tls.certfile',
      tls.tlsCert,
      '--tls.keyfile',
      tls.tlsKey,
      '--operations.listenaddress',
      `${org.address}:${org.ca.operationsPort}`,
      '--metrics.provider',
      'prometheus',
      '--registry.maxenrollments',
      '-1',
    ],
    cwd: org.ca.dir,
    ports: [org.ca.port, org.ca.operationsPort],
    address: org.address,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABRIC_CA_SERVER_HOME: org.ca.dir,
      // Through the environment rather than --boot, so the secret is not in the process list.
      ...(registrar === undefined ? {} : { FABRIC_CA_SERVER_BOOT: `${registrar.enrollmentId}:${registrar.secret}` }),
    },
  };
}

/** GET /healthz on an operations port: true when the process reports itself healthy. */
export function isHealthy(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    // A connection of its own each time (no keep-alive agent): behind one port, a new
    // connection may be served by another process (the API's workers take them in turn).
    const request = http.get({ host: address, port, path: '/healthz', timeout: 2000, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => {
      resolve(false);
    });
  });
}

/**
 * Reads one Prometheus gauge of a process from its operations port; undefined when
 * the process or the series is not there (yet).
 */
export function readGauge(operationsPort: number, series: string, address = '127.0.0.1'): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get({ host: address, port: operationsPort, path: '/metrics', timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
        resolve(line === undefined ? undefined : Number(line.slice(series.length + 1)));
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => {
      resolve(undefined);
    });
  });
}

/** Whether the orderer behind an operations port leads the channel's Raft cluster. */
export async function isRaftLeader(operationsPort: number, channel: string, address?: string): Promise<boolean> {
  return (await readGauge(operationsPort, `consensus_etcdraft_is_leader{channel="${channel}"}`, address)) === 1;
}

/** How many other peers of the channel a peer knows through gossip. */
export async function gossipPeersKnown(operationsPort: number, channel: string, address?: string): Promise<number> {
  return (await readGauge(operationsPort, `gossip_membership_total_peers_known{channel="${channel}"}`, address)) ?? 0;
}
