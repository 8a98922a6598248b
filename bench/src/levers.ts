import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, hash, signers, type Contract } from '@hyperledger/fabric-gateway';
import { gatewayCredentials, type SigningIdentity } from '@gigledger/gateway';
import {
  ensureChaincodeServer,
  gossipPeersKnown,
  readDeployment,
  updateBatching,
  type Batching,
} from '@gigledger/network';
import type { BenchNetwork } from './bench-network.js';
import { formatCpuPerUnit, windowCpuWatch, type CpuSpent, type WatchedProcess } from './process-cpu.js';
import { formatLevel, runLevel, type Workload } from './saturation.js';

/**
 * One setting tried against the product's own: `apply` switches it on in the running
 * network (or load generator), `revert` back. Both leave the network ready for load.
 */
export interface Lever {
  readonly name: string;
  apply(): Promise<void>;
  revert(): Promise<void>;
}

/** The network's processes at this moment: a restarted node has a new PID. */
export type Watched = () => WatchedProcess[];

/**
 * The no-op workload with fabric-gateway's own pure-JavaScript signer instead of the
 * gateway package's native one, on the same gRPC connection, for the signer lever.
 */
export function javascriptSignerContract(bench: BenchNetwork, identity: SigningIdentity): Contract {
  const connection = bench.ledger.connections.forMsp(identity.mspId);
  const gateway = connect({
    client: connection.client,
    tlsClientCertificateHash: connection.tlsClientCertificateHash,
    // The package's identity, fabric-gateway's signer, and the digest that signer expects.
    ...gatewayCredentials(identity),
    signer: signers.newPrivateKeySigner(createPrivateKey(identity.privateKeyPem)),
    hash: hash.sha256,
  });
  return gateway.getNetwork(bench.config.channel).getContract(bench.config.chaincode.name);
}

/** Sets the log spec of every peer and orderer at run time (PUT /logspec on the operations port). */
async function setLogSpec(bench: BenchNetwork, spec: string): Promise<void> {
  const ports = [
    ...bench.config.peerOrgs.map((org) => ({ address: org.address, port: org.peer.operationsPort })),
    ...bench.config.ordererOrg.orderers.map((node) => ({ address: node.address, port: node.operationsPort })),
  ];
  await Promise.all(
    ports.map(
      ({ address, port }) =>
        new Promise<void>((resolve, reject) => {
          const request = http.request({ host: address, port, path: '/logspec', method: 'PUT' }, (response) => {
            response.resume();
            if (response.statusCode === 204 || response.statusCode === 200) resolve();
            else reject(new Error(`PUT /logspec on ${address}:${port} answered ${response.statusCode}`));
          });
          request.on('error', reject);
          request.end(JSON.stringify({ spec }));
        }),
    ),
  );
}

/**
 * Restarts every peer or every orderer, one at a time, with the environment as it now
 * is (see `nodeOverrides` in the network package), and waits until the network is whole:
 * orderers have a Raft leader, peers know each other through gossip.
 */
async function restartNodes(bench: BenchNetwork, kind: 'peer' | 'orderer'): Promise<void> {
  for (const request of bench.network.nodeProcesses().filter((candidate) => candidate.kind === kind)) {
    await bench.network.stopProcess(request.name);
    await bench.network.startProcess(request.name);
    if (kind === 'orderer') await bench.network.waitForRaftLeader();
  }
  if (kind === 'peer') {
    const others = bench.config.peerOrgs.length - 1;
    for (const org of bench.config.peerOrgs) {
      for (let attempt = 0; ; attempt += 1) {
        const known = await gossipPeersKnown(org.peer.operationsPort, bench.config.channel, org.address);
        if (known >= others) break;
        if (attempt > 180) throw new Error(`${org.peer.host} did not find the other peers within 90 s`);
        await delay(500);
      }
    }
  }
}

/**
 * Restarts the chaincode server with the environment as it now is (GIGLEDGER_CHAINCODE_LOGGING),
 * from this checkout or, with `checkout`, from another one's build (`<checkout>/chaincode`,
 * with that checkout's fabric-shim): the package id is the peers' name for the server's
 * address, not for its code, so the peers call whichever build listens there.
 */
