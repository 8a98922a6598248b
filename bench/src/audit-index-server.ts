/**
 * The API side of the audit-index benchmark, in a process of its own so that the load
 * generator's CPU is not counted as the server's: a test server (real authentication,
 * real SQLite, in-memory ledger for grants) with `size` agreements loaded through
 * BlockIndexer and the domain indexers, as blocks from the network would be.
 *
 * The auditor reads under live grants of three organisations, as one engaged by them
 * would (see `benchGrants`), so every query runs the grant condition over most of the
 * index, not only the auditor's own (no) agreements.
 *
 * Driven over IPC by audit-index-queries.ts: it answers `ready` with the URL and an
 * auditor's bearer token, `cpu` with its own CPU time so far (user + system, ms), and
 * `profile-start`/`profile-stop` with a V8 CPU profile of the main thread (written as
 * a .cpuprofile file that Chrome DevTools opens) and its heaviest functions by self time.
 */
import cluster from 'node:cluster';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { GrantAuditAccessRequest } from '@gigledger/chaincode/model';
import {
  agreementWrites,
  BlockIndexer,
  syntheticBlock,
  syntheticTransaction,
  type SyntheticAgreement,
} from '@gigledger/api/audit-index';
import { startTestServer, type TestServer } from '@gigledger/api/test-support/test-server';

const perBlock = 500;
const currencies = ['EUR', 'USD', 'GBP'] as const;
const statuses = ['offered', 'active', 'active', 'cancelled'] as const;

const clientOf = (n: number) => ({
  mspId: n % 2 === 0 ? 'ClientOrgMSP' : 'AuditOrgMSP',
  userId: `client-${String(n % 1000)}`,
});
const freelancerOf = (n: number) => ({ mspId: 'TalentOrgMSP', userId: `talent-${String(n % 2000)}` });
const dayOf = (n: number) => new Date(Date.UTC(2026, 0, 1) + (n % 365) * 86_400_000 + n).toISOString();

function agreement(n: number): SyntheticAgreement {
  return {
    agreementId: `B-${String(n).padStart(6, '0')}`,
    client: clientOf(n),
    freelancer: freelancerOf(n),
    status: statuses[n % statuses.length] ?? 'active',
    // A spread of amounts from EUR 10.00 to EUR 99,999.99, deterministic per agreement.
    amount: String(1000 + ((n * 7919) % 9_999_000)),
    currency: currencies[n % currencies.length] ?? 'EUR',
    ...(n % 4 === 0
      ? { milestoneStatus: 'released' as const, payout: n % 8 === 0 ? ('paid' as const) : ('pending' as const) }
      : {}),
    at: dayOf(n),
    txId: `bench-tx-${String(n)}`,
  };
}

/**
 * What an auditor engaged by all three organisations holds: ClientOrg opens its
 * agreements and credentials of 2026, TalentOrg its agreements of the second and third
 * quarters, AuditOrg its transactions only. About three quarters of the loaded agreements
 * are visible, each through a grant with a time range, as a real engagement is bounded.
 */
const benchGrants: readonly (readonly [
  organisation: readonly [org: string, mspId: string],
  grant: Omit<GrantAuditAccessRequest, 'auditor' | 'expiresAt' | 'purpose'>,
])[] = [
  [
    ['ClientOrg', 'ClientOrgMSP'],
    {
      grantId: 'AG-bench-client',
      kinds: ['agreement', 'credential'],
      from: '2026-01-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
    },
  ],
  [
    ['TalentOrg', 'TalentOrgMSP'],
    {
      grantId: 'AG-bench-talent',
      kinds: ['agreement'],
      from: '2026-04-01T00:00:00.000Z',
      to: '2026-10-01T00:00:00.000Z',
    },
  ],
  [['AuditOrg', 'AuditOrgMSP'], { grantId: 'AG-bench-audit', kinds: ['transaction'] }],
];

/**
 * Each organisation's admin grants the auditor its part of {@link benchGrants}, live for
 * 90 days, on the ledger directly (as the API tests' `grantAuditEverywhere`
 * does; written out here so that a baseline checkout runs the same grants).
 */
