/**
 * What an auditor's proof and a reconciliation cost as the chain grows. The chain is
 * grown to each height by agreements drafted one at a time (about one block each); at
 * each height it measures, in this process:
 *
 * - the proof of the newest draft and of the first one, exported as the API does (the
 *   key-level policies of keys written without being read found through the audit index
 *   where it covers them) and as `npm run proof` does (the peer alone),
 *   median of `--samples` exports each, with the bundle's size and header count;
 * - the settlement reconciliation of the last day: the first call after the growth (reading
 *   the blocks committed since the previous one) and a second call.
 *
 * Usage: npm run bench:height [-- --heights 100,300,1000 --samples 3]
 */
import { randomBytes } from 'node:crypto';
import { indexedHeight } from '@gigledger/api/audit-index';
import { qsccProofExporter, type ProofExporter } from '@gigledger/gateway';
import { draftLabellingAgreement } from './bench-agreements.js';
import { startBenchApiServer } from './bench-api-server.js';
import { listOption, log, machineDescription, openBenchNetwork, option, percentile } from './bench-network.js';

/** Median wall time of `count` exports, with the last bundle's size. */
async function timeExport(
  exporter: ProofExporter,
  transactionId: string,
  count: number,
): Promise<{ ms: number; bytes: number; headers: number }> {
  const times: number[] = [];
  let bytes = 0;
  let headers = 0;
  for (let run = 0; run < count; run += 1) {
    const started = performance.now();
    const bundle = await exporter.exportProof(transactionId);
    times.push(performance.now() - started);
    bytes = JSON.stringify(bundle).length;
    headers = bundle.headers.length;
  }
  return { ms: percentile(times, 0.5), bytes, headers };
}

async function main(): Promise<void> {
  // Read before a network starts, so a bad command line costs nothing.
  const heights = listOption('heights', '100,300,1000');
  const count = option('samples', 3);
  log(`machine: ${machineDescription()}`);
  const bench = await openBenchNetwork(log);
  const api = await startBenchApiServer(bench, 'gl-bench-height');
  const failures: string[] = [];
  try {
    const client = await bench.enroll('ClientOrg', 'client', 'hc');
    const freelancer = await bench.enroll('TalentOrg', 'freelancer', 'hf');
    const clientParty = { mspId: 'ClientOrgMSP', userId: client.userId };
    const freelancerParty = { mspId: 'TalentOrgMSP', userId: freelancer.userId };
    const network = client.session.gateway.getNetwork(bench.config.channel);
    const fromPeer = qsccProofExporter(network, bench.config.chaincode.name);
    const fromApi = api.server.deps.proofs;
    if (fromApi === undefined) throw new Error('the API started without its proof exporter');
    const run = randomBytes(3).toString('hex');
    let drafted = 0;
    let firstDraft: string | undefined;
    let lastDraft = '';
    let height = 0n;
    const rows: string[] = [];
    for (const target of heights) {
      const grow = performance.now();
      while (height < BigInt(target)) {
        const agreementId = `HT-${run}-${String(drafted)}`;
        try {
          const submitted = await draftLabellingAgreement(client.session, agreementId, clientParty, freelancerParty);
          firstDraft ??= submitted.transactionId;
          lastDraft = submitted.transactionId;
          height = submitted.blockNumber + 1n;
        } catch (error) {
          failures.push(`draft ${agreementId}: ${error instanceof Error ? error.message : String(error)}`);
          if (failures.length > 20) throw new Error(failures.join('\n'), { cause: error });
        }
        drafted += 1;
      }
      log(
        `height ${String(height)}: ${String(drafted)} drafts, grown in ${((performance.now() - grow) / 1000).toFixed(0)} s`,
      );
      // Let the API's index reach the newest block, as it does within a block's commit.
      for (let waited = 0; waited < 100; waited += 1) {
        if ((await indexedHeight(api.server.deps.db)) >= height) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const measured: string[] = [];
      for (const [label, transactionId] of [
        ['newest draft', lastDraft],
        ['first draft', firstDraft ?? lastDraft],
      ] as const) {
        const indexed = await timeExport(fromApi, transactionId, count);
        const peerOnly = await timeExport(fromPeer, transactionId, count);
        measured.push(
          `${label}: API ${indexed.ms.toFixed(0)} ms, peer alone ${peerOnly.ms.toFixed(0)} ms (${(indexed.bytes / 1024).toFixed(0)} KiB, ${String(indexed.headers)} headers)`,
        );
      }
      const day = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 60_000) };
      const reconcile = async () => {
        const started = performance.now();
        const report = await api.settlement.reconcile(day.from, day.to);
        return { ms: performance.now() - started, report };
      };
      const first = await reconcile();
      const second = await reconcile();
      rows.push(
        `| ${String(height)} | ${measured.join('; ')} | ${first.ms.toFixed(0)} / ${second.ms.toFixed(0)} ms (${String(first.report.counts.ledger)} instructions) |`,
      );
      log(rows.at(-1) ?? '');
    }
    log('');
    log(`failures: ${String(failures.length)}`);
    for (const failure of failures) log(`  ${failure}`);
    log('| height | proof export (median) | reconciliation after growth / again |');
    log('| --- | --- | --- |');
    for (const row of rows) log(row);
  } finally {
    await api.close();
    await bench.close();
  }
}

await main();
