import os from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { certificateCommonName, type LedgerGateway, type LedgerSession } from '@gigledger/gateway';
import {
  enactByVote,
  ensureToolchain,
  grantKyc,
  loadNetworkConfig,
  LocalNetwork,
  openConsortiumLedger,
  repoRoot,
  type NetworkConfig,
  type Toolchain,
} from '@gigledger/network';
import type { CredentialType, Party, Role } from '@gigledger/chaincode/model';

/** A network for one benchmark run, with CA enrollment and gateway sessions. */
export interface BenchNetwork {
  readonly config: NetworkConfig;
  readonly ledger: LedgerGateway;
  /** The running network's processes, for benchmarks that restart nodes with other settings. */
  readonly network: LocalNetwork;
  readonly toolchain: Toolchain;
  /**
   * Starts peers and orderers from now on with the `peer` and `orderer` binaries in `dir`
   * (another build of the same Fabric release), or again with the toolchain's own
   * (undefined); nodes already running keep theirs until restarted.
   */
  useNodeBinaries(dir: string | undefined): void;
  enroll(orgName: string, role: Role, prefix: string): Promise<{ session: LedgerSession; userId: string }>;
  /** Clears people for payouts: a fresh KYC issuer issues each a KYC credential. */
  grantKyc(people: readonly { mspId: string; userId: string }[]): Promise<void>;
  /** Accredits `issuers` for `credentialType` by a consortium vote of every organisation's governor. */
  accreditIssuers(issuers: readonly Party[], credentialType: CredentialType): Promise<void>;
  close(): Promise<void>;
}

/**
 * How far the benchmark network's ports sit from the defaults: BENCH_PORT_OFFSET, else 12000
 * (ports 16000–22054: clear of `npm start`, of the end-to-end suites' +20000, and below
 * 32768, where Linux starts handing out outgoing connections' local ports).
 */
function benchPortOffset(): number {
  const offset = Number(process.env.BENCH_PORT_OFFSET ?? '12000');
  if (!Number.isInteger(offset) || offset < 0 || offset > 60000) {
    throw new Error('BENCH_PORT_OFFSET must be a whole number from 0 to 60000');
  }
  return offset;
}

/**
 * Starts a fresh network in `.gigledger/bench` (ports +BENCH_PORT_OFFSET, 12000 by
 * default), or uses the one `npm start` runs when BENCH_REUSE_NETWORK=1.
 */
export async function openBenchNetwork(log: (line: string) => void): Promise<BenchNetwork> {
  const reuse = process.env.BENCH_REUSE_NETWORK === '1';
  const config = reuse
    ? loadNetworkConfig()
    : loadNetworkConfig({ home: path.join(repoRoot, '.gigledger', 'bench'), portOffset: benchPortOffset() });
  const { toolchain: built } = await ensureToolchain(log);
  let nodeBinaries: string | undefined;
  const toolchain: Toolchain = {
    dir: built.dir,
    binDir: built.binDir,
    configDir: built.configDir,
    bin: (command) =>
      nodeBinaries !== undefined && (command === 'peer' || command === 'orderer')
        ? path.join(nodeBinaries, command)
        : built.bin(command),
  };
  const network = new LocalNetwork(config, toolchain, () => undefined);
  if (!reuse) {
    await network.down();
    rmSync(config.home, { recursive: true, force: true });
    log(`starting a fresh network in ${config.home}`);
    await network.up();
  } else if (!network.isRunning()) {
    throw new Error('BENCH_REUSE_NETWORK=1 but no network is running; start one with `npm start`');
  }
  const consortium = openConsortiumLedger(config);
  const enroll: BenchNetwork['enroll'] = async (orgName, role, prefix) => {
    const session = await consortium.enroll(orgName, role, prefix);
    return { session, userId: certificateCommonName(session.identity.certificatePem) };
  };
  let kycIssuer: LedgerSession | undefined;
  return {
    config,
    ledger: consortium.ledger,
    network,
    toolchain,
    useNodeBinaries(dir) {
      nodeBinaries = dir;
    },
    enroll,
    async grantKyc(people) {
      kycIssuer ??= await consortium.enroll('AuditOrg', 'issuer', 'bench-kyc');
      await grantKyc(await consortium.governors(), kycIssuer, people);
    },
    async accreditIssuers(issuers, credentialType) {
      await enactByVote(
        await consortium.governors(),
        issuers.map((issuer) => ({
          type: 'registerIssuer' as const,
          issuer,
          displayName: `Benchmark issuer ${issuer.userId}`,
          credentialTypes: [credentialType],
        })),
        'Accredit benchmark issuers',
      );
    },
    async close() {
      consortium.close();
      if (!reuse) await network.down();
    },
  };
}

export function machineDescription(): string {
  return `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** The value below which `fraction` of the sorted samples fall. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** Runs `tasks` with at most `limit` in flight. */
export async function withConcurrency<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const index = next;
      next += 1;
      const task = tasks[index];
      if (task !== undefined) results[index] = await task();
    }
  });
  await Promise.all(workers);
  return results;
}

/** A whole-number command-line option `--name N`, or the fallback. */
export function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive whole number`);
  return value;
}

/** A comma-separated list of positive whole numbers `--name A,B,C`, or the fallback's. */
export function listOption(name: string, fallback: string): number[] {
  const index = process.argv.indexOf(`--${name}`);
  const values = (index >= 0 ? (process.argv[index + 1] ?? '') : fallback).split(',').map(Number);
  if (values.some((value) => !Number.isInteger(value) || value <= 0))
    throw new Error(`--${name} takes positive whole numbers, e.g. ${fallback}`);
  return values;
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
