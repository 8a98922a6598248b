/**
 * Lists read from the ledger at saturation: one client holds `--agreements` agreements
 * (700 by default, the size at which an unpaged list under some 30 concurrent callers ran
 * past the peer's execution deadline), and `listAgreementsByParty` is called through the
 * gateway package at rising in-flight counts until throughput stops rising, for the
 * default page (100), the largest (500) and the default filtered by completion, then the
 * whole list is walked page by page.
 * Every failure is counted by kind. Nothing is asserted.
 *
 * Usage: npm run bench:lists [-- --agreements 700 --seconds 10 --levels 1,8,32,64,128]
 */
import { maxPageSize, type Party } from '@gigledger/chaincode/model';
import { benchRequestId, draftLabellingAgreement } from './bench-agreements.js';
import { log, machineDescription, openBenchNetwork, option, withConcurrency } from './bench-network.js';
import { findKnee, formatFailures, type LayerFigures } from './saturation.js';

function levelsOption(): number[] {
  const index = process.argv.indexOf('--levels');
  const text = index >= 0 ? (process.argv[index + 1] ?? '') : '1,8,32,64,128';
  const levels = text.split(',').map(Number);
  if (levels.some((level) => !Number.isInteger(level) || level <= 0)) {
    throw new Error('--levels takes comma-separated positive whole numbers, e.g. 1,8,32');
  }
  return levels;
}

async function main(): Promise<void> {
  const agreements = option('agreements', 700);
  const seconds = option('seconds', 10);
  const levels = levelsOption();
  log(`machine: ${machineDescription()}; ${agreements} agreements of one client; levels ${levels.join(', ')}`);
  const bench = await openBenchNetwork(log);
  try {
    const lister = await bench.enroll('ClientOrg', 'client', 'list-c');
    const freelancer = await bench.enroll('TalentOrg', 'freelancer', 'list-f');
    const listerParty: Party = { mspId: 'ClientOrgMSP', userId: lister.userId };
    const freelancerParty: Party = { mspId: 'TalentOrgMSP', userId: freelancer.userId };
    const run = benchRequestId().slice(-6);
    const started = Date.now();
    let failedDrafts = 0;
    await withConcurrency(
      128,
      Array.from({ length: agreements }, (_, index) => async () => {
        try {
          await draftLabellingAgreement(
            lister.session,
            `LIST-${run}-${String(index).padStart(5, '0')}`,
            listerParty,
            freelancerParty,
          );
        } catch {
          failedDrafts += 1;
        }
      }),
    );
    log(
      `${agreements - failedDrafts} agreements drafted in ${((Date.now() - started) / 1000).toFixed(0)} s (${failedDrafts} failed)`,
    );

    const layers: LayerFigures[] = [];
    // The completion filter reads each listed agreement's milestones in the same evaluation.
    const shapes = [
      { name: 'one page of 100', pageSize: 100 },
      { name: `one page of ${maxPageSize}`, pageSize: maxPageSize },
      { name: 'one page of 100, completed=false', pageSize: 100, completed: false },
    ];
    for (const { name, ...shape } of shapes) {
      layers.push(
        await findKnee(
          name,
          'pages/s',
          async (timer) => {
            await timer.call(0, () =>
              lister.session.agreements.listAgreementsByParty({ ...listerParty, role: 'client', ...shape }),
            );
          },
          levels,
          seconds,
          log,
        ),
      );
    }
    // The whole list, page after page, by several callers at once.
    for (const walkers of [1, 8, 32]) {
      const walkStarted = performance.now();
      const counts = await withConcurrency(
        walkers,
        Array.from({ length: walkers }, () => async () => {
          let count = 0;
          let bookmark = '';
          do {
            const page = await lister.session.agreements.listAgreementsByParty({
              ...listerParty,
              role: 'client',
              pageSize: 100,
              ...(bookmark === '' ? {} : { bookmark }),
            });
            count += page.items.length;
            bookmark = page.bookmark;
          } while (bookmark !== '');
          return count;
        }),
      );
      const walkSeconds = (performance.now() - walkStarted) / 1000;
      log(
        `whole list by ${walkers} caller(s) at once, pages of 100: ${walkSeconds.toFixed(1)} s, ` +
          `each saw ${[...new Set(counts)].join(' / ')} agreements`,
      );
    }
    log(`\nSummary (${machineDescription()}; listAgreementsByParty through the gateway, ${agreements} agreements):`);
    for (const layer of layers) {
      log(
        `${layer.name}: best ${layer.knee.throughput.toFixed(1)} pages/s at ${layer.knee.inFlight} in flight ` +
          `(p50 ${layer.knee.p50.toFixed(0)} ms, p99 ${layer.knee.p99.toFixed(0)} ms); failures: ${formatFailures(layer)}`,
      );
    }
  } finally {
    await bench.close();
  }
}

await main();
