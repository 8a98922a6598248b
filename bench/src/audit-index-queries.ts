/**
 * Auditors' GraphQL queries on the audit index at 10,000 and 100,000 indexed agreements.
 *
 * The agreements are loaded through the index's own code: decoded blocks of draft
 * transactions (an agreement record and its milestone, a quarter of them with a
 * payout) go through BlockIndexer and the domain indexers into a fresh SQLite
 * database, as blocks from the network would. The API then serves it over HTTP with its
 * real authentication (a bearer token of an auditor), and each common query is sent at
 * rising concurrency: req/s, p50 and p99, and how p50 and p99 grow from 10k to 100k.
 *
 * No Fabric network is needed. Usage: npm run bench:audit-index [-- --requests 2000]
 */
import { performance } from 'node:perf_hooks';
import {
  agreementWrites,
  BlockIndexer,
  syntheticBlock,
  syntheticTransaction,
  type SyntheticAgreement,
} from '@gigledger/api/audit-index';
import { startTestServer } from '@gigledger/api/test-support/test-server';
import { log, machineDescription, option, percentile, withConcurrency } from './bench-network.js';

const sizes = [10_000, 100_000];
const concurrencies = [1, 8, 32, 64];
const requests = option('requests', 2000);
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

/** The common auditor queries: by party, by currency and amount, by status and quarter, by organisation. */
const queries = [
  {
    name: 'agreements of one client',
    query: `{ indexedAgreements(filter: { party: { mspId: "ClientOrgMSP", userId: "client-42" } }, first: 20) { totalCount indexedHeight edges { cursor node { agreementId status } } } }`,
  },
  {
    name: 'EUR payouts over 10,000.00',
    query: `{ indexedPayouts(filter: { currency: "EUR", minAmount: "1000000" }, sort: AMOUNT, direction: DESC, first: 20) { totalCount indexedHeight edges { node { instructionId amount status complianceOutcome } } } }`,
  },
  {
    name: 'active agreements of a quarter',
    query: `{ indexedAgreements(filter: { status: "active", from: "2026-04-01T00:00:00Z", to: "2026-07-01T00:00:00Z" }, first: 20) { totalCount indexedHeight edges { node { agreementId createdAt } } } }`,
  },
  {
    name: 'milestones of one freelancer',
    query: `{ indexedMilestones(filter: { party: { mspId: "TalentOrgMSP", userId: "talent-7" } }, sort: AMOUNT, first: 20) { totalCount indexedHeight edges { node { agreementId amount currency status } } } }`,
  },
];

interface Figure {
  size: number;
  query: string;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function measure(size: number): Promise<Figure[]> {
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '100000000' });
  try {
    const indexer = new BlockIndexer(server.db, { chaincode: 'gigledger' });
    const loadStarted = performance.now();
    for (let first = 0, block = 0n; first < size; first += perBlock, block += 1n) {
      const transactions = Array.from({ length: Math.min(perBlock, size - first) }, (_, position) => {
        const spec = agreement(first + position);
        return syntheticTransaction(position, spec.txId, agreementWrites(spec), { at: spec.at });
      });
      await indexer.index(syntheticBlock(block, transactions));
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    log(
      `${String(size)} agreements indexed through BlockIndexer in ${loadSeconds.toFixed(1)} s (${Math.round(size / loadSeconds).toString()} agreements/s)`,
    );
    const auditor = await server.person('bench-auditor', 'AuditOrg', 'auditor');
    const figures: Figure[] = [];
    for (const { name, query } of queries) {
      const ask = async () => {
        const started = performance.now();
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${auditor.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        const body = (await response.json()) as { errors?: unknown };
        if (!response.ok || body.errors !== undefined) throw new Error(`${name}: ${JSON.stringify(body)}`);
        return performance.now() - started;
      };
      await withConcurrency(
        8,
        Array.from({ length: 50 }, () => ask),
      );
      for (const concurrency of concurrencies) {
        const started = performance.now();
        const latencies = await withConcurrency(
          concurrency,
          Array.from({ length: requests }, () => ask),
        );
        const seconds = (performance.now() - started) / 1000;
        const figure = {
          size,
          query: name,
          concurrency,
          perSecond: requests / seconds,
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
        };
        figures.push(figure);
        log(
          `  ${String(size).padStart(6)}  ${name.padEnd(32)} c=${String(concurrency).padStart(2)}  ${figure.perSecond.toFixed(0).padStart(5)} req/s  p50 ${figure.p50.toFixed(1)} ms  p99 ${figure.p99.toFixed(1)} ms`,
        );
      }
    }
    return figures;
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  log(`Audit index GraphQL queries, ${machineDescription()}, ${String(requests)} requests per level`);
  const figures: Figure[] = [];
  for (const size of sizes) figures.push(...(await measure(size)));
  log('Growth from 10,000 to 100,000 agreements (same query and concurrency):');
  for (const figure of figures.filter((candidate) => candidate.size === sizes[1])) {
    const small = figures.find(
      (candidate) =>
        candidate.size === sizes[0] && candidate.query === figure.query && candidate.concurrency === figure.concurrency,
    );
    if (small === undefined) continue;
    log(
      `  ${figure.query.padEnd(32)} c=${String(figure.concurrency).padStart(2)}  p50 x${(figure.p50 / small.p50).toFixed(2)}  p99 x${(figure.p99 / small.p99).toFixed(2)}  req/s x${(figure.perSecond / small.perSecond).toFixed(2)}`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
