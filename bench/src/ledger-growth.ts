/**
 * How the cost of common commands and reads grows with the ledger: agreements are
 * drafted between other parties until the ledger holds each size in turn (1,000 and
 * 10,000 by default), and at each size it measures, one call at a time so that the
 * figures are latencies rather than queueing:
 *
 * - draftAgreement and acceptAgreement (commands, each a commit),
 * - getAgreement of one of that party's agreements (a point read),
 * - listAgreementsByParty for a party that holds 10 agreements whatever the ledger's
 *   size: its latency must stay flat, since the query reads that party's index only;
 *
 * and each peer's and the chaincode server's resident memory and the peers' ledger size
 * on disk. Nothing is asserted.
 *
 * Usage: npm run bench:growth [-- --sizes 1000,10000,100000 --samples 30 --fill-in-flight 128]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Party } from '@gigledger/chaincode/model';
import { benchRequestId, draftLabellingAgreement } from './bench-agreements.js';
import { log, machineDescription, openBenchNetwork, option, percentile, withConcurrency } from './bench-network.js';
import { networkProcesses } from './process-cpu.js';

const listedAgreements = 10;

function sizesOption(): number[] {
  const index = process.argv.indexOf('--sizes');
  const text = index >= 0 ? (process.argv[index + 1] ?? '') : '1000,10000';
  const sizes = text.split(',').map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size <= 0)) {
    throw new Error('--sizes takes comma-separated positive whole numbers, e.g. 1000,10000');
  }
  return [...sizes].sort((a, b) => a - b);
}

function residentMiB(pid: number): number | undefined {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return undefined;
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, 'utf8'));
  return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
}

function diskMiB(folder: string): number | undefined {
  if (!existsSync(folder)) return undefined;
  const output = execFileSync('du', ['-sk', folder], { encoding: 'utf8' });
  return Number(output.split('\t')[0]) / 1024;
}

/** Milliseconds of each of `samples` calls made one after another. */
async function timed(samples: number, call: (index: number) => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    await call(index);
    durations.push(performance.now() - started);
  }
  return durations;
}

const figure = (durations: readonly number[]): string =>
  `${percentile(durations, 0.5).toFixed(0)} / ${percentile(durations, 0.99).toFixed(0)}`;

async function main(): Promise<void> {
  const sizes = sizesOption();
  const samples = option('samples', 30);
  const fillInFlight = option('fill-in-flight', 128);
  log(`machine: ${machineDescription()}; sizes ${sizes.join(', ')} agreements; ${samples} samples per call`);
  const bench = await openBenchNetwork(log);
  try {
    const filler = {
      client: await bench.enroll('ClientOrg', 'client', 'grow-fc'),
      freelancer: await bench.enroll('TalentOrg', 'freelancer', 'grow-ff'),
    };
    const probe = {
      client: await bench.enroll('ClientOrg', 'client', 'grow-pc'),
      freelancer: await bench.enroll('TalentOrg', 'freelancer', 'grow-pf'),
      lister: await bench.enroll('ClientOrg', 'client', 'grow-lc'),
    };
    const party = (mspId: string, userId: string): Party => ({ mspId, userId });
    const fillerClient = party('ClientOrgMSP', filler.client.userId);
    const fillerFreelancer = party('TalentOrgMSP', filler.freelancer.userId);
    const probeClient = party('ClientOrgMSP', probe.client.userId);
    const probeFreelancer = party('TalentOrgMSP', probe.freelancer.userId);
    const lister = party('ClientOrgMSP', probe.lister.userId);
    const run = benchRequestId().slice(-6);

    const ids: string[] = [];
    for (let index = 0; index < listedAgreements; index += 1) {
      const agreementId = `GROW-${run}-L${index}`;
      await draftLabellingAgreement(probe.lister.session, agreementId, lister, fillerFreelancer);
      ids.push(agreementId);
    }
    const rows: string[] = [];
    let probeCount = 0;
    for (const size of sizes) {
      const missing = Math.max(0, size - ids.length);
      const started = Date.now();
      const fresh = Array.from({ length: missing }, (_, index) => `GROW-${run}-F${ids.length + index}`);
      const failures = new Map<string, number>();
      await withConcurrency(
        fillInFlight,
        fresh.map((agreementId) => async () => {
          try {
            await draftLabellingAgreement(filler.client.session, agreementId, fillerClient, fillerFreelancer);
            ids.push(agreementId);
          } catch (error) {
            const reason = (error instanceof Error ? error.message : String(error))
              .split('\n', 1)
              .join('')
              .slice(0, 200);
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
          }
        }),
      );
      const fillSeconds = (Date.now() - started) / 1000;
      log(
        `${ids.length} agreements in the ledger: ${missing} drafted in ${fillSeconds.toFixed(0)} s ` +
          `(${(missing / fillSeconds).toFixed(1)} tx/s at ${fillInFlight} in flight, ` +
          `${[...failures.values()].reduce((sum, count) => sum + count, 0)} failed)`,
      );
      for (const [reason, count] of failures) log(`  failed ${count} ×: ${reason}`);

      const drafted: string[] = [];
      const draftMs = await timed(samples, async () => {
        probeCount += 1;
        const agreementId = `GROW-${run}-P${probeCount}`;
        await draftLabellingAgreement(probe.client.session, agreementId, probeClient, probeFreelancer);
        drafted.push(agreementId);
      });
      const acceptMs: number[] = [];
      for (const agreementId of drafted) {
        const { termsSha256 } = await probe.freelancer.session.agreements.getTerms({ agreementId });
        const begun = performance.now();
        await probe.freelancer.session.agreements.acceptAgreement({ agreementId, termsSha256 });
        acceptMs.push(performance.now() - begun);
      }
      const readMs = await timed(samples, () =>
        probe.lister.session.agreements.getAgreement({
          agreementId: ids[Math.floor(Math.random() * listedAgreements)] ?? '',
        }),
      );
      let listedCount = 0;
      const listMs = await timed(samples, async () => {
        listedCount = (await probe.lister.session.agreements.listAgreementsByParty(lister)).items.length;
      });
      const processes = networkProcesses(bench.config.home);
      const memory = processes
        .filter((watched) => /^peer|^chaincode/.test(watched.name))
        .map((watched) => `${watched.name} ${(residentMiB(watched.pid) ?? Number.NaN).toFixed(0)}`)
        .join(', ');
      const disk = bench.config.peerOrgs
        .map((org) => `${org.name} ${(diskMiB(path.join(org.peer.dir, 'ledger')) ?? Number.NaN).toFixed(0)}`)
        .join(', ');
      const row =
        `| ${ids.length} | ${figure(draftMs)} | ${figure(acceptMs)} | ${figure(readMs)} | ` +
        `${figure(listMs)} (${listedCount} listed) | ${memory} | ${disk} |`;
      rows.push(row);
      log(row);
    }
    log(`\nSummary (${machineDescription()}; p50 / p99 ms, one call at a time; resident MiB; ledger MiB on disk):`);
    log('| agreements | draft | accept | get one | list a party of 10 | memory (MiB) | ledger on disk (MiB) |');
    log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) log(row);
  } finally {
    await bench.close();
  }
}

await main();
