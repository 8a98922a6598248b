import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionProfile } from '@gigledger/gateway';
import {
  defaultOrgPorts,
  loopback,
  portOffsetFile,
  portAssignments,
  readAddedOrgs,
  recordedPortOffset,
  removedOrgs,
  withAddedOrg,
  type AddedOrgEntry,
  type NetworkConfig,
  type OrdererNode,
  type PeerOrg,
} from './config.js';
import {
  currentCollections,
  deployChaincode,
  deployOnOrgHost,
  installBuilder,
  queryCommitted,
  readDeployment,
  type DeployResult,
} from './chaincode/deploy.js';
import {
  admissionDir,
  admissionStep,
  applicationOrgNames,
  buildAdditionEnvelope,
  buildUpdateEnvelope,
  memberAdmission,
  checkMemberRightsProposal,
  extendCrypto,
  fetchChannelConfig,
  majorityOf,
  OrgAdmissionError,
  printOrgGroup,
  signAndSubmit,
} from './fabric/add-org.js';
import { membersOf } from './chaincode/membership.js';
import { applyGenesis, enrollOperator, readGenesisSealed } from './fabric/bootstrap.js';
import { hostedNodes, missingMaterial, type HostedNodes } from './fabric/bundle.js';
import { chooseRemovalSigners, memberRemoval, removalDir, withoutOrg } from './fabric/remove-org.js';
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
import { describeConflicts, findPortConflicts, isPortFree } from './processes/ports.js';
import { isAlive, NetworkLock, ProcessRegistry, type ProcessRecord, type StartRequest } from './processes/registry.js';
import { childPids, processEnvironmentValue, processRssKib, processSuspended } from './processes/proc.js';
import { StopWaiting, waitUntil } from './processes/wait.js';
import type { Toolchain } from './toolchain/toolchain.js';

export type Reporter = (line: string) => void;

/** A network on this host: its configuration, binaries and process records. */
export class LocalNetwork {
  #config: NetworkConfig;
  readonly toolchain: Toolchain;
  readonly registry: ProcessRegistry;
  /** Held by whatever works on the network as a whole (up, down, deploy, a restart by `npm start`). */
  readonly lock: NetworkLock;
  readonly #report: Reporter;

  constructor(config: NetworkConfig, toolchain: Toolchain, report: Reporter = () => undefined) {
    this.#config = config;
    this.toolchain = toolchain;
    this.registry = new ProcessRegistry(config.paths.run, config.paths.logs);
    this.lock = new NetworkLock(config.paths.run);
    this.#report = report;
  }

  /** The network's configuration; it grows when {@link addOrg} admits an organisation. */
  get config(): NetworkConfig {
    return this.#config;
  }

  /**
   * The processes that make up the network (not the API), in start order; on a host
   * that runs one organisation's bundle, only that organisation's nodes.
   */
  nodeProcesses(): StartRequest[] {
    const { config } = this;
    if (config.bundleOf !== undefined) return this.#hostedProcesses(hostedNodes(config, config.bundleOf));
    return this.#processesOf(config.peerOrgs, config.ordererOrg.orderers);
  }