async function grantAuditor(server: TestServer, auditor: { mspId: string; userId: string }): Promise<void> {
  // Live by the wall clock as well as by the in-memory ledger's (which starts in January
  // 2026): the read log names the grants live when it answers, and a grant expired by the
  // wall clock made every read ask the ledger for the auditor's grants again.
  const expiresAt = new Date(
    Math.max(server.ledger.ledger.nowSeconds * 1000, Date.now()) + 90 * 86_400_000,
  ).toISOString();
  for (const [[org, mspId], grant] of benchGrants) {
    const admin = {
      kind: 'service',
      id: `bench-audit-ops-${org}`,
      userId: `bench-audit-ops-${org.toLowerCase()}`,
      org,
      mspId,
      role: 'admin',
      scopes: [],
      identityLabel: `service:bench-audit-ops-${org}`,
    } as const;
    const ledger = await server.ledger.clientFor(admin, pino({ level: 'silent' }));
    await ledger.audit.grantAuditAccess({ ...grant, auditor, expiresAt, purpose: 'audit index benchmark' });
  }
}

/** Messages from the benchmark. */
export type ServerCommand =
  | { readonly kind: 'cpu' }
  | { readonly kind: 'profile-start' }
  | { readonly kind: 'profile-stop'; readonly file: string }
  | { readonly kind: 'stop' };

/** Messages to the benchmark. */
export type ServerReply =
  | { readonly kind: 'ready'; readonly url: string; readonly token: string; readonly loadSeconds: number }
  | { readonly kind: 'cpu'; readonly ms: number }
  | { readonly kind: 'profile'; readonly busyMs: number; readonly top: readonly ProfileLine[] };

/** One function's share of a profile. */
export interface ProfileLine {
  readonly selfMs: number;
  readonly where: string;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame lives, short: a package name and file, or the API's own file. */
function placeOf(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (modules !== null) return `${modules[1] ?? ''}:${(modules[2] ?? '').split('/').at(-1) ?? ''}`;
  const own = /\/(api|chaincode|gateway)\/dist\/(.*)$/.exec(url);
  if (own !== null) return `${own[1] ?? ''}/${own[2] ?? ''}`;
  return url === '' ? '(native)' : url.replace(/^.*\//, '');
}

/** Self time per function (ms), heaviest first, and the time the thread was not idle. */
function summarise(profile: Profile): { busyMs: number; top: ProfileLine[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Stopping the profiler (building the profile) is sampled too; it is not the server's work.
  const profilerOwn = new Set<number>();
  const markUnder = (node: ProfileNode | undefined, inside: boolean): void => {
    if (node === undefined) return;
    const own = inside || node.callFrame.url.includes('inspector');
    if (own) profilerOwn.add(node.id);
    for (const child of node.children ?? []) markUnder(byId.get(child), own);
  };
  markUnder(profile.nodes[0], false);
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, position) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[position] ?? 0) / 1000;
    if (node === undefined) return;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || profilerOwn.has(id)) return;
    busy += ms;
    const where = `${name === '' ? '(anonymous)' : name} ${placeOf(node.callFrame.url)}:${String(node.callFrame.lineNumber + 1)}`;
    self.set(where, (self.get(where) ?? 0) + ms);
  });
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([where, selfMs]) => ({ where, selfMs }));
  return { busyMs: busy, top };
}

/** What the primary of a cluster (or the one process) hands its parent once it serves. */
interface Serving {
  readonly url: string;
  readonly token: string;
  readonly loadSeconds: number;
  /** This process's CPU time and its workers', user + system, ms. */
  cpuMs(): number;
  close(): Promise<void>;
}

/** CPU time (user + system, ms) of another process, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    // After the command's closing parenthesis: utime and stime are the 12th and 13th fields.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Loads `size` agreements through BlockIndexer into the server's database. */
async function load(server: TestServer, size: number): Promise<number> {
  const indexer = new BlockIndexer(server.db, { chaincode: 'gigledger' });
  const loadStarted = performance.now();
  for (let first = 0, block = 0n; first < size; first += perBlock, block += 1n) {
    const transactions = Array.from({ length: Math.min(perBlock, size - first) }, (_, position) => {
      const spec = agreement(first + position);
      return syntheticTransaction(position, spec.txId, agreementWrites(spec), { at: spec.at });
    });
    await indexer.index(syntheticBlock(block, transactions));
  }
  return (performance.now() - loadStarted) / 1000;
}

const environment = (dataDir: string | undefined) => ({
  RATE_LIMIT_PER_MINUTE: '100000000',
  ...(dataDir === undefined ? {} : { GIGLEDGER_DATA_DIR: dataDir }),
});

