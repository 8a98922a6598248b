import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionProfile } from '@gigledger/gateway';
import { portAssignments, type NetworkConfig } from './config.js';
import { deployChaincode, installBuilder, readDeployment, type DeployResult } from './chaincode/deploy.js';
import { applyGenesis, enrollOperator } from './fabric/bootstrap.js';
import {
  generateGenesisBlock,
  isGenesisBlockGenerated,
  joinOrderer,
  joinPeer,
  ordererChannelInfo,
  peerChannels,
  peerHeight,
} from './fabric/channel.js';
import { generateCrypto, isCryptoGenerated } from './fabric/crypto.js';
import { orgTlsCa, orgTlsClient, peerMaterial } from './fabric/layout.js';
import {
  caProcess,
  ensureRegistrar,
  isHealthy,
  gossipPeersKnown,
  isRaftLeader,
  ordererProcess,
  peerProcess,
  registrarFile,
} from './fabric/nodes.js';
import { describeConflicts, findPortConflicts } from './processes/ports.js';
import { isAlive, NetworkLock, ProcessRegistry, type ProcessRecord, type StartRequest } from './processes/registry.js';
import { processRssKib } from './processes/proc.js';
import { waitUntil } from './processes/wait.js';
import type { Toolchain } from './toolchain/toolchain.js';

export type Reporter = (line: string) => void;

/** A network on this host: its configuration, binaries and process records. */
export class LocalNetwork {
  readonly config: NetworkConfig;
  readonly toolchain: Toolchain;
  readonly registry: ProcessRegistry;
  readonly #lock: NetworkLock;
  readonly #report: Reporter;

  constructor(config: NetworkConfig, toolchain: Toolchain, report: Reporter = () => undefined) {
    this.config = config;
    this.toolchain = toolchain;
    this.registry = new ProcessRegistry(config.paths.run, config.paths.logs);
    this.#lock = new NetworkLock(config.paths.run);
    this.#report = report;
  }

  /** The processes that make up the network (not the API), in start order. */
  nodeProcesses(): StartRequest[] {
    const { config, toolchain } = this;
    return [
      ...config.peerOrgs.map((org) => caProcess(config, toolchain, org)),
      ...config.ordererOrg.orderers.map((node) => ordererProcess(config, toolchain, node)),
      ...config.peerOrgs.map((org) => peerProcess(config, toolchain, org)),
    ];
  }

  /** True when every node process of the network is running. */
  isRunning(): boolean {
    const running = new Set(this.registry.running().map((record) => record.name));
    return this.nodeProcesses().every((request) => running.has(request.name));
  }

