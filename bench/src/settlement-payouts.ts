/**
 * Releases settled by the settlement service at increasing load: batches of accepted
 * milestones are released at once, and each payout is followed from the release's
 * commit to its `SettlementConfirmed` event (release → outbox → sandbox provider →
 * signed callback → ledger). Reports, per batch size, payouts per second, the outbox
 * lag (p50/p99 release-to-paid), and every failure, until throughput stops rising.
 *
 * Usage: npm run bench:settlement [-- --batches 25,50,100,200,400,800,1600]
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { RefusedError, type LedgerSession } from '@gigledger/gateway';
import { listOption, log, machineDescription, openBenchNetwork, percentile, withConcurrency } from './bench-network.js';
import { benchRequestId, draftLabellingAgreement } from './bench-agreements.js';
import { startBenchApiServer } from './bench-api-server.js';

/**
 * Commands whose endorsing peer has not committed the previous step yet are refused
 * with INVALID_STATE or NOT_FOUND (the cross-organisation read-your-writes gap); they are retried
 * and counted, so the figures say how often it happened.
 */
let lagRetries = 0;
async function afterPeersCatchUp<T>(command: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await command();
    } catch (error) {
      if (!(error instanceof RefusedError && ['INVALID_STATE', 'NOT_FOUND'].includes(error.code)) || attempt >= 10)
        throw error;
      lagRetries += 1;
      await delay(200);
    }
  }
}
async function main(): Promise<void> {
  // Read before a network starts, so a bad command line costs nothing.
  const batches = listOption('batches', '25,50,100,200,400,800,1600');
  log(`machine: ${machineDescription()}`);
  const bench = await openBenchNetwork(log);
  const api = await startBenchApiServer(bench, 'gl-bench-settlement');
  const { server, settlement, sandbox } = api;
  try {
    const client = await bench.enroll('ClientOrg', 'client', 'sc');
    const freelancer = await bench.enroll('TalentOrg', 'freelancer', 'sf');
    const clientParty = { mspId: 'ClientOrgMSP', userId: client.userId };
    const freelancerParty = { mspId: 'TalentOrgMSP', userId: freelancer.userId };
    await settlement.accounts.register(clientParty, {
      kind: 'iban',
      currency: 'EUR',
      holderName: 'Bench client',
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
    });
    await settlement.accounts.register(freelancerParty, {
      kind: 'iban',
      currency: 'EUR',
      holderName: 'Bench freelancer',
      iban: 'NL91ABNA0417164300',
      bic: 'ABNANL2AXXX',
    });
    await bench.grantKyc([freelancerParty]);

    // Every committed SettlementConfirmed event, with when this process saw it.
    const confirmedAt = new Map<string, number>();
    const abort = new AbortController();
    const watching = (async () => {
      for await (const message of server.deps.events.subscribe(abort.signal)) {
        if (message.name !== 'agreement.SettlementConfirmed') continue;
        const instruction = (message.payload as { instruction?: { instructionId?: string; status?: string } })
          .instruction;
        if (instruction?.instructionId !== undefined) confirmedAt.set(instruction.instructionId, performance.now());
      }
    })();

    const run = randomBytes(3).toString('hex');
    const rows: string[] = [];
    let best = 0;
    for (const size of batches) {
      const ids = Array.from({ length: size }, (_, index) => `SB-${run}-${size}-${index}`);
      const failures: string[] = [];
      await withConcurrency(
        25,
        ids.map(
          (agreementId) => () => prepare(client.session, freelancer.session, clientParty, freelancerParty, agreementId),
        ),
      );
      await waitFor(
        ids.map((id) => `${id}/m1/fund-escrow-1`),
        confirmedAt,
        300_000,
        failures,
      );
      await withConcurrency(
        25,
        ids.map((agreementId) => async () => {
          const milestone = { agreementId, milestoneId: 'm1' };
          const delivery = {
            requestId: benchRequestId(),
            ...milestone,
            artifactSha256: randomBytes(32).toString('hex'),
            uri: 'https://artifacts.example.com/bench.bin',
            claimedMetrics: {},
          };
          await afterPeersCatchUp(() => freelancer.session.agreements.submitDeliverable(delivery));
          await afterPeersCatchUp(() => client.session.agreements.acceptMilestone(milestone));
        }),
      );

      const releasedAt = new Map<string, number>();
      const started = performance.now();
      await Promise.all(
        ids.map(async (agreementId) => {
          try {
            await client.session.agreements.releaseMilestone({
              requestId: benchRequestId(),
              agreementId,
              milestoneId: 'm1',
            });
            releasedAt.set(`${agreementId}/m1/release-1`, performance.now());
          } catch (error) {
            failures.push(`release ${agreementId}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
      );
      await waitFor([...releasedAt.keys()], confirmedAt, 300_000, failures);
      const lags = [...releasedAt].flatMap(([id, at]) => {
        const paid = confirmedAt.get(id);
        return paid === undefined ? [] : [paid - at];
      });
      const finished = Math.max(...[...releasedAt.keys()].map((id) => confirmedAt.get(id) ?? 0));
      const seconds = (finished - started) / 1000;
      const throughput = lags.length / seconds;
      const stats = await settlement.service.stats();
      const executedTwice = sandbox
        .payments()
        .filter((payment) => releasedAt.has(payment.instructionId) && payment.executedCount !== 1).length;
      rows.push(
        `| ${size} | ${lags.length} | ${throughput.toFixed(1)} payouts/s | ${percentile(lags, 0.5).toFixed(0)} / ${percentile(lags, 0.99).toFixed(0)} ms | ${failures.length + executedTwice} (dead letters ${stats.byState.dead}, executed twice ${executedTwice}) |`,
      );
      for (const failure of failures.slice(0, 5)) log(`  failure: ${failure}`);
      log(rows.at(-1) ?? '');
      if (throughput <= best * 1.05) {
        log(`throughput stopped rising at ${size} releases per batch`);
        break;
      }
      best = Math.max(best, throughput);
    }
    abort.abort();
    await watching;
    log('');
    log(`commands retried because an endorsing peer lagged behind a commit (INVALID_STATE): ${lagRetries}`);
    log('| releases at once | paid | payout throughput | release → paid p50 / p99 | failures |');
    log('| --- | --- | --- | --- | --- |');
    for (const row of rows) log(row);
  } finally {
    await api.close();
    await bench.close();
  }
}

/** Drafts, accepts and funds one agreement; the settlement service confirms the funding. */
async function prepare(
  client: LedgerSession,
  freelancer: LedgerSession,
  clientParty: { mspId: string; userId: string },
  freelancerParty: { mspId: string; userId: string },
  agreementId: string,
): Promise<void> {
  await draftLabellingAgreement(client, agreementId, clientParty, freelancerParty, {
    title: 'Labels',
    amount: '40000',
    currency: 'EUR',
    acceptanceCriteria: { description: 'agreement above 0.9' },
  });
  const terms = await afterPeersCatchUp(() => freelancer.agreements.getTerms({ agreementId }));
  await afterPeersCatchUp(() => freelancer.agreements.acceptAgreement({ agreementId, termsSha256: terms.termsSha256 }));
  const funding = { requestId: benchRequestId(), agreementId, milestoneId: 'm1' };
  await afterPeersCatchUp(() => client.agreements.fundMilestone(funding));
}

async function waitFor(
  ids: readonly string[],
  seen: Map<string, number>,
  timeoutMs: number,
  failures: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (ids.some((id) => !seen.has(id))) {
    if (Date.now() > deadline) {
      failures.push(
        ...ids.filter((id) => !seen.has(id)).map((id) => `${id} not confirmed within ${timeoutMs / 1000} s`),
      );
      return;
    }
    await delay(100);
  }
}

await main();