async function restartChaincodeServer(bench: BenchNetwork, checkout?: string): Promise<void> {
  const deployment = readDeployment(bench.config);
  if (deployment === undefined) throw new Error('the network has no chaincode deployment');
  for (const record of bench.network.registry.running().filter((candidate) => candidate.kind === 'chaincode')) {
    await bench.network.registry.stop(record.name);
  }
  const config =
    checkout === undefined
      ? bench.config
      : {
          ...bench.config,
          repoRoot: checkout,
          chaincode: { ...bench.config.chaincode, sourceDir: path.join(checkout, 'chaincode') },
        };
  await ensureChaincodeServer(config, bench.network.registry, deployment);
}

/**
 * `baseline-chaincode`: this checkout's chaincode server (off) against the build of the
 * checkout `BENCH_BASELINE_CHAINCODE` names (on), restarted between, on the same network.
 */
function baselineChaincodeLever(bench: BenchNetwork): Lever {
  return {
    name: 'baseline-chaincode',
    async apply() {
      const checkout = process.env.BENCH_BASELINE_CHAINCODE;
      if (checkout === undefined || !existsSync(path.join(checkout, 'chaincode', 'dist', 'index.js'))) {
        throw new Error('baseline-chaincode: BENCH_BASELINE_CHAINCODE must name a checkout with a built chaincode');
      }
      await restartChaincodeServer(bench, path.resolve(checkout));
    },
    revert: () => restartChaincodeServer(bench),
  };
}

/**
 * A lever that sets environment variables the network reads as it starts a process, then
 * runs `restart` so the processes concerned start again with them; `revert` restores the
 * variables and restarts again.
 */
function environmentLever(name: string, settings: Record<string, string>, restart: () => Promise<void>): Lever {
  let previous: Record<string, string | undefined> = {};
  return {
    name,
    async apply() {
      previous = setEnvironment(settings);
      await restart();
    },
    async revert() {
      setEnvironment(previous);
      await restart();
    },
  };
}

/**
 * Sets (a value) or removes (undefined) variables of this process's environment, which
 * the network reads as it starts a node; answers the values they had.
 */
function setEnvironment(settings: Record<string, string | undefined>): Record<string, string | undefined> {
  const previous = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  const next = Object.entries({ ...process.env, ...settings }).filter(([, value]) => value !== undefined);
  process.env = Object.fromEntries<string | undefined>(next);
  return previous;
}

/** The channel's blocks cut by `batching` rather than by the network's configuration (MaxMessageCount 500). */
function batchingLever(bench: BenchNetwork, name: string, batching: Batching): Lever {
  return {
    name,
    async apply() {
      await updateBatching(bench.config, bench.toolchain, batching);
    },
    async revert() {
      await updateBatching(bench.config, bench.toolchain, {
        batchTimeout: bench.config.batchTimeout,
        maxMessageCount: 500,
      });
    },
  };
}

/**
 * Peers and orderers built with profile-guided optimisation (`go build -pgo`, from CPU
 * profiles of this benchmark's own load) in place of the toolchain's build of the same
 * release: BENCH_PGO_BIN_DIR names the folder holding that build's `peer` and `orderer`.
 */
function profileGuidedBuildLever(bench: BenchNetwork): Lever {
  const restartAll = async () => {
    await restartNodes(bench, 'orderer');
    await restartNodes(bench, 'peer');
  };
  return {
    name: 'pgo',
    async apply() {
      const dir = process.env.BENCH_PGO_BIN_DIR;
      if (dir === undefined || !existsSync(path.join(dir, 'peer')) || !existsSync(path.join(dir, 'orderer'))) {
        throw new Error('the pgo lever needs BENCH_PGO_BIN_DIR naming a folder with a peer and an orderer binary');
      }
      bench.useNodeBinaries(dir);
      await restartAll();
    },
    async revert() {
      bench.useNodeBinaries(undefined);
      await restartAll();
    },
  };
}

/** The levers `--levers` tries, by name. */
export function networkLevers(bench: BenchNetwork, defaultLogSpec: string): Map<string, Lever> {
  const quietLogs =
    'grpc=error:comm.grpc.server=warn:gateway=warn:endorser=warn:orderer.common.broadcast=error:' +
    'orderer.consensus.etcdraft=warn:kvledger=warn:gossip.privdata=warn:committer.txvalidator=warn:info';
  const levers: Lever[] = [
    { name: 'logs', apply: () => setLogSpec(bench, quietLogs), revert: () => setLogSpec(bench, defaultLogSpec) },
    batchingLever(bench, 'batch1s', { batchTimeout: '1s', maxMessageCount: 1000 }),
    batchingLever(bench, 'batch500ms', { batchTimeout: '500ms', maxMessageCount: 500 }),
    // The chaincode server at warning rather than fabric-shim's INFO line per call.
    environmentLever('chaincode-logs', { GIGLEDGER_CHAINCODE_LOGGING: 'warning' }, () => restartChaincodeServer(bench)),
    environmentLever('gogc', { GIGLEDGER_PEER_GOGC: '400', GIGLEDGER_ORDERER_GOGC: '400' }, async () => {
      await restartNodes(bench, 'orderer');
      await restartNodes(bench, 'peer');
    }),
    baselineChaincodeLever(bench),
    profileGuidedBuildLever(bench),
    environmentLever('validators', { GIGLEDGER_PEER_CORE_PEER_VALIDATORPOOLSIZE: '1' }, () =>
      restartNodes(bench, 'peer'),
    ),
  ];
  return new Map(levers.map((lever) => [lever.name, lever]));
}