  /**
   * Brings the network to a working state: generates material the first time, starts
   * whatever is not running, joins the channel where needed, deploys the chaincode
   * when its build changed and sets missing genesis parameters.
   *
   * @returns the names of the processes this call started.
   * @throws Error before starting anything when a needed port is taken by another process.
   */
  async up(): Promise<{ started: string[]; alreadyRunning: boolean; deploy: DeployResult }> {
    this.#lock.acquire('network up');
    const started: string[] = [];
    this.registry.prune();
    const runningBefore = new Set(this.registry.running().map((record) => record.name));
    try {
      const alreadyRunning = this.isRunning();
      const portsToStart = new Set(
        this.nodeProcesses()
          .filter((request) => !runningBefore.has(request.name))
          .flatMap((request) => request.ports),
      );
      const conflicts = await findPortConflicts(
        portAssignments(this.config).filter((assignment) => portsToStart.has(assignment.port)),
      );
      if (conflicts.length > 0) {
        throw new Error(`cannot start the network:\n${describeConflicts(conflicts)}`);
      }

      await this.generate();
      // Built after generation: the CAs' start requests carry the registrar it creates.
      const toStart = this.nodeProcesses().filter((request) => !runningBefore.has(request.name));
      await this.#startKind(toStart, 'ca', started);
      await this.#startKind(toStart, 'orderer', started);
      await this.#joinOrderers();
      await this.#startKind(toStart, 'peer', started);
      await this.#joinPeers();
      const deploy = await this.#deployAndBootstrap('managed');
      return { started, alreadyRunning, deploy };
    } catch (error) {
      // A failed up leaves nothing running that it started, chaincode servers included.
      const startedHere = this.registry.list().filter((record) => !runningBefore.has(record.name));
      for (const record of startedHere.reverse()) await this.registry.stop(record.name);
      throw error;
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Generates what the network needs before any process starts, once: certificates
   * and keys, the channel's genesis block, the CA registrars and the ccaas builder.
   */
  async generate(): Promise<void> {
    if (!isCryptoGenerated(this.config)) {
      this.#report('Generating certificates and keys (cryptogen)');
      await generateCrypto(this.config, this.toolchain);
    }
    if (!isGenesisBlockGenerated(this.config)) {
      this.#report(`Generating the genesis block of channel ${this.config.channel} (configtxgen)`);
      await generateGenesisBlock(this.config, this.toolchain);
    }
    for (const org of this.config.peerOrgs) ensureRegistrar(org);
    installBuilder(this.config);
  }

  /**
   * Joins the channel, deploys the chaincode and sets the genesis parameters on nodes
   * that something else started (the containers of docker-compose.yml), whose
   * chaincode server runs on its own.
   */
  async bootstrapStartedNodes(): Promise<DeployResult> {
    this.#lock.acquire('network bootstrap');
    try {
      await this.#joinOrderers();
      await this.#joinPeers();
      return await this.#deployAndBootstrap('external');
    } finally {
      this.#lock.release();
    }
  }

  async #deployAndBootstrap(chaincodeServer: 'managed' | 'external'): Promise<DeployResult> {
    const deploy = await deployChaincode(this.config, this.toolchain, this.registry, this.#report, {
      chaincodeServer,
    });
    for (const org of this.config.peerOrgs) await enrollOperator(this.config, this.toolchain, org);
    await applyGenesis(this.config, this.toolchain, this.#report);
    this.writeConnectionProfile();
    return deploy;
  }

  /** Redeploys the chaincode if its build changed (or always, with force). */
  async deploy(options: { force?: boolean } = {}): Promise<DeployResult> {
    this.#lock.acquire('chaincode deploy');
    try {
      if (!this.isRunning()) throw new Error('the network is not running; start it with `npm run network:up`');
      return await deployChaincode(this.config, this.toolchain, this.registry, this.#report, options);
    } finally {
      this.#lock.release();
    }
  }

  /** Stops every recorded process, API and chaincode servers first; ledgers and keys stay. */
  async down(): Promise<string[]> {
    this.#lock.acquire('network down');
    try {
      const order: ProcessRecord['kind'][] = ['api', 'settlement', 'chaincode', 'peer', 'orderer', 'ca'];
      const records = this.registry.list();
      const stopped: string[] = [];
      for (const kind of order) {
        const ofKind = records.filter((record) => record.kind === kind);
        await Promise.all(ofKind.map((record) => this.registry.stop(record.name)));
        stopped.push(...ofKind.map((record) => record.name));
      }
      return stopped;
    } finally {
      this.#lock.release();
    }
  }

  /** Stops the network and removes everything generated for it. */
  async clean(): Promise<void> {
    await this.down();
    rmSync(this.config.home, { recursive: true, force: true });
  }

  /** Stops one node process, e.g. an orderer in a failure test. */
  async stopProcess(name: string): Promise<void> {
    await this.registry.stop(name);
  }

  /** Starts one node process again with its usual settings and waits until it is healthy. */
  async startProcess(name: string): Promise<ProcessRecord> {
    const request = this.nodeProcesses().find((candidate) => candidate.name === name);
    if (request === undefined) throw new Error(`no network process is called ${name}`);
    const record = this.registry.start(request);
    await this.#waitHealthy(request, record);
    return record;
  }

  /** The connection profile applications read; written on every up. */
  connectionProfile(): ConnectionProfile {
    const { config } = this;
    return {
      channel: config.channel,
      chaincode: config.chaincode.name,
      organizations: config.peerOrgs.map((org) => {
        const tlsClient = orgTlsClient(config, org);
        return {
          name: org.name,
          mspId: org.mspId,
          peer: {
            endpoint: `127.0.0.1:${org.peer.port}`,
            hostAlias: org.peer.host,
            tlsRootCert: peerMaterial(config, org).tlsCa,
          },
          tlsClient: { cert: tlsClient.tlsCert, key: tlsClient.tlsKey },
          ca: {
            url: `https://127.0.0.1:${org.ca.port}`,
            caName: org.ca.name,
            tlsRootCert: orgTlsCa(config, org),
            registrarFile: registrarFile(org),
          },
          operatorMspDir: path.join(config.paths.identities, org.name, `operator-${org.name.toLowerCase()}`, 'msp'),
        };
      }),
      collections: collectionMembers(config.chaincode.collectionsFile),
    };
  }

  writeConnectionProfile(): void {
    writeFileSync(this.config.paths.connectionProfile, `${JSON.stringify(this.connectionProfile(), null, 2)}\n`);
  }

  /** Each recorded process with its health, and each peer's channel height. */
  async status(): Promise<NetworkStatus> {
    const records = this.registry.list();
    const requests = this.nodeProcesses();
    const processes: ProcessStatus[] = [];
    for (const request of requests) {
      const record = records.find((candidate) => candidate.name === request.name);
      const operationsPort = operationsPortOf(request);
      processes.push(
        await processStatus(request, record, async (alive) =>
          alive && operationsPort !== undefined ? await isHealthy(operationsPort) : false,
        ),
      );
    }
    // Recorded processes the network does not start itself (e.g. the settlement service) count as healthy while alive.
    for (const record of records.filter((candidate) => !requests.some((request) => request.name === candidate.name))) {
      processes.push({
        ...(await processStatus(record, record, (alive) => Promise.resolve(alive))),
        ...(record.details === undefined ? {} : { details: record.details }),
      });
    }
    const heights: PeerHeight[] = [];
    for (const org of this.config.peerOrgs) {
      const peerRunning = processes.find((entry) => entry.name === `${org.peer.name}.${org.name}`)?.pid !== undefined;
      let height: number | undefined;
      if (peerRunning) {
        try {
          height = await peerHeight(this.config, this.toolchain, org);
        } catch {
          height = undefined;
        }
      }
      heights.push({ peer: org.peer.host, org: org.name, height });
    }
    const deployment = readDeployment(this.config);
    return {
      home: this.config.home,
      channel: this.config.channel,
      processes,
      heights,
      chaincode:
        deployment === undefined
          ? undefined
          : { sequence: deployment.sequence, version: deployment.version, packageId: deployment.packageId },
      totalRssKib: processes.reduce((sum, entry) => sum + entry.rssKib, 0),
    };
  }

  async #startKind(toStart: StartRequest[], kind: StartRequest['kind'], started: string[]): Promise<void> {
    const requests = toStart.filter((request) => request.kind === kind);
    const records = requests.map((request) => {
      const record = this.registry.start(request);
      started.push(request.name);
      this.#report(`Started ${request.name} (PID ${record.pid}, ports ${request.ports.join(', ')})`);
      return { request, record };
    });
    await Promise.all(records.map(({ request, record }) => this.#waitHealthy(request, record)));
  }

  async #waitHealthy(request: StartRequest, record: ProcessRecord): Promise<void> {
    const operationsPort = operationsPortOf(request);
    if (operationsPort === undefined) return;
    await waitUntil(
      `${request.name} to report healthy on port ${operationsPort}`,
      async () => {
        if (!isAlive(record))
          throw new Error(`${request.name} exited; last lines of ${record.log}:\n${tail(record.log)}`);
        return (await isHealthy(operationsPort)) ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  }

  async #joinOrderers(): Promise<void> {
    for (const node of this.config.ordererOrg.orderers) {
      if ((await ordererChannelInfo(this.config, this.toolchain, node)) !== undefined) continue;
      await joinOrderer(this.config, this.toolchain, node);
      this.#report(`Orderer ${node.name} joined channel ${this.config.channel}`);
    }
    for (const node of this.config.ordererOrg.orderers) {
      await waitUntil(`orderer ${node.name} to be an active consenter of ${this.config.channel}`, async () => {
        const info = await ordererChannelInfo(this.config, this.toolchain, node);
        return info?.status === 'active' && info.consensusRelation === 'consenter' ? info : undefined;
      });
    }
    await this.waitForRaftLeader();
  }

  /** Waits until one orderer reports itself Raft leader of the channel, so ordering can accept transactions. */
  async waitForRaftLeader(): Promise<string> {
    const running = new Set(this.registry.running().map((record) => record.name));
    return waitUntil(`a Raft leader for channel ${this.config.channel}`, async () => {
      for (const node of this.config.ordererOrg.orderers) {
        if (running.has(node.name) && (await isRaftLeader(node.operationsPort, this.config.channel))) {
          return node.name;
        }
      }
      return undefined;
    });
  }

  async #joinPeers(): Promise<void> {
    for (const org of this.config.peerOrgs) {
      if ((await peerChannels(this.config, this.toolchain, org)).includes(this.config.channel)) continue;
      await joinPeer(this.config, this.toolchain, org);
      this.#report(`Peer ${org.peer.host} joined channel ${this.config.channel}`);
    }
    await this.#waitForGossipMembership();
  }

  /**
   * The gateway plans endorsements from what its peer learned through gossip; until
   * every peer knows the others, transactions that need several organisations fail
   * with "no combination of peers can be derived".
   */
  async #waitForGossipMembership(): Promise<void> {
    const others = this.config.peerOrgs.length - 1;
    for (const org of this.config.peerOrgs) {
      await waitUntil(
        `${org.peer.host} to know the channel's other ${others} peers through gossip`,
        async () =>
          (await gossipPeersKnown(org.peer.operationsPort, this.config.channel)) >= others ? true : undefined,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    }
  }
}

export interface ProcessStatus {
  readonly name: string;
  readonly kind: ProcessRecord['kind'];
  readonly pid: number | undefined;
  readonly ports: readonly number[];
  readonly rssKib: number;
  readonly healthy: boolean;
  readonly details?: Readonly<Record<string, string>>;
}

/**
 * The status of a process the network lists (`listed`), from its registry record when
 * there is one: its pid and resident memory (KiB) only while it runs, and `healthy`
 * as the caller's check says, given whether it runs.
 */
async function processStatus(
  listed: Pick<ProcessStatus, 'name' | 'kind' | 'ports'>,
  record: ProcessRecord | undefined,
  healthy: (alive: boolean) => Promise<boolean>,
): Promise<ProcessStatus> {
  const alive = record !== undefined && isAlive(record);
  return {
    name: listed.name,
    kind: listed.kind,
    pid: alive ? record.pid : undefined,
    ports: listed.ports,
    rssKib: alive ? processRssKib(record.pid) : 0,
    healthy: await healthy(alive),
  };
}

export interface PeerHeight {
  readonly peer: string;
  readonly org: string;
  readonly height: number | undefined;
}

export interface NetworkStatus {
  readonly home: string;
  readonly channel: string;
  readonly processes: readonly ProcessStatus[];
  readonly heights: readonly PeerHeight[];
  readonly chaincode: { sequence: number; version: string; packageId: string } | undefined;
  readonly totalRssKib: number;
}

/** Each node process's last port is its operations (health) port. */
function operationsPortOf(request: Pick<StartRequest, 'kind' | 'ports'>): number | undefined {
  return request.kind === 'chaincode' || request.kind === 'api' ? undefined : request.ports.at(-1);
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Member MSP ids of each private data collection, read from the collection
 * definitions' `policy` (`OR('ClientOrgMSP.member', …)`), for clients that must send
 * private data to member peers only.
 *
 * @throws Error when a collection's policy names no member organisation.
 */
export function collectionMembers(collectionsFile: string): Record<string, string[]> {
  if (!existsSync(collectionsFile)) return {};
  const definitions = JSON.parse(readFileSync(collectionsFile, 'utf8')) as { name: string; policy: string }[];
  return Object.fromEntries(
    definitions.map((definition) => {
      const members = [...definition.policy.matchAll(/'([A-Za-z0-9.-]+)\.member'/g)].map((match) => match[1] ?? '');
      if (members.length === 0) throw new Error(`collection ${definition.name} names no member organisation`);
      return [definition.name, members];
    }),
  );
}