  #hostedProcesses(hosted: HostedNodes): StartRequest[] {
    return this.#processesOf(hosted.peerOrg === undefined ? [] : [hosted.peerOrg], hosted.orderers);
  }

  #processesOf(orgs: readonly PeerOrg[], orderers: readonly OrdererNode[]): StartRequest[] {
    const { config, toolchain } = this;
    return [
      ...orgs.map((org) => caProcess(config, toolchain, org)),
      ...orderers.map((node) => ordererProcess(config, toolchain, node)),
      ...orgs.map((org) => peerProcess(config, toolchain, org)),
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
    if (this.config.bundleOf !== undefined) {
      throw new Error(
        `${this.config.home} holds ${this.config.bundleOf}'s bundle; start its nodes with \`npm run network:up -- --org ${this.config.bundleOf}\``,
      );
    }
    this.lock.acquire('network up');
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
      await this.#stopStartedSince(runningBefore);
      throw error;
    } finally {
      this.lock.release();
    }
  }

  /**
   * Starts one organisation's nodes on this host against orderers and peers elsewhere
   * (every organisation on its own host, each from its bundle): its CA, the orderers
   * that network.config.json assigns to it (`org`), its peer and, where `chaincode.org`
   * names it, the chaincode server. Its orderers and peer join the channel from the
   * genesis block; once a Raft leader exists (a majority of all orderers up, wherever
   * they run) its peer gets the chaincode installed and approved for its MSP, the
   * definition committed by the host whose approval completes a majority, and its
   * operator enrolled. Safe to run again: what runs is left running.
   *
   * With `nodesStartedElsewhere` (Kubernetes, where each node is a pod of its own) it
   * starts no process, the chaincode server included, and does the rest against the
   * nodes at their configured addresses.
   *
   * @returns the processes this call started and whether the chaincode is committed.
   * @throws Error naming missing material (with the export command), a taken port, an
   *   unknown organisation, or the step that failed; what this call started is stopped.
   */
  async upOrg(
    name: string,
    options: { nodesStartedElsewhere?: boolean } = {},
  ): Promise<{ started: string[]; chaincodeCommitted: boolean | undefined }> {
    const startsNodes = options.nodesStartedElsewhere !== true;
    const { config, toolchain } = this;
    const report = this.#report;
    const hosted = hostedNodes(config, name);
    if (config.bundleOf !== undefined && config.bundleOf !== name) {
      throw new Error(`${config.home} holds ${config.bundleOf}'s bundle, not ${name}'s`);
    }
    const missing = missingMaterial(config, hosted);
    if (missing.length > 0) {
      throw new Error(
        `cannot start ${name}'s nodes; missing on this host:\n  ${missing.join('\n  ')}\n` +
          `export the bundle on the host that generated the network (\`npm run network:export-org -- ${name}\`) ` +
          `and pass it with --bundle`,
      );
    }
    if (hosted.peerOrg === undefined && hosted.orderers.length === 0) {
      throw new Error(`${name} runs no node: every orderer names a peer organisation in network.config.json`);
    }
    this.lock.acquire(`network up --org ${name}`);
    const started: string[] = [];
    let result: { started: string[]; chaincodeCommitted: boolean | undefined };
    this.registry.prune();
    const runningBefore = new Set(this.registry.running().map((record) => record.name));
    try {
      const requests = startsNodes ? this.#hostedProcesses(hosted) : [];
      const portsToStart = new Set(
        requests.filter((request) => !runningBefore.has(request.name)).flatMap((request) => request.ports),
      );
      const conflicts = await findPortConflicts(
        portAssignments(config).filter((assignment) => portsToStart.has(assignment.port)),
      );
      if (conflicts.length > 0) throw new Error(`cannot start ${name}'s nodes:\n${describeConflicts(conflicts)}`);
      if (hosted.peerOrg !== undefined) ensureRegistrar(hosted.peerOrg);
      installBuilder(config);
      // Built after the registrar exists: the CA's start request carries it.
      const toStart = startsNodes
        ? this.#hostedProcesses(hosted).filter((request) => !runningBefore.has(request.name))
        : [];
      await this.#startKind(toStart, 'ca', started);
      await this.#startKind(toStart, 'orderer', started);
      for (const node of hosted.orderers) {
        if ((await ordererChannelInfo(config, toolchain, node)) !== undefined) continue;
        await joinOrderer(config, toolchain, node);
        report(`Orderer ${node.name} joined channel ${config.channel}`);
      }
      const org = hosted.peerOrg;
      if (org === undefined) return { started, chaincodeCommitted: undefined };
      await this.#startKind(toStart, 'peer', started);
      if (!(await peerChannels(config, toolchain, org)).includes(config.channel)) {
        await joinPeer(config, toolchain, org);
        report(`Peer ${org.peer.host} joined channel ${config.channel}`);
      }
      const leader = await waitUntil(
        `a Raft leader for channel ${config.channel} among ${config.ordererOrg.orderers
          .map((node) => `${node.name} (${node.address})`)
          .join(', ')}; a majority of them must run`,
        async () => {
          for (const node of config.ordererOrg.orderers) {
            if (await isRaftLeader(node.operationsPort, config.channel, node.address)) return node.name;
          }
          return undefined;
        },
        { timeoutMs: 600_000, intervalMs: 1000 },
      );
      report(`Raft leader of ${config.channel}: ${leader}`);
      const { committed } = await deployOnOrgHost(
        config,
        toolchain,
        this.registry,
        org,
        hosted.chaincodeServer && startsNodes,
        report,
      );
      await enrollOperator(config, toolchain, org);
      this.writeConnectionProfile();
      result = { started, chaincodeCommitted: committed };
    } catch (error) {
      await this.#stopStartedSince(runningBefore);
      throw error;
    } finally {
      this.lock.release();
    }
    // Outside the start's clean-up: a genesis that cannot be written yet leaves the nodes running.
    if (hosted.peerOrg !== undefined && hosted.peerOrg.name === config.peerOrgs[0]?.name) {
      await this.#applyGenesisFromFirstHost(hosted.peerOrg);
    }
    return result;
  }

  /**
   * The consortium's genesis (parameters, member rights, seal) written by the first
   * organisation's operator, as on a single host. Other hosts may still be installing
   * or approving the chaincode, and every peer endorses these transactions, so it is
   * tried again until they answer; it is idempotent, so a later `up --org` completes it.
   *
   * @throws Error when the peers do not all answer within ten minutes; the nodes keep running.
   */
  /** Stops, newest first, every process started since `runningBefore` was taken, so a failed start leaves none behind. */
  async #stopStartedSince(runningBefore: ReadonlySet<string>): Promise<void> {
    const startedHere = this.registry.list().filter((record) => !runningBefore.has(record.name));
    for (const record of startedHere.reverse()) await this.registry.stop(record.name);
  }

  async #applyGenesisFromFirstHost(org: PeerOrg): Promise<void> {
    const { config, toolchain } = this;
    let lastError = '';
    try {
      await waitUntil(
        `the chaincode committed and every organisation's peer endorsing, to write the consortium's genesis`,
        async () => {
          if ((await queryCommitted(config, toolchain, org)) === undefined) return undefined;
          return applyGenesis(config, toolchain, this.#report).then(
            () => true,
            (error: unknown) => {
              lastError = error instanceof Error ? error.message : String(error);
              return undefined;
            },
          );
        },
        { timeoutMs: 600_000, intervalMs: 3000 },
      );
    } catch (error) {
      throw new Error(
        `${org.name}'s nodes run, but the consortium's genesis is not written yet (${lastError || String(error)}); ` +
          `run \`network:up -- --org ${org.name}\` again once every organisation's host is up`,
        { cause: error },
      );
    }
  }

  /**
   * Generates what the network needs before any process starts, once: certificates
   * and keys, the channel's genesis block, the CA registrars and the ccaas builder.
   */
  async generate(): Promise<void> {
    const recorded = recordedPortOffset(this.config.home);
    if (recorded !== undefined && recorded !== this.config.portOffset) {
      throw new Error(
        `the network in ${this.config.home} was generated with port offset ${String(recorded)}, not ${String(this.config.portOffset)}: ` +
          `run it with GIGLEDGER_PORT_OFFSET=${String(recorded)} (or unset), or \`npm run network:clean\` first`,
      );
    }
    if (!isCryptoGenerated(this.config)) {
      this.#report('Generating certificates and keys (cryptogen)');
      await generateCrypto(this.config, this.toolchain);
    }
    if (!isGenesisBlockGenerated(this.config)) {
      this.#report(`Generating the genesis block of channel ${this.config.channel} (configtxgen)`);
      await generateGenesisBlock(this.config, this.toolchain);
    }
    if (recorded === undefined) writeFileSync(portOffsetFile(this.config.home), `${String(this.config.portOffset)}\n`);
    for (const org of this.config.peerOrgs) ensureRegistrar(org);
    installBuilder(this.config);
  }

  /**
   * Joins the channel, deploys the chaincode and sets the genesis parameters on nodes
   * that something else started (the containers of docker-compose.yml), whose
   * chaincode server runs on its own.
   */
  async bootstrapStartedNodes(): Promise<DeployResult> {
    this.lock.acquire('network bootstrap');
    try {
      await this.#joinOrderers();
      await this.#joinPeers();
      return await this.#deployAndBootstrap('external');
    } finally {
      this.lock.release();
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
    this.lock.acquire('chaincode deploy');
    try {
      if (!this.isRunning()) throw new Error('the network is not running; start it with `npm run network:up`');
      return await deployChaincode(this.config, this.toolchain, this.registry, this.#report, options);
    } finally {
      this.lock.release();
    }
  }

  /** @throws OrgAdmissionError when the network is not running: membership changes run on a live channel. */
  #requireRunningForMembership(): void {
    if (!this.isRunning()) {
      throw new OrgAdmissionError(
        'check the network',
        'the network is not running; start it with `npm run network:up`',
      );
    }
  }

  /**
   * Refuses a membership change governance has not decided: once genesis is sealed the
   * change needs the id of an executed proposal that `does` what it does, which `check`
   * verifies; before that, an id is checked when given.
   *
   * @throws Error naming the proposal wanted, or as `check` does.
   */
  async #requireGovernanceDecision(
    config: NetworkConfig,
    reader: PeerOrg,
    proposalId: string | undefined,
    does: string,
    check: (proposalId: string) => Promise<void>,
  ): Promise<void> {
    const sealed = await readGenesisSealed(config, this.toolchain, reader);
    if (proposalId === undefined) {
      if (sealed) {
        throw new Error(`governance rules this consortium: pass --proposal <id> of an executed proposal that ${does}`);
      }
      return;
    }
    await check(proposalId);
  }

  /**
   * Admits a new member organisation to the running channel: its certificates (cryptogen
   * extend), a channel configuration update adding its MSP and anchor peer (configtxgen
   * -printOrg, configtxlator compute_update) signed by a majority of the current
   * organisations' admins and submitted to an orderer, then its CA and peer, the peer's
   * join, and the chaincode installed and approved for it. Once governance's genesis is
   * sealed the update runs only for an executed proposal that gives the organisation
   * member rights; its id is recorded with the organisation in `organisations.json`.
   *
   * The configuration update is atomic: when a step up to and including its submission
   * fails, the channel is unchanged and nothing of the organisation is started. A step
   * after it (a peer that cannot reach the orderers) leaves the organisation recorded,
   * so running the command again resumes from the join.
   *
   * @throws OrgAdmissionError naming the failed step and the reason.
   */
  async addOrg(options: AddOrgOptions): Promise<AddOrgResult> {
    const report = this.#report;
    this.lock.acquire('add organisation');
    const startedAt = Date.now();
    const started: string[] = [];
    try {
      this.#requireRunningForMembership();
      const before = this.config;
      const recorded = before.peerOrgs.find((org) => org.name === options.name && org.admission !== undefined);
      let entry: AddedOrgEntry;
      let config: NetworkConfig;
      if (recorded !== undefined) {
        report(`${recorded.name} is on the channel already; resuming after the configuration update`);
        config = before;
        entry = readAddedOrgs(before.paths.addedOrgs).find(
          (candidate) => candidate.name === options.name && candidate.removal === undefined,
        ) as AddedOrgEntry;
      } else {
        const founders = before.peerOrgs;
        const signerOrgs = await admissionStep('choose the signing admins', report, () =>
          Promise.resolve(chooseSigners(founders, options.signers)),
        );
        entry = {
          name: options.name,
          mspId: options.mspId ?? `${options.name}MSP`,
          address: options.address ?? loopback,
          ...defaultOrgPorts(founders.length),
          admission: {
            ...(options.proposalId === undefined ? {} : { proposalId: options.proposalId }),
            signedBy: signerOrgs.map((org) => org.mspId),
            at: new Date().toISOString(),
          },
        };
        config = await admissionStep('describe the organisation', report, () =>
          Promise.resolve(withAddedOrg(before, entry)),
        );
        const org = lastOrg(config);
        const [reader] = founders;
        const orderer = pickOrderer(config, options.orderer);
        if (reader === undefined) throw new OrgAdmissionError('check the network', 'the network has no organisation');
        await admissionStep('check that the ports are free', report, async () => {
          const ports = new Set([
            org.peer.port,
            org.peer.chaincodePort,
            org.peer.operationsPort,
            org.ca.port,
            org.ca.operationsPort,
          ]);
          const conflicts = await findPortConflicts(portAssignments(config).filter((a) => ports.has(a.port)));
          if (conflicts.length > 0) throw new Error(describeConflicts(conflicts));
        });
        await admissionStep('check the governance decision', report, () =>
          this.#requireGovernanceDecision(
            before,
            reader,
            options.proposalId,
            `gives ${entry.mspId} member rights (setMemberRights)`,
            (proposalId) =>
              checkMemberRightsProposal(before, this.toolchain, reader, entry.mspId, proposalId, memberAdmission),
          ),
        );
        await admissionStep(`generate ${org.name}'s certificates (cryptogen extend)`, report, () =>
          extendCrypto(config, this.toolchain),
        );
        const orgGroup = await admissionStep(
          `describe ${org.mspId} for the channel (configtxgen -printOrg)`,
          report,
          () => printOrgGroup(config, this.toolchain, org),
        );
        const dir = admissionDir(config, org);
        const current = await admissionStep(
          `fetch the channel configuration from orderer ${orderer.name}`,
          report,
          () => fetchChannelConfig(config, this.toolchain, reader, orderer, dir),
        );
        if (applicationOrgNames(current).includes(org.name)) {
          throw new OrgAdmissionError('compute the configuration update', `${org.name} is already on the channel`);
        }
        const envelope = await admissionStep('compute the configuration update (configtxlator)', report, () =>
          buildAdditionEnvelope(config, this.toolchain, current, org, orgGroup, dir),
        );
        await signAndSubmit(config, this.toolchain, envelope, signerOrgs, orderer, report);
        await admissionStep('confirm the new channel configuration', report, () =>
          waitUntil(`${org.name} in the configuration of ${config.channel}`, async () => {
            const after = await fetchChannelConfig(config, this.toolchain, reader, orderer, path.join(dir, 'after'));
            return applicationOrgNames(after).includes(org.name) ? true : undefined;
          }),
        );
        writeFileSync(
          config.paths.addedOrgs,
          `${JSON.stringify([...readAddedOrgs(config.paths.addedOrgs), entry], null, 2)}\n`,
        );
        this.#config = config;
        report(`${org.mspId} is a member of channel ${config.channel}`);
      }

      const org = config.peerOrgs.find((candidate) => candidate.name === entry.name) as PeerOrg;
      ensureRegistrar(org);
      const running = new Set(this.registry.running().map((record) => record.name));
      for (const request of [caProcess(config, this.toolchain, org), peerProcess(config, this.toolchain, org)]) {
        if (running.has(request.name)) continue;
        await admissionStep(`start ${request.name}`, report, async () => {
          const record = this.registry.start(request);
          started.push(request.name);
          await this.#waitHealthy(request, record);
        });
      }
      await admissionStep(`join ${org.peer.host} to ${config.channel}`, report, async () => {
        if (!(await peerChannels(config, this.toolchain, org)).includes(config.channel)) {
          await joinPeer(config, this.toolchain, org);
        }
      });
      const [first] = config.peerOrgs;
      const height = await admissionStep(`catch ${org.peer.host} up with the channel`, report, async () => {
        const target = await peerHeight(config, this.toolchain, first as PeerOrg);
        return waitUntil(
          `${org.peer.host} to reach height ${target}`,
          async () => {
            const reached = await peerHeight(config, this.toolchain, org);
            return reached >= target ? reached : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500 },
        );
      });
      // The consortium-wide collections take the organisation in, and the endorsement
      // policy follows the new majority: a new sequence, approved by every member.
      const deployed = await admissionStep(`commit a chaincode definition that includes ${org.mspId}`, report, () =>
        deployChaincode(config, this.toolchain, this.registry, report),
      );
      await admissionStep(`enroll ${org.name}'s operator`, report, () => enrollOperator(config, this.toolchain, org));
      this.writeConnectionProfile();
      await admissionStep('wait until every peer knows the others through gossip', report, () =>
        this.#waitForGossipMembership(),
      );
      return {
        org,
        ...(entry.admission.proposalId === undefined ? {} : { proposalId: entry.admission.proposalId }),
        signedBy: entry.admission.signedBy,
        height,
        sequence: deployed.deployment.sequence,
        seconds: (Date.now() - startedAt) / 1000,
      };
    } catch (error) {
      for (const name of started.reverse()) await this.registry.stop(name);
      throw error;
    } finally {
      this.lock.release();
    }
  }

  /**
   * Removes a member organisation that joined with {@link addOrg} from the running
   * channel: once governance's genesis is sealed only for an executed proposal that takes
   * all its rights; a channel configuration update without its group, signed by a
   * majority of the admins (the staying organisations first) and submitted to an orderer;
   * then a chaincode definition without it (collections and endorsement policy) committed
   * by the organisations that stay. Its nodes are not stopped (they are its own), but the
   * orderers refuse its peer new blocks and every peer refuses its identities.
   *
   * The configuration update is atomic: when a step up to and including its submission
   * fails, the channel and `organisations.json` are unchanged. A failure of the chaincode
   * definition leaves the removal recorded; running the command again resumes there.
   *
   * @throws OrgAdmissionError naming the failed step and the reason.
   */
  async removeOrg(options: RemoveOrgOptions): Promise<RemoveOrgResult> {
    const report = this.#report;
    this.lock.acquire('remove organisation');
    const startedAt = Date.now();
    try {
      this.#requireRunningForMembership();
      const before = this.config;
      const entries = readAddedOrgs(before.paths.addedOrgs);
      const resumed = entries.find((entry) => entry.name === options.name && entry.removal !== undefined);
      const org = before.peerOrgs.find((candidate) => candidate.name === options.name);
      let removal: NonNullable<AddedOrgEntry['removal']>;
      let config: NetworkConfig;
      if (org === undefined && resumed?.removal !== undefined) {
        report(`${options.name} has left the channel already; resuming at the chaincode definition`);
        removal = resumed.removal;
        config = before;
      } else {
        const leaving = await admissionStep('check the organisation', report, () => {
          if (org === undefined) throw new Error(`${options.name} is no organisation of the network`);
          if (org.admission === undefined) {
            throw new Error(
              `${org.name} is a founding organisation (network.config.json); only an organisation added with ` +
                'network:add-org can be removed',
            );
          }
          return Promise.resolve(org);
        });
        const staying = before.peerOrgs.filter((candidate) => candidate.name !== leaving.name);
        const signerOrgs = await admissionStep('choose the signing admins', report, () =>
          Promise.resolve(chooseRemovalSigners(before.peerOrgs, leaving, options.signers)),
        );
        const [reader] = staying;
        const orderer = pickOrderer(before, options.orderer);
        if (reader === undefined) {
          throw new OrgAdmissionError('check the organisation', `${leaving.name} is the channel's only organisation`);
        }
        await admissionStep('check the governance decision', report, () =>
          this.#requireGovernanceDecision(
            before,
            reader,
            options.proposalId,
            `takes ${leaving.mspId}'s member rights (setMemberRights with voting and veto false)`,
            (proposalId) =>
              checkMemberRightsProposal(before, this.toolchain, reader, leaving.mspId, proposalId, memberRemoval),
          ),
        );
        const dir = removalDir(before, leaving);
        const current = await admissionStep(
          `fetch the channel configuration from orderer ${orderer.name}`,
          report,
          () => fetchChannelConfig(before, this.toolchain, reader, orderer, dir),
        );
        const envelope = await admissionStep('compute the configuration update (configtxlator)', report, () =>
          buildUpdateEnvelope(before, this.toolchain, current, withoutOrg(current, leaving.name), dir),
        );
        await signAndSubmit(before, this.toolchain, envelope, signerOrgs, orderer, report);
        await admissionStep('confirm the new channel configuration', report, () =>
          waitUntil(`${leaving.name} gone from the configuration of ${before.channel}`, async () => {
            const after = await fetchChannelConfig(before, this.toolchain, reader, orderer, path.join(dir, 'after'));
            return applicationOrgNames(after).includes(leaving.name) ? undefined : true;
          }),
        );
        removal = {
          ...(options.proposalId === undefined ? {} : { proposalId: options.proposalId }),
          signedBy: signerOrgs.map((signer) => signer.mspId),
          at: new Date().toISOString(),
        };
        writeFileSync(
          before.paths.addedOrgs,
          `${JSON.stringify(
            entries.map((entry) =>
              entry.name === leaving.name && entry.removal === undefined ? { ...entry, removal } : entry,
            ),
            null,
            2,
          )}\n`,
        );
        config = { ...before, peerOrgs: staying };
        this.#config = config;
        report(`${leaving.mspId} is no longer a member of channel ${before.channel}`);
      }
      const deployed = await admissionStep(`commit a chaincode definition without ${options.name}`, report, () =>
        deployChaincode(config, this.toolchain, this.registry, report),
      );
      this.writeConnectionProfile();
      return {
        name: options.name,
        ...(removal.proposalId === undefined ? {} : { proposalId: removal.proposalId }),
        signedBy: removal.signedBy,
        sequence: deployed.deployment.sequence,
        seconds: (Date.now() - startedAt) / 1000,
      };
    } finally {
      this.lock.release();
    }
  }

  /**
   * Stops every recorded process, API and chaincode servers first; ledgers and keys stay.
   * Waits up to two minutes for another command working on the network to finish.
   *
   * @throws Error naming the command that still holds the network lock after that.
   */
  async down(): Promise<string[]> {
    // A restart by `npm start`'s supervisor holds the lock until its process serves.
    await this.lock.acquireWithin('network down', 120_000);
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
      this.lock.release();
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
      // A bundle host holds the client keys of its own organisation only.
      organizations: config.peerOrgs
        .filter((org) => config.bundleOf === undefined || org.name === config.bundleOf)
        .map((org) => {
          const tlsClient = orgTlsClient(config, org);
          return {
            name: org.name,
            mspId: org.mspId,
            peer: {
              endpoint: `${org.address}:${org.peer.port}`,
              hostAlias: org.peer.host,
              tlsRootCert: peerMaterial(config, org).tlsCa,
            },
            tlsClient: { cert: tlsClient.tlsCert, key: tlsClient.tlsKey },
            ca: {
              url: `https://${org.address}:${org.ca.port}`,
              caName: org.ca.name,
              tlsRootCert: orgTlsCa(config, org),
              registrarFile: registrarFile(org),
            },
            operatorMspDir: path.join(config.paths.identities, org.name, `operator-${org.name.toLowerCase()}`, 'msp'),
          };
        }),
      collections: Object.fromEntries(
        (currentCollections(config) ?? []).map((collection) => [collection.name, membersOf(collection)]),
      ),
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
          alive && operationsPort !== undefined ? await isHealthy(operationsPort, request.address) : false,
        ),
      );
    }
    // A removed organisation's CA and peer are its own, not the network's, even while they still run here.
    const removed = new Set(removedOrgs(this.config).flatMap((org) => [org.ca.name, `${org.peer.name}.${org.name}`]));
    // Recorded processes the network does not start itself (e.g. the settlement service) count as healthy while alive.
    for (const record of records.filter(
      (candidate) => !removed.has(candidate.name) && !requests.some((request) => request.name === candidate.name),
    )) {
      // The API answers its /healthz through the primary and a worker, which the primary
      // takes in turn: asked once per worker, each is asked. Other such processes count while alive.
      const apiPort = record.kind === 'api' ? record.ports[0] : undefined;
      const asks = isAlive(record) ? Math.max(1, childPids(record.pid).length) : 1;
      const recorded: ProcessStatus = {
        ...(await processStatus(record, record, async (alive) => {
          if (!alive || apiPort === undefined) return alive;
          for (let ask = 0; ask < asks; ask += 1) if (!(await isHealthy(apiPort))) return false;
          return true;
        })),
        ...(record.details === undefined ? {} : { details: record.details }),
      };
      processes.push(recorded, ...apiWorkers(recorded));
    }
    const heights: PeerHeight[] = [];
    for (const org of this.config.peerOrgs.filter(
      (candidate) => this.config.bundleOf === undefined || candidate.name === this.config.bundleOf,
    )) {
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
      `${request.name} to report healthy on port ${operationsPort} and listen on ${request.ports.join(', ')}`,
      async () => {
        if (!isAlive(record))
          throw new StopWaiting(`${request.name} exited; last lines of ${record.log}:\n${tail(record.log)}`);
        if (!(await isHealthy(operationsPort, request.address))) return undefined;
        // The operations endpoint answers before the node's other ports listen (an
        // orderer's admin endpoint, which osnadmin needs next; a peer's gRPC port).
        for (const port of request.ports) if (await isPortFree(port, request.address)) return undefined;
        return true;
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
        if (running.has(node.name) && (await isRaftLeader(node.operationsPort, this.config.channel, node.address))) {
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
          (await gossipPeersKnown(org.peer.operationsPort, this.config.channel, org.address)) >= others
            ? true
            : undefined,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    }
  }
}

