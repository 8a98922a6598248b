/**
 * The same agreement workload through the HTTP API and directly through the gateway
 * library, in one run on one network: the API's throughput as a ratio of the direct
 * path, and each path's latency per operation.
 *
 * One agreement's workload is nine calls: draft, read terms, accept, fund, confirm
 * funding, deliver, accept, release, confirm payment (eight of them committed
 * transactions). Agreements run `--concurrency` at a time.
 *
 * Usage: npm run bench:api [-- --agreements 20 --concurrency 10]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseApiConfig } from '@gigledger/api/config';
import { startApiServer } from '@gigledger/api/server';
import type { LedgerSession } from '@gigledger/gateway';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { log, machineDescription, openBenchNetwork, option, percentile, withConcurrency } from './bench-network.js';
import { benchRequestId, milestoneDraft } from './bench-agreements.js';
import { apiPeople, callApi } from './bench-api.js';

/** One way of performing the workload's nine steps for one agreement. */
interface Path {
  readonly name: string;
  run(agreementId: string, time: <T>(call: () => Promise<T>) => Promise<T>): Promise<void>;
}

function draftBody(
  agreementId: string,
  client: { mspId: string; userId: string },
  freelancer: { mspId: string; userId: string },
) {
  return {
    requestId: benchRequestId(),
    agreementId,
    title: 'Annotate 5k clips',
    client,
    freelancer,
    milestones: [milestoneDraft()],
  };
}

function gatewayPath(
  client: LedgerSession,
  freelancer: LedgerSession,
  settlement: LedgerSession,
  parties: Parties,
): Path {
  return {
    name: 'gateway library',
    async run(agreementId, time) {
      const milestone = { agreementId, milestoneId: 'm1' };
      await time(() =>
        client.agreements.draftAgreement(draftBody(agreementId, parties.client, parties.freelancer), {
          transient: { terms: { scope: `annotation work ${agreementId}`, salt: randomBytes(16).toString('hex') } },
        }),
      );
      const terms = await time(() => freelancer.agreements.getTerms({ agreementId }));
      await time(() => freelancer.agreements.acceptAgreement({ agreementId, termsSha256: terms.termsSha256 }));
      const funded = await time(() => client.agreements.fundMilestone({ requestId: benchRequestId(), ...milestone }));
      await time(() => settlement.agreements.confirmSettlement(confirmation(milestone, funded.result)));
      await time(() =>
        freelancer.agreements.submitDeliverable({
          requestId: benchRequestId(),
          ...milestone,
          artifactSha256: randomBytes(32).toString('hex'),
          uri: `https://data.example.com/${agreementId}.zip`,
        }),
      );
      await time(() => client.agreements.acceptMilestone(milestone));
      const released = await time(() =>
        client.agreements.releaseMilestone({ requestId: benchRequestId(), ...milestone }),
      );
      await time(() => settlement.agreements.confirmSettlement(confirmation(milestone, released.result)));
    },
  };
}

function confirmation(milestone: { agreementId: string; milestoneId: string }, record: MilestoneRecord) {
  const pending = record.instructions.find((instruction) => instruction.status === 'pending');
  if (pending === undefined) throw new Error(`no pending instruction on ${milestone.agreementId}`);
  return {
    requestId: benchRequestId(),
    ...milestone,
    instructionId: pending.instructionId,
    outcome: 'paid' as const,
    providerReference: `ref-${pending.instructionId.replaceAll('/', '-')}`,
  };
}

interface Parties {
  client: { mspId: string; userId: string };
  freelancer: { mspId: string; userId: string };
}

function apiPath(
  url: string,
  tokens: { client: string; freelancer: string; settlement: string },
  parties: Parties,
): Path {
  const call = <T>(token: string, method: string, pathname: string, body?: unknown): Promise<T> =>
    callApi<T>(url, token, method, pathname, body);
  return {
    name: 'REST API',
    async run(agreementId, time) {
      const base = `/v1/agreements/${agreementId}`;
      const milestone = `${base}/milestones/m1`;
      await time(() =>
        call(tokens.client, 'POST', '/v1/agreements', {
          ...draftBody(agreementId, parties.client, parties.freelancer),
          terms: { scope: `annotation work ${agreementId}` },
        }),
      );
      const terms = await time(() => call<{ termsSha256: string }>(tokens.freelancer, 'GET', `${base}/terms`));
      await time(() => call(tokens.freelancer, 'POST', `${base}/accept`, { termsSha256: terms.termsSha256 }));
      const funded = await time(() =>
        call<{ result: MilestoneRecord }>(tokens.client, 'POST', `${milestone}/fund`, {}),
      );
      const { instructionId, providerReference } = confirmation({ agreementId, milestoneId: 'm1' }, funded.result);
      await time(() =>
        call(tokens.settlement, 'POST', `${milestone}/settlement-confirmations`, {
          instructionId,
          outcome: 'paid',
          providerReference,
        }),
      );
      await time(() =>
        call(tokens.freelancer, 'POST', `${milestone}/deliverables`, {
          artifactSha256: randomBytes(32).toString('hex'),
          uri: `https://data.example.com/${agreementId}.zip`,
        }),
      );
      await time(() => call(tokens.client, 'POST', `${milestone}/accept`, {}));
      const released = await time(() =>
        call<{ result: MilestoneRecord }>(tokens.client, 'POST', `${milestone}/release`, {}),
      );
      const payout = confirmation({ agreementId, milestoneId: 'm1' }, released.result);
      await time(() =>
        call(tokens.settlement, 'POST', `${milestone}/settlement-confirmations`, {
          instructionId: payout.instructionId,
          outcome: 'paid',
          providerReference: payout.providerReference,
        }),
      );
    },
  };
}

