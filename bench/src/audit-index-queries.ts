/**
 * Auditors' GraphQL queries on the audit index at 10,000 and 100,000 indexed agreements.
 *
 * The API runs in a process of its own (audit-index-server.ts): the agreements are
 * loaded there through the index's own code (decoded blocks of draft transactions go
 * through BlockIndexer and the domain indexers into a fresh SQLite database), and it
 * serves them over HTTP with its real authentication (an auditor's bearer token) and
 * read log. This process only sends the queries, so the server's CPU time per request
 * is measured apart from the load generator's.
 *
 * Each common query runs in a closed loop at rising concurrency until throughput stops
 * rising (two levels in a row not 5% above the best), printing req/s, p50, p99, failed
 * requests and the server's CPU ms per request; then how p50 and p99 grow from 10k to
 * 100k. No Fabric network is needed. The API runs with NODE_ENV=production, as deployed.
 *
 * Usage: npm run bench:audit-index [-- --seconds 5 --sizes 10000,100000 --profile --api-node-flags "<flags>"
 *   --baseline <another built checkout> --client http|fetch --queries <names' first words>
 *   --baseline-workers 2 --workers 1,2]
 * `--queries fixed` measures a bare `{ __typename }` instead, what any request costs.
 * `--profile` writes a V8 CPU profile of the server per size at the mixed load and prints
 * its heaviest functions. `--baseline` runs that checkout's API side by side (loaded by
 * this checkout's server script, so with the same data and grants), level by level in
 * turn, so the before/after ratio is measured under the same machine load; with
 * `--baseline-workers 2` as a cluster of two HTTP workers. `--api-node-flags "<flags>"` starts
 * every API process of the run with those Node/V8 flags (e.g. `--single-threaded-gc`), to
 * compare runs with and without them. `--workers 1,2`
 * runs this checkout's API as one process and as a cluster of 2 HTTP workers (node:cluster,
 * the API's own supervisor) over the same loaded database, level by level in turn; the
 * CPU per request then sums the primary and its workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, machineDescription } from './bench-network.js';
import type { ServerCommand, ServerReply } from './audit-index-server.js';
import { failureCount, runLevel, type LevelFigures, type Workload } from './saturation.js';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const seconds = Number(flag('seconds') ?? 5);
const sizes = (flag('sizes') ?? '10000,100000').split(',').map(Number);
const profiling = process.argv.includes('--profile');
const baselineCheckout = flag('baseline');
/** `--baseline-workers 2`: the baseline API as a cluster of that many HTTP workers (one process by default). */
const baselineWorkers = Number(flag('baseline-workers') ?? 1);
if (!Number.isInteger(baselineWorkers) || baselineWorkers < 1)
  throw new Error('--baseline-workers takes a count from 1');
/** `--workers 1,2`: this checkout's API as one process and as a cluster of 2 HTTP workers, levels in turn. */
const workerCounts = (flag('workers') ?? '1').split(',').map(Number);
if (workerCounts.some((count) => !Number.isInteger(count) || count < 1)) {
  throw new Error('--workers takes counts from 1, comma-separated (e.g. 1,2)');
}
/** Node/V8 flags for every API process of the run (its HTTP workers inherit them). */
const apiNodeFlags = (flag('api-node-flags') ?? '').split(' ').filter((word) => word !== '');
const concurrencies = [1, 4, 16, 32, 64, 128, 256];
const targetPerSecond = 1000;
const targetP99 = 50;

/** One request of a query: its variables drawn for this worker and round. */
type Variables = Record<string, unknown>;

const quarters = [
  ['2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z'],
  ['2026-04-01T00:00:00Z', '2026-07-01T00:00:00Z'],
  ['2026-07-01T00:00:00Z', '2026-10-01T00:00:00Z'],
  ['2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z'],
] as const;
const currencies = ['EUR', 'USD', 'GBP'] as const;
// 10,000.00 to 75,000.00 in minor units: the range answers hold from a tenth to most of a currency's payouts.
const thresholds = ['1000000', '2500000', '5000000', '7500000'] as const;
const agreementStatuses = ['active', 'offered', 'cancelled'] as const;

/** A value of `values` for request `n`, spread so that neighbouring requests differ. */
const pick = <Value>(values: readonly Value[], n: number): Value => values[(n * 7 + 3) % values.length] as Value;