/** How a configuration update that adds or removes an organisation is decided, signed and sent. */
export interface OrgChangeOptions {
  /** The executed governance proposal that decided the change; required once genesis is sealed. */
  readonly proposalId?: string;
  /**
   * Names of the organisations whose admins sign; defaults to the smallest majority of the
   * members, in configuration order (of those that stay, when one leaves).
   */
  readonly signers?: readonly string[];
  /** The orderer to fetch from and submit to (name); defaults to the first. */
  readonly orderer?: string;
}

/** What a configuration update that adds or removes an organisation did. */
export interface OrgChangeResult {
  readonly proposalId?: string;
  /** MSP ids whose admins signed the configuration update. */
  readonly signedBy: readonly string[];
  /** The chaincode definition's sequence that includes the organisation, or no longer does. */
  readonly sequence: number;
  readonly seconds: number;
}

export interface AddOrgOptions extends OrgChangeOptions {
  /** Organisation name: letters and digits, starting with a letter (e.g. `LabelOrg`). */
  readonly name: string;
  /** Defaults to `<name>MSP`. */
  readonly mspId?: string;
  /** Where its peer and CA listen and are reached; 127.0.0.1 by default. */
  readonly address?: string;
}

export interface AddOrgResult extends OrgChangeResult {
  readonly org: PeerOrg;
  /** The new peer's height once it caught up. */
  readonly height: number;
}

