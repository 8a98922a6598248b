/**
 * What the API's audit index costs per business transaction when only its own work is
 * measured: blocks shaped like the L2 workload of `layers.ts` (20 transactions each: two
 * drafts, sixteen milestone changes of which four carry a payout, two credentials; six
 * keys read per transaction besides those written), written through the BlockIndexer
 * into SQLite, with the process's CPU time (user + system, `process.cpuUsage`) and the
 * wall time per transaction. No network: on the shared machine the full-stack figure of
 * the API moves by more than the index costs.
 *
 * Usage: node bench/dist/layers-indexing.js [--blocks 300] [--rounds 4]
 *   [--baseline <other checkout>/api/dist/audit-index/index.js]
 * With a baseline, the two builds run in turn each round, each on a fresh database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BlockTransaction } from '@gigledger/gateway';
import { log, machineDescription, option } from './bench-network.js';
import { loadAverage } from './levers.js';

type AuditIndex = typeof import('@gigledger/api/audit-index');

const transactionsPerBlock = 20;
const warmUpBlocks = 20;

function blocksOf(index: AuditIndex, count: number) {
  const client = { mspId: 'ClientOrgMSP', userId: 'client' };
  const freelancer = { mspId: 'TalentOrgMSP', userId: 'freelancer' };
  const issuer = { mspId: 'AuditOrgMSP', userId: 'issuer' };
  const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return Array.from({ length: count }, (_, block) => {
    const transactions = Array.from({ length: transactionsPerBlock }, (_, position): BlockTransaction => {
      const n = block * transactionsPerBlock + position;
      const txId = `tx-${String(n)}`;
      const agreement = (agreementId: string) => ({ agreementId, client, freelancer, at: at(n), txId });
      const writes: [string, unknown][] =
        block === 0 || position < 2
          ? index.agreementWrites(agreement(`A-${String(block)}-${String(position)}`))
          : position < 18
            ? [
                [
                  index.compositeKey('milestone', [`A-${String(block - 1)}-${String(position % 2)}`, 'm1']),
                  index.milestoneRecord({
                    ...agreement(`A-${String(block - 1)}-${String(position % 2)}`),
                    milestoneStatus: 'released',
                    ...(position % 4 === 0 ? { payout: 'pending' as const } : {}),
                  }),
                ],
              ]
            : [
                [
                  index.compositeKey('credential', [`C-${String(n)}`]),
                  index.credentialRecord({
                    credentialId: `C-${String(n)}`,
                    issuer,
                    subject: freelancer,
                    at: at(n),
                    txId,
                  }),
                ],
              ];
      const transaction = index.syntheticTransaction(position, txId, writes, { fn: 'agreement:releaseMilestone' });
      const reads = Array.from({ length: 6 }, (_, k) => ({
        namespace: 'gigledger',
        key: `\u0000parameter\u0000k${String(k)}\u0000`,
        access: 'read' as const,
      }));
      return { ...transaction, keys: [...transaction.keys, ...reads] };
    });
    return index.syntheticBlock(BigInt(block), transactions);
  });
}

async function measure(index: AuditIndex, blocks: number): Promise<{ cpuMs: number; wallMs: number }> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'gl-bench-indexing-'));
  const db = await index.openDatabase({ kind: 'sqlite', file: path.join(directory, 'index.sqlite') });
  try {
    const indexer = new index.BlockIndexer(db, { chaincode: 'gigledger' });
    const chain = blocksOf(index, blocks + warmUpBlocks);
    for (const block of chain.slice(0, warmUpBlocks)) await indexer.index(block);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    for (const block of chain.slice(warmUpBlocks)) await indexer.index(block);
    const used = process.cpuUsage(cpu);
    const transactions = blocks * transactionsPerBlock;
    return {
      cpuMs: (used.user + used.system) / 1000 / transactions,
      wallMs: (performance.now() - wall) / transactions,
    };
  } finally {
    await db.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const blocks = option('blocks', 300);
  const rounds = option('rounds', 4);
  const baselineIndex = process.argv.indexOf('--baseline');
  const builds: [string, AuditIndex][] = [['this build', await import('@gigledger/api/audit-index')]];
  const baselinePath = baselineIndex >= 0 ? process.argv[baselineIndex + 1] : undefined;
  if (baselinePath !== undefined) {
    builds.push(['baseline', (await import(pathToFileURL(path.resolve(baselinePath)).href)) as AuditIndex]);
  }
  log(
    `machine: ${machineDescription()}; ${String(blocks)} blocks of ${String(transactionsPerBlock)} transactions per round`,
  );
  for (let round = 1; round <= rounds; round += 1) {
    for (const [name, index] of [...builds].reverse()) {
      const { cpuMs, wallMs } = await measure(index, blocks);
      log(
        `round ${String(round)} ${name.padEnd(10)} ${cpuMs.toFixed(3)} ms CPU and ${wallMs.toFixed(3)} ms wall per transaction; load average ${loadAverage()}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