/** Each process's CPU milliseconds per transaction over the runs of one side of a lever. */
class SideCpu {
  readonly #ms = new Map<string, number>();
  #transactions = 0;

  add(spent: CpuSpent, transactions: number): void {
    for (const [name, ms] of spent) this.#ms.set(name, (this.#ms.get(name) ?? 0) + ms);
    this.#transactions += transactions;
  }

  /** Milliseconds per transaction of the processes `which` picks (all by default). */
  perTransaction(which: (name: string) => boolean = () => true): number {
    let total = 0;
    for (const [name, ms] of this.#ms) if (which(name)) total += ms;
    return this.#transactions === 0 ? Number.NaN : total / this.#transactions;
  }

  get names(): string[] {
    return [...this.#ms.keys()].sort();
  }
}

/**
 * The processes no network lever touches, whose CPU per transaction shows what the
 * machine's contention alone does to a side: on a shared 2-core host a busier level costs
 * every process more per transaction (caches, the scheduler), by as much as 30% between
 * two runs of the same setting.
 */
const isControl = (name: string) => name === 'load generator';

/**
 * Runs `workload` at `inFlight` four times, without the lever, with it, without, with
 * (so drift in the machine's load hits both sides), and prints each run's throughput
 * and CPU per transaction by process; then each process's CPU per transaction on each
 * side, and the network's (everything but the load generator) as a multiple of the load
 * generator's, the comparison least moved by the machine's other work.
 * `workloadFor` gives the workload of a side, for levers that change the load generator
 * rather than the network.
 */
export async function compareLever(
  lever: Lever,
  workloadFor: (on: boolean) => Workload,
  inFlight: number,
  seconds: number,
  watched: Watched,
  log: (line: string) => void,
): Promise<void> {
  const sides = { off: new SideCpu(), on: new SideCpu() };
  for (const on of [false, true, false, true]) {
    if (on) await lever.apply();
    // Connections to restarted nodes and JIT settle before the measured level.
    await runLevel(workloadFor(on), Math.min(inFlight, 16), 3);
    const watch = windowCpuWatch(watched);
    const figures = await runLevel(workloadFor(on), inFlight, seconds, watch.window);
    const cpu = watch.spent();
    const label = `lever ${lever.name} ${on ? 'on ' : 'off'}`.padEnd(26);
    log(`${label} ${formatLevel(figures, 'tx/s')}`);
    log(`${''.padEnd(26)} ${formatCpuPerUnit(cpu, figures.commits, 'tx')}; load average ${loadAverage()}`);
    sides[on ? 'on' : 'off'].add(cpu, figures.commits);
    if (on) await lever.revert();
  }
  const { off, on } = sides;
  const byProcess = [...new Set([...off.names, ...on.names])]
    .map((name) => {
      const only = (candidate: string) => candidate === name;
      return `${name} ${off.perTransaction(only).toFixed(2)} → ${on.perTransaction(only).toFixed(2)}`;
    })
    .join(', ');
  const network = (name: string) => !isControl(name);
  const multiple = (side: SideCpu) => side.perTransaction(network) / side.perTransaction(isControl);
  const change = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(0)}%`;
  log(`lever ${lever.name}, ms CPU per tx off → on: ${byProcess}`);
  log(
    `lever ${lever.name}: all processes ${off.perTransaction().toFixed(2)} → ${on.perTransaction().toFixed(2)} ms ` +
      `(${change(off.perTransaction(), on.perTransaction())}); network as a multiple of the load generator ` +
      `${multiple(off).toFixed(2)} → ${multiple(on).toFixed(2)} (${change(multiple(off), multiple(on))})`,
  );
}

/** The 1, 5 and 15 minute load averages, e.g. `9.1 8.7 6.0`. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
}