export interface RemoveOrgOptions extends OrgChangeOptions {
  /** Name of an organisation added with {@link LocalNetwork.addOrg}. */
  readonly name: string;
}

export interface RemoveOrgResult extends OrgChangeResult {
  readonly name: string;
}

function chooseSigners(orgs: readonly PeerOrg[], names: readonly string[] | undefined): PeerOrg[] {
  if (names === undefined) return majorityOf(orgs);
  return names.map((name) => {
    const org = orgs.find((candidate) => candidate.name === name || candidate.mspId === name);
    if (org === undefined) throw new Error(`${name} is not an organisation of the channel`);
    return org;
  });
}

function pickOrderer(config: NetworkConfig, name: string | undefined): NetworkConfig['ordererOrg']['orderers'][number] {
  const orderer =
    name === undefined
      ? config.ordererOrg.orderers[0]
      : config.ordererOrg.orderers.find((candidate) => candidate.name === name);
  if (orderer === undefined)
    throw new OrgAdmissionError('choose an orderer', `no orderer is called ${name ?? '(any)'}`);
  return orderer;
}

function lastOrg(config: NetworkConfig): PeerOrg {
  const org = config.peerOrgs.at(-1);
  if (org === undefined) throw new Error('the network has no organisation');
  return org;
}

export interface ProcessStatus {
  readonly name: string;
  readonly kind: ProcessRecord['kind'];
  readonly pid: number | undefined;
  readonly ports: readonly number[];
  readonly rssKib: number;
  readonly healthy: boolean;
  /** Alive but stopped by a signal (SIGSTOP) or a tracer: it answers nothing until continued. */
  readonly suspended?: boolean;
  /** False where `healthy` is the process's state alone, no request having asked it (an API worker). */
  readonly probed?: boolean;
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
  const suspended = alive && processSuspended(record.pid);
  return {
    name: listed.name,
    kind: listed.kind,
    pid: alive ? record.pid : undefined,
    ports: listed.ports,
    rssKib: alive ? processRssKib(record.pid) : 0,
    // A suspended process's port is still open (the kernel queues connections), so a
    // check by connection alone would call it healthy.
    healthy: !suspended && (await healthy(alive)),
    ...(suspended ? { suspended } : {}),
  };
}

/**
 * The API's HTTP workers (`API_WORKERS` > 1): the children of its primary, each listed
 * as `<primary name> worker <id>` (the cluster's worker id, as the API's log names it, from
 * the worker's `NODE_UNIQUE_ID`) with its own PID, memory and state, so that one killed or
 * stopped can be found without reading the API's log. A worker's health is its process's
 * state alone (running or suspended): the primary hands each connection to a worker in
 * turn, so no request can ask one worker in particular.
 */
function apiWorkers(primary: ProcessStatus): ProcessStatus[] {
  if (primary.kind !== 'api' || primary.pid === undefined) return [];
  return childPids(primary.pid).map((pid) => {
    const suspended = processSuspended(pid);
    const workerId = processEnvironmentValue(pid, 'NODE_UNIQUE_ID');
    return {
      name: `${primary.name} worker ${workerId ?? `(PID ${String(pid)})`}`,
      kind: primary.kind,
      pid,
      ports: primary.ports,
      rssKib: processRssKib(pid),
      healthy: !suspended,
      probed: false,
      ...(suspended ? { suspended } : {}),
    };
  });
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