/**
 * The common auditor queries: by party, by currency and amount, by status and quarter, by
 * freelancer. Every request draws its filter values (1,000 clients, 2,000 freelancers,
 * three currencies and four thresholds, three statuses and four quarters) from its worker
 * and round, so no answer is asked for twice in a row and no cache can carry the load;
 * the documents are fixed and take variables, as a client application sends them.
 */
const allQueries: readonly { name: string; query: string; variables: (n: number) => Variables; fixed?: true }[] = [
  {
    // What every request costs before any listing (`--queries fixed` only, kept out of the
    // default set so that runs stay comparable): authentication, Express, Yoga, the read log.
    name: 'fixed cost, { __typename }',
    query: `query { __typename }`,
    variables: () => ({}),
    fixed: true,
  },
  {
    name: 'agreements of one client',
    query: `query ($party: PartyInput!) { indexedAgreements(filter: { party: $party }, first: 20) { totalCount indexedHeight edges { cursor node { agreementId status } } } }`,
    variables: (n) => ({
      party: { mspId: n % 2 === 0 ? 'ClientOrgMSP' : 'AuditOrgMSP', userId: `client-${String((n * 37) % 1000)}` },
    }),
  },
  {
    name: 'payouts over an amount',
    query: `query ($currency: String!, $min: String!) { indexedPayouts(filter: { currency: $currency, minAmount: $min }, sort: AMOUNT, direction: DESC, first: 20) { totalCount indexedHeight edges { node { instructionId amount status complianceOutcome } } } }`,
    variables: (n) => ({ currency: pick(currencies, n), min: pick(thresholds, Math.floor(n / 3)) }),
  },
  {
    name: 'agreements of a status, quarter',
    query: `query ($status: String!, $from: String!, $to: String!) { indexedAgreements(filter: { status: $status, from: $from, to: $to }, first: 20) { totalCount indexedHeight edges { node { agreementId createdAt } } } }`,
    variables: (n) => {
      const [from, to] = pick(quarters, Math.floor(n / 3));
      return { status: pick(agreementStatuses, n), from, to };
    },
  },
  {
    name: 'milestones of one freelancer',
    query: `query ($party: PartyInput!) { indexedMilestones(filter: { party: $party }, sort: AMOUNT, first: 20) { totalCount indexedHeight edges { node { agreementId amount currency status } } } }`,
    variables: (n) => ({ party: { mspId: 'TalentOrgMSP', userId: `talent-${String((n * 53) % 2000)}` } }),
  },
];

const chosen = flag('queries')?.split(',');
const queries = allQueries.filter(({ name, fixed }) =>
  chosen === undefined ? fixed !== true : chosen.some((word) => name.startsWith(word)),
);

/** The API process of one checkout, driven over IPC. */
class ApiProcess {
  readonly #child: ChildProcess;
  readonly #waiting: ((reply: ServerReply) => void)[] = [];
  url = '';
  token = '';
  loadSeconds = 0;
  agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: ServerReply) => this.#waiting.shift()?.(reply));
  }

  /** @param args after the size: the worker count, the data directory, `reuse` (see audit-index-server.ts). */
  static async start(script: string, size: number, args: readonly string[] = []): Promise<ApiProcess> {
    const child = fork(script, [String(size), ...args], {
      execArgv: [...process.execArgv, ...apiNodeFlags],
      // As deployed (the image sets it) and as the other benchmarks run the API: in
      // development mode GraphQL's type checks take a slower path on every value.
      env: { ...process.env, NODE_ENV: 'production', CORE_CHAINCODE_LOGGING_LEVEL: 'warning' },
    });
    const api = new ApiProcess(child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => {
        reject(new Error(`the API process ${script} exited with ${String(code)}`));
      }),
    );
    const ready = await Promise.race([api.#next(), exited]);
    if (ready.kind !== 'ready') throw new Error(`the API process answered ${ready.kind} before it was ready`);
    api.url = ready.url;
    api.token = ready.token;
    api.loadSeconds = ready.loadSeconds;
    return api;
  }

  #next(): Promise<ServerReply> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async ask(command: ServerCommand): Promise<ServerReply | undefined> {
    const expectsReply = command.kind === 'cpu' || command.kind === 'profile-stop';
    const reply = expectsReply ? this.#next() : undefined;
    this.#child.send(command);
    return reply;
  }

  /**
   * Closes the kept connections and opens `count` new ones (one `/healthz` each, all at
   * once, untimed), so that a level measures requests, not connection set-up. Node
   * accepts one connection per turn of its event loop (libuv 1.45, "don't accept()
   * connections in a loop"), and a turn of a saturated API serves every ready request
   * first: connections opened while the API is saturated waited in the accept queue
   * about 200 ms per queued connection (52 queued took 4 s), which made every level's
   * p99 from 32 in flight up the set-up time of its own connections.
   */
  async freshConnections(count: number): Promise<void> {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
    await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<void>((resolve, reject) => {
            http
              .get(`${this.url}/healthz`, { agent: this.agent }, (response) => {
                response.resume();
                response.on('end', resolve);
              })
              .on('error', reject);
          }),
      ),
    );
  }

  async cpuMs(): Promise<number> {
    const reply = await this.ask({ kind: 'cpu' });
    if (reply?.kind !== 'cpu') throw new Error('the API process did not report its CPU time');
    return reply.ms;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.send({ kind: 'stop' } satisfies ServerCommand);
    await exited;
    this.agent.destroy();
  }
}

