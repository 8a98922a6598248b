/**
 * Milestone completions on many agreements at once: each completion is the client's
 * acceptance, the release and the settlement provider's confirmation, three committed
 * transactions. Every agreement owns its keys, so concurrent completions should never
 * meet an MVCC conflict. The same workload run one agreement at a time is the baseline.
 *
 * Usage: npm run bench:agreements [-- --agreements 50 --baseline 15]
 */
import { randomBytes } from 'node:crypto';
import { CommitFailedError } from '@gigledger/gateway';
import { benchRequestId, deliveredAgreement, enrollParties, type BenchParties } from './bench-agreements.js';
import { log, machineDescription, openBenchNetwork, option, percentile, withConcurrency } from './bench-network.js';

interface PhaseResult {
  readonly agreements: number;
  readonly transactions: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  mvccConflicts: number;
  readonly otherFailures: string[];
}

/** Drafts, accepts, funds and delivers one single-milestone agreement: ready for completion. */
function prepareAgreement(parties: BenchParties, agreementId: string): Promise<void> {
  return deliveredAgreement(parties, agreementId, {
    title: 'Label 10k images',
    milestoneTitle: 'Labelled set',
    amount: '50000',
    currency: 'USD',
    acceptanceCriteria: 'inter-annotator agreement above 0.9',
    scope: `labelling work for ${agreementId}`,
    artifactUri: `https://data.example.com/${agreementId}.tar`,
  });
}

/** Accept, release, confirm payment: the three transactions of one completion. */
async function complete(parties: BenchParties, agreementId: string, result: PhaseResult): Promise<void> {
  const milestone = { agreementId, milestoneId: 'm1' };
  const timed = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    try {
      const value = await call();
      result.latenciesMs.push(performance.now() - started);
      return value;
    } catch (error) {
      if (
        error instanceof CommitFailedError &&
        (error.validationCode === 'MVCC_READ_CONFLICT' || error.validationCode === 'PHANTOM_READ_CONFLICT')
      ) {
        result.mvccConflicts += 1;
      } else {
        result.otherFailures.push(`${agreementId}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return undefined;
    }
  };
  // Conflicts are what this measures, so the client library must not retry them away.
  const once = { conflictRetries: 0 };
  if ((await timed(() => parties.client.agreements.acceptMilestone(milestone, once))) === undefined) return;
  const released = await timed(() =>
    parties.client.agreements.releaseMilestone({ requestId: benchRequestId(), ...milestone }, once),
  );
  const release = released?.result.instructions.find((instruction) => instruction.kind === 'release');
  if (release === undefined) return;
  await timed(() =>
    parties.settlement.agreements.confirmSettlement(
      {
        requestId: benchRequestId(),
        ...milestone,
        instructionId: release.instructionId,
        outcome: 'paid',
        providerReference: `pay-${agreementId}`,
      },
      once,
    ),
  );
}

async function runPhase(parties: BenchParties, agreementIds: string[], concurrency: number): Promise<PhaseResult> {
  const result: PhaseResult = {
    agreements: agreementIds.length,
    transactions: agreementIds.length * 3,
    seconds: 0,
    latenciesMs: [],
    mvccConflicts: 0,
    otherFailures: [],
  };
  const started = performance.now();
  await withConcurrency(
    concurrency,
    agreementIds.map((agreementId) => () => complete(parties, agreementId, result)),
  );
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

function describe(label: string, phase: PhaseResult): string {
  const committed = phase.latenciesMs.length;
  return [
    `${label}: ${phase.agreements} agreements, ${committed}/${phase.transactions} transactions committed in ${phase.seconds.toFixed(1)} s`,
    `  throughput ${(committed / phase.seconds).toFixed(1)} tx/s, ${(phase.agreements / phase.seconds).toFixed(2)} completions/s`,
    `  latency p50 ${percentile(phase.latenciesMs, 0.5).toFixed(0)} ms, p99 ${percentile(phase.latenciesMs, 0.99).toFixed(0)} ms`,
    `  MVCC conflicts ${phase.mvccConflicts}, other failures ${phase.otherFailures.length}`,
    ...phase.otherFailures.slice(0, 5).map((failure) => `    ${failure}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const concurrent = option('agreements', 50);
  const baseline = option('baseline', 15);
  log(`machine: ${machineDescription()}`);
  const bench = await openBenchNetwork(log);
  try {
    const parties = await enrollParties(bench, {
      client: 'bench-client',
      freelancer: 'bench-talent',
      settlement: 'bench-psp',
    });
    await bench.grantKyc([{ mspId: 'TalentOrgMSP', userId: parties.freelancerId }]);
    const run = randomBytes(3).toString('hex');
    const ids = (prefix: string, count: number): string[] =>
      Array.from({ length: count }, (_, index) => `${prefix}-${run}-${index}`);
    const concurrentIds = ids('C', concurrent);
    const baselineIds = ids('S', baseline);

    const prepStarted = performance.now();
    await withConcurrency(
      10,
      [...concurrentIds, ...baselineIds].map((agreementId) => () => prepareAgreement(parties, agreementId)),
    );
    log(`prepared ${concurrent + baseline} agreements in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s`);

    const sequential = await runPhase(parties, baselineIds, 1);
    const parallel = await runPhase(parties, concurrentIds, concurrent);
    log('');
    log(describe('baseline, one agreement at a time', sequential));
    log(describe(`concurrent, ${concurrent} agreements at once`, parallel));
    const ratio = parallel.latenciesMs.length / parallel.seconds / (sequential.latenciesMs.length / sequential.seconds);
    log(`concurrent / baseline throughput: ${ratio.toFixed(2)}x`);
    if (parallel.mvccConflicts > 0 || parallel.otherFailures.length > 0) process.exitCode = 1;
  } finally {
    await bench.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