async function measure(path: Path, agreementIds: string[], concurrency: number) {
  const latencies: number[] = [];
  const time = async <T>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await call();
    latencies.push(performance.now() - started);
    return value;
  };
  const started = performance.now();
  await withConcurrency(
    concurrency,
    agreementIds.map((agreementId) => () => path.run(agreementId, time)),
  );
  const seconds = (performance.now() - started) / 1000;
  return { name: path.name, calls: latencies.length, seconds, throughput: latencies.length / seconds, latencies };
}

async function main(): Promise<void> {
  const agreements = option('agreements', 20);
  const concurrency = option('concurrency', 10);
  log(`machine: ${machineDescription()}`);
  const bench = await openBenchNetwork(log);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bench-api-'));
  const server = await startApiServer(
    parseApiConfig({
      GIGLEDGER_CONNECTION_PROFILE: bench.config.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      RATE_LIMIT_PER_MINUTE: '1000000',
    }),
  );
  try {
    const run = randomBytes(3).toString('hex');
    // Direct path: identities enrolled from the CAs, sessions over the gateway library.
    const client = await bench.enroll('ClientOrg', 'client', 'bc');
    const freelancer = await bench.enroll('TalentOrg', 'freelancer', 'bf');
    const settlement = await bench.enroll('ClientOrg', 'settlement', 'bs');
    const apiParties = { client: `ac-${run}`, freelancer: `af-${run}`, settlement: `as-${run}` };
    await bench.grantKyc([
      { mspId: 'TalentOrgMSP', userId: freelancer.userId },
      { mspId: 'TalentOrgMSP', userId: apiParties.freelancer },
    ]);
    const direct = gatewayPath(client.session, freelancer.session, settlement.session, {
      client: { mspId: 'ClientOrgMSP', userId: client.userId },
      freelancer: { mspId: 'TalentOrgMSP', userId: freelancer.userId },
    });

    // API path: people created through the admin API, logged in with passwords.
    const person = apiPeople(server.url, dataDir);
    const overApi = apiPath(
      server.url,
      {
        client: await person(apiParties.client, 'ClientOrg', 'client'),
        freelancer: await person(apiParties.freelancer, 'TalentOrg', 'freelancer'),
        settlement: await person(apiParties.settlement, 'ClientOrg', 'settlement'),
      },
      {
        client: { mspId: 'ClientOrgMSP', userId: apiParties.client },
        freelancer: { mspId: 'TalentOrgMSP', userId: apiParties.freelancer },
      },
    );

    const ids = (prefix: string) => Array.from({ length: agreements }, (_, index) => `${prefix}-${run}-${index}`);
    // A short warm-up on each path so neither pays for first connections and JIT alone.
    await measure(direct, ids('WG').slice(0, 2), 2);
    await measure(overApi, ids('WA').slice(0, 2), 2);
    const directResult = await measure(direct, ids('G'), concurrency);
    const apiResult = await measure(overApi, ids('A'), concurrency);

    log('');
    log(`${agreements} agreements per path, ${concurrency} at a time, 9 calls each (8 committed transactions)`);
    for (const result of [directResult, apiResult]) {
      log(
        `${result.name.padEnd(16)} ${result.calls} calls in ${result.seconds.toFixed(1)} s: ${result.throughput.toFixed(1)} calls/s, ` +
          `p50 ${percentile(result.latencies, 0.5).toFixed(0)} ms, p99 ${percentile(result.latencies, 0.99).toFixed(0)} ms`,
      );
    }
    log(`API throughput / direct throughput: ${(apiResult.throughput / directResult.throughput).toFixed(2)}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    await bench.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