/**
 * The load generator's HTTP client: node:http over kept-alive connections, one per
 * request in flight (`--client http`, the default), or `fetch` (`--client fetch`), to
 * measure what the client itself costs: its CPU counts on a machine whose other core
 * is the API's. Each level opens its connections afresh, before its clock starts
 * (`ApiProcess.freshConnections`):
 * a connection left idle while the other checkout's level runs would outlive the server's
 * keep-alive timeout (5 s), and the next request on it would meet a reset.
 */
const client = flag('client') ?? 'http';
if (client !== 'http' && client !== 'fetch') throw new Error('--client must be http or fetch');

async function postGraphql(
  api: ApiProcess,
  query: string,
  variables: Variables,
): Promise<{ status: number; text: string }> {
  const body = JSON.stringify({ query, variables });
  if (client === 'fetch') {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, text: await response.text() };
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${api.url}/graphql`,
      {
        method: 'POST',
        agent: api.agent,
        headers: {
          authorization: `Bearer ${api.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Request number `round` of worker `worker`, spread over the filter values. */
const requestNumber = (worker: number, round: number) => round * 257 + worker;

/** One query sent by an auditor; refusals, GraphQL errors and HTTP errors count as failures. */
function queryWorkload(api: ApiProcess, spec: (typeof queries)[number]): Workload {
  return async (timer, worker, round) => {
    await timer.call(0, async () => {
      const { status, text } = await postGraphql(api, spec.query, spec.variables(requestNumber(worker, round)));
      const body = JSON.parse(text) as { errors?: unknown };
      if (status !== 200 || body.errors !== undefined) throw new Error(`answered ${String(status)} ${text}`);
    });
  };
}

interface Figure extends LevelFigures {
  readonly size: number;
  readonly checkout: string;
  readonly query: string;
  /** The API process's CPU time per answered request, in ms. */
  readonly cpuPerRequest: number;
  /** This process's (the load generator's) CPU time per answered request, in ms. */
  readonly loadCpuPerRequest: number;
}

async function level(api: ApiProcess, workload: Workload, inFlight: number) {
  await api.freshConnections(inFlight);
  let cpuBefore = 0;
  let apiCpu = 0;
  let ownBefore = process.cpuUsage();
  let own = process.cpuUsage(ownBefore);
  const figures = await runLevel(workload, inFlight, seconds, {
    async opened() {
      ownBefore = process.cpuUsage();
      cpuBefore = await api.cpuMs();
    },
    async closed() {
      own = process.cpuUsage(ownBefore);
      apiCpu = (await api.cpuMs()) - cpuBefore;
    },
  });
  const requests = Math.max(1, figures.calls + figures.callsFailed);
  return { ...figures, cpuPerRequest: apiCpu / requests, loadCpuPerRequest: (own.user + own.system) / 1000 / requests };
}

function line(figure: Figure): string {
  const failures = [...figure.failures].map(([kind, count]) => `${String(count)}× ${kind}`).join('; ');
  return (
    `  ${String(figure.size).padStart(6)} ${figure.checkout.padEnd(8)} ${figure.query.padEnd(30)} c=${String(figure.inFlight).padStart(3)}  ` +
    `${figure.throughput.toFixed(0).padStart(5)} req/s  p50 ${figure.p50.toFixed(1).padStart(6)} ms  p99 ${figure.p99.toFixed(1).padStart(6)} ms  ` +
    `cpu ${figure.cpuPerRequest.toFixed(2)} ms/req (load generator ${figure.loadCpuPerRequest.toFixed(2)})  ${String(failureCount(figure))} failed${failures === '' ? '' : ` (${failures.slice(0, 300)})`}`
  );
}

async function profile(api: ApiProcess, label: string, size: number): Promise<void> {
  const file = path.join(os.tmpdir(), `audit-index-${label}-${String(size)}.cpuprofile`);
  const workloads = queries.map((spec) => queryWorkload(api, spec));
  const mixed: Workload = async (timer, worker, round) => {
    await workloads[(worker + round) % workloads.length]?.(timer, worker, round);
  };
  await api.freshConnections(32);
  let cpuBefore = 0;
  let cpu = 0;
  let reply: Awaited<ReturnType<ApiProcess['ask']>>;
  const figures = await runLevel(mixed, 32, seconds * 2, {
    async opened() {
      await api.ask({ kind: 'profile-start' });
      cpuBefore = await api.cpuMs();
    },
    async closed() {
      cpu = (await api.cpuMs()) - cpuBefore;
      reply = await api.ask({ kind: 'profile-stop', file });
    },
  });
  if (reply?.kind !== 'profile') throw new Error('the API process did not return its profile');
  log(
    `Profile of the ${label} API at ${String(size)} agreements, mixed queries at 32 in flight: ${String(figures.calls)} requests, ` +
      `${figures.throughput.toFixed(0)} req/s, ${String(failureCount(figures))} failed; process CPU ${(cpu / figures.calls).toFixed(2)} ms/req, ` +
      `main thread busy ${(reply.busyMs / figures.calls).toFixed(2)} ms/req; written to ${file}`,
  );
  for (const { where, selfMs } of reply.top) {
    log(
      `    ${((selfMs / reply.busyMs) * 100).toFixed(1).padStart(5)}%  ${(selfMs / figures.calls).toFixed(3)} ms/req  ${where}`,
    );
  }
}

/**
 * This checkout's server script, copied into another built checkout so that it loads
 * that checkout's API with the same agreements and the same grants.
 */
function baselineScript(checkout: string): string {
  const own = fileURLToPath(new URL('./audit-index-server.js', import.meta.url));
  const theirs = path.join(checkout, 'bench', 'dist', 'audit-index-server.compared.js');
  copyFileSync(own, theirs);
  return theirs;
}

/** How many rows the query's listing says the auditor may see, from one answer. */
async function visibleTotal(api: ApiProcess, spec: (typeof queries)[number], n: number): Promise<string> {
  const { text } = await postGraphql(api, spec.query, spec.variables(n));
  const body = JSON.parse(text) as { data?: Record<string, { totalCount?: number } | null> };
  return Object.values(body.data ?? {})
    .map((listing) => String(listing?.totalCount))
    .join(', ');
}

/** How a label names this checkout's API with `workers` HTTP workers. */
const workersLabel = (workers: number): string => (workerCounts.length === 1 ? 'this' : `${String(workers)}w`);

async function measure(size: number): Promise<Figure[]> {
  const own = fileURLToPath(new URL('./audit-index-server.js', import.meta.url));
  // Every API of this checkout reads the agreements the first one loaded (loading 100k takes minutes on a busy machine).
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bench-index-'));
  const checkouts: [string, string, string[]][] = workerCounts.map((workers, position) => [
    workersLabel(workers),
    own,
    [String(workers), dataDir, position === 0 ? 'load' : 'reuse'],
  ]);
  if (baselineCheckout !== undefined) {
    checkouts.unshift(['baseline', baselineScript(baselineCheckout), [String(baselineWorkers)]]);
  }
  const apis: [string, ApiProcess][] = [];
  try {
    for (const [label, script, args] of checkouts) {
      const api = await ApiProcess.start(script, size, args);
      apis.push([label, api]);
      log(
        args.includes('reuse')
          ? `${String(size)} agreements: the ${label} API reads the database the first one loaded`
          : `${String(size)} agreements indexed through BlockIndexer by the ${label} API in ${api.loadSeconds.toFixed(1)} s ` +
              `(${Math.round(size / api.loadSeconds).toString()} agreements/s)`,
      );
    }
    const figures: Figure[] = [];
    for (const spec of queries) {
      const { name } = spec;
      const state = apis.map(([label, api]) => ({
        label,
        api,
        workload: queryWorkload(api, spec),
        best: 0,
        flat: 0,
      }));
      for (const { workload } of state) await runLevel(workload, 8, 1);
      for (const { label, api } of spec.fixed === true ? [] : state) {
        const totals = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => visibleTotal(api, spec, n)));
        log(`  ${name}: the ${label} API answers totalCount ${totals.join(', ')} for the first six requests' values`);
      }
      for (const inFlight of concurrencies) {
        // Levels of the checkouts in turn, so both see the same load from elsewhere.
        for (const entry of state) {
          if (entry.flat >= 2) continue;
          const measured = await level(entry.api, entry.workload, inFlight);
          const figure: Figure = { ...measured, size, checkout: entry.label, query: name };
          figures.push(figure);
          log(line(figure));
          entry.flat = figure.throughput > entry.best * 1.05 ? 0 : entry.flat + 1;
          entry.best = Math.max(entry.best, figure.throughput);
        }
        if (state.every((entry) => entry.flat >= 2)) break;
      }
    }
    // The profile is of one process's main thread: of an API cluster it would show the primary only.
    if (profiling)
      for (const [label, api] of apis)
        if (label === 'this' || label === '1w' || label === 'baseline') await profile(api, label, size);
    return figures;
  } finally {
    for (const [, api] of apis) await api.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function summary(figures: readonly Figure[]): void {
  log(
    `Per query: the highest throughput, and the highest with p99 <= ${String(targetP99)} ms (target ${String(targetPerSecond)} req/s):`,
  );
  for (const size of sizes) {
    for (const { name } of queries) {
      for (const checkout of ['baseline', ...workerCounts.map(workersLabel)]) {
        const mine = figures.filter((f) => f.size === size && f.query === name && f.checkout === checkout);
        if (mine.length === 0) continue;
        const best = mine.reduce((a, b) => (b.throughput > a.throughput ? b : a));
        const within = mine.filter((f) => f.p99 <= targetP99);
        const bestWithin =
          within.length === 0 ? undefined : within.reduce((a, b) => (b.throughput > a.throughput ? b : a));
        const failed = mine.reduce((total, f) => total + failureCount(f), 0);
        log(
          `  ${String(size).padStart(6)} ${checkout.padEnd(8)} ${name.padEnd(30)} max ${best.throughput.toFixed(0).padStart(5)} req/s at c=${String(best.inFlight)} ` +
            `(p99 ${best.p99.toFixed(1)} ms); within p99: ${bestWithin === undefined ? 'none' : `${bestWithin.throughput.toFixed(0)} req/s at c=${String(bestWithin.inFlight)}`}; ` +
            `cpu ${best.cpuPerRequest.toFixed(2)} ms/req; ${String(failed)} failed in all levels`,
        );
      }
    }
  }
  const [small, large] = sizes;
  if (small === undefined || large === undefined) return;
  log(`Growth from ${String(small)} to ${String(large)} agreements (same query, checkout and concurrency):`);
  for (const figure of figures.filter((candidate) => candidate.size === large)) {
    const before = figures.find(
      (candidate) =>
        candidate.size === small &&
        candidate.query === figure.query &&
        candidate.checkout === figure.checkout &&
        candidate.inFlight === figure.inFlight,
    );
    if (before === undefined) continue;
    log(
      `  ${figure.checkout.padEnd(8)} ${figure.query.padEnd(30)} c=${String(figure.inFlight).padStart(3)}  p50 x${(figure.p50 / before.p50).toFixed(2)}  ` +
        `p99 x${(figure.p99 / before.p99).toFixed(2)}  req/s x${(figure.throughput / before.throughput).toFixed(2)}  cpu/req x${(figure.cpuPerRequest / before.cpuPerRequest).toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  log(
    `Audit index GraphQL queries, ${machineDescription()}, load average ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}, ${String(seconds)} s per level`,
  );
  const figures: Figure[] = [];
  for (const size of sizes) figures.push(...(await measure(size)));
  summary(figures);
  const failed = figures.reduce((total, f) => total + failureCount(f), 0);
  log(
    `Failed requests in all: ${String(failed)}; load average now ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  if (failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