/**
 * The API as one process (workers = 1, as before), or as a cluster of `workers` HTTP
 * workers under the API's own supervisor (rate limits counted in the primary, failed
 * credentials replayed through it), each a test server over the same SQLite file with
 * the auditor's grants on its own in-memory ledger. The primary loads the agreements
 * (unless `reuse`: another benchmark server loaded them into `dataDir` already) and
 * creates the auditor; the workers only serve.
 */
async function serve(size: number, workers: number, dataDir: string | undefined, reuse: boolean): Promise<Serving> {
  const server = await startTestServer(environment(dataDir));
  const loadSeconds = reuse ? 0 : await load(server, size);
  const auditorId = workers === 1 ? 'bench-auditor' : `bench-auditor-${String(workers)}w`;
  const auditor = await server.person(auditorId, 'AuditOrg', 'auditor');
  if (workers === 1) {
    await grantAuditor(server, auditor.party);
    return {
      url: server.url,
      token: auditor.token,
      loadSeconds,
      cpuMs: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1000;
      },
      close: () => server.close(),
    };
  }
  // Imported here so that a --baseline checkout without the cluster still runs this script with one worker.
  const { superviseWorkers } = await import('@gigledger/api/cluster');
  cluster.setupPrimary({ args: [String(size), String(workers), server.config.dataDir, auditorId] });
  const supervisor = superviseWorkers({
    workers,
    listen: { port: 0, host: '127.0.0.1', backlog: server.config.listenBacklog },
    log: pino({ level: 'warn' }),
    onFatal: (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  });
  const url = await supervisor.ready;
  return {
    url,
    token: auditor.token,
    loadSeconds,
    cpuMs: () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000 + supervisor.pids().reduce((sum, pid) => sum + processCpuMs(pid), 0);
    },
    async close() {
      await supervisor.stop();
      await server.close();
    },
  };
}

/** An HTTP worker of the benchmark's cluster: a test server over the primary's database. */
async function worker(dataDir: string, auditorId: string): Promise<void> {
  const { PrimaryLink, PrimaryRateLimitStore, shareCredentialThrottle } = await import('@gigledger/api/cluster');
  const link = new PrimaryLink();
  const server = await startTestServer(environment(dataDir), {
    rateLimitStore: (name) => new PrimaryRateLimitStore(link, name),
    takeConnections: (take) => {
      link.takeConnections(take);
    },
  });
  shareCredentialThrottle(server.accounts.throttle, link);
  await grantAuditor(server, { mspId: 'AuditOrgMSP', userId: auditorId });
  link.on('stop', () => {
    void server.close().then(() => process.exit(0));
  });
  link.send({ gigledger: 'serving' });
}

async function main(): Promise<void> {
  const [sizeText, workersText = '1', dataDirText = '', mode = ''] = process.argv.slice(2);
  if (cluster.isWorker) {
    await worker(dataDirText, mode);
    return;
  }
  const size = Number(sizeText);
  const workers = Number(workersText);
  if (!Number.isInteger(size) || size <= 0 || !Number.isInteger(workers) || workers <= 0) {
    throw new Error('usage: audit-index-server.js <agreements> [<workers> [<data dir> [reuse]]]');
  }
  let closing = false;
  // The benchmark gone (killed, or its output cut off), nobody would stop this server or
  // remove the database it loaded: it does both itself.
  process.once('disconnect', () => {
    if (!closing) process.exit(1);
  });
  // Stopped with the benchmark's process group (Ctrl-C, a timeout): the same.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));
  process.once('exit', () => {
    if (!closing && dataDirText !== '') rmSync(dataDirText, { recursive: true, force: true });
  });
  const serving = await serve(size, workers, dataDirText === '' ? undefined : dataDirText, mode === 'reuse');
  const session = new Session();
  session.connect();
  const send = (reply: ServerReply) => process.send?.(reply);
  process.on('message', (command: ServerCommand) => {
    void (async () => {
      if (command.kind === 'cpu') {
        send({ kind: 'cpu', ms: serving.cpuMs() });
      } else if (command.kind === 'profile-start') {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
      } else if (command.kind === 'profile-stop') {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(command.file, JSON.stringify(profile));
        send({ kind: 'profile', ...summarise(profile as unknown as Profile) });
      } else {
        closing = true;
        session.disconnect();
        await serving.close();
        process.disconnect();
      }
    })();
  });
  send({ kind: 'ready', url: serving.url, token: serving.token, loadSeconds: serving.loadSeconds });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
