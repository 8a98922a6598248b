/**
 * Many completions recorded for ONE freelancer at the same time: each is its own
 * ledger record under its own key, and no transaction reads a key another one
 * writes, so all of them should commit with zero MVCC or phantom read conflicts.
 *
 * Usage: npm run bench:reputation [-- --completions 100]
 */
import { randomBytes } from 'node:crypto';
import { CommitFailedError } from '@gigledger/gateway';
import { benchRequestId, deliveredAgreement, enrollParties } from './bench-agreements.js';
import { log, machineDescription, openBenchNetwork, option, percentile, withConcurrency } from './bench-network.js';

async function main(): Promise<void> {
  const completions = option('completions', 100);
  log(`machine: ${machineDescription()}`);
  const bench = await openBenchNetwork(log);
  try {
    const parties = await enrollParties(bench, { client: 'rc', freelancer: 'rf', settlement: 'rs' });
    const run = randomBytes(3).toString('hex');
    const agreementIds = Array.from({ length: completions }, (_, index) => `R-${run}-${index}`);

    // Each agreement is taken to an accepted milestone: what a completion may rate.
    const prepStarted = performance.now();
    await withConcurrency(
      20,
      agreementIds.map((agreementId) => async () => {
        await deliveredAgreement(parties, agreementId, {
          title: 'Feature engineering',
          milestoneTitle: 'Features',
          amount: '30000',
          currency: 'EUR',
          acceptanceCriteria: 'documented features',
          scope: `features for ${agreementId}`,
          artifactUri: `https://data.example.com/${agreementId}.parquet`,
        });
        await parties.client.agreements.acceptMilestone({ agreementId, milestoneId: 'm1' });
      }),
    );
    log(`prepared ${completions} accepted milestones in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s`);

    const latencies: number[] = [];
    let conflicts = 0;
    const failures: string[] = [];
    const started = performance.now();
    await Promise.all(
      agreementIds.map(async (agreementId, index) => {
        const callStarted = performance.now();
        try {
          await parties.client.reputation.recordCompletion(
            { requestId: benchRequestId(), agreementId, milestoneId: 'm1', rating: 1 + (index % 5) },
            // Conflicts are what this measures: no retries.
            { conflictRetries: 0 },
          );
          latencies.push(performance.now() - callStarted);
        } catch (error) {
          if (
            error instanceof CommitFailedError &&
            (error.validationCode === 'MVCC_READ_CONFLICT' || error.validationCode === 'PHANTOM_READ_CONFLICT')
          ) {
            conflicts += 1;
          } else {
            failures.push(`${agreementId}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const score = await parties.client.reputation.reputationOf({ mspId: 'TalentOrgMSP', userId: parties.freelancerId });

    log('');
    log(
      `${completions} concurrent completions for one freelancer: ${latencies.length} committed in ${seconds.toFixed(1)} s`,
    );
    log(
      `  throughput ${(latencies.length / seconds).toFixed(1)} tx/s, p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms`,
    );
    log(`  MVCC/phantom conflicts ${conflicts}, other failures ${failures.length}`);
    for (const failure of failures.slice(0, 5)) log(`    ${failure}`);
    log(`  reputation now rests on ${score.components.completions.count} completions, score ${score.score}`);
    if (conflicts > 0 || failures.length > 0) process.exitCode = 1;
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
