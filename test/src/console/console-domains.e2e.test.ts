import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import type { ReconciliationReport } from '@gigledger/api/wire-types';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox, type E2ePerson } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn, turnPageByKeyboard } from './browser.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const password = (userId: string): string => `e2e password of ${userId}`;

/** The last calendar month before this one, `YYYY-MM` (UTC): ended, so its royalties can be closed. */
function lastMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** Records and derivations the lineage picture draws: `recordId` of each box, `from>to` of each arrow. */
async function drawn(page: Page): Promise<{ nodes: string[]; edges: string[] }> {
  const diagram = page.getByTestId('lineage-diagram');
  const nodes = await diagram
    .locator('a.lineage-node')
    .evaluateAll((links) => links.map((link) => link.getAttribute('data-record-id') ?? ''));
  const edges = await diagram
    .locator('path.lineage-edge')
    .evaluateAll((paths) =>
      paths.map((path) => `${path.getAttribute('data-from') ?? ''}>${path.getAttribute('data-to') ?? ''}`),
    );
  return { nodes: nodes.sort(), edges: edges.sort() };
}

/**
 * Lines of the lineage picture that would be drawn past their box's border, as
 * `recordId: text`, and the lines cut with an ellipsis to stay inside it.
 */
async function boxLines(page: Page): Promise<{ pastTheBorder: string[]; cut: string[] }> {
  return page
    .getByTestId('lineage-diagram')
    .locator('a.lineage-node')
    .evaluateAll((links) => {
      const pastTheBorder: string[] = [];
      const cut: string[] = [];
      for (const link of links) {
        const box = (link.querySelector('rect') as SVGRectElement).getBoundingClientRect();
        for (const line of Array.from(link.querySelectorAll<HTMLElement>('.lineage-line'))) {
          const drawn = line.getBoundingClientRect();
          const label = `${link.getAttribute('data-record-id') ?? ''}: ${line.textContent}`;
          const clipped = getComputedStyle(line).overflowX === 'hidden';
          // A line wider than its space is drawn past the border unless clipped there.
          const overflows = line.scrollWidth > line.clientWidth;
          if (drawn.left < box.left || drawn.right > box.right || (overflows && !clipped)) pastTheBorder.push(label);
          else if (overflows && getComputedStyle(line).textOverflow === 'ellipsis') cut.push(label);
        }
      }
      return { pastTheBorder, cut };
    });
}

describe('the console pages for provenance, governance, IP and settlement, in Chromium against the real network', () => {
  let moneyLoop: E2eApiWithSandbox;
  let api: E2eApi;
  let browser: Browser;
  const suffix = randomBytes(3).toString('hex');
  const id = (name: string): string => `${name}-${suffix}`;

  beforeAll(async () => {
    moneyLoop = await startE2eApiWithSandbox(e2eConfig(), { callbackDelayMs: 100 });
    api = moneyLoop.api;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser.close();
    await moneyLoop.close();
  });

  async function created(response: Promise<{ status: number; body: unknown }>, what: string): Promise<unknown> {
    const answer = await response;
    if (answer.status !== 201 && answer.status !== 200) {
      throw new Error(`${what} failed: ${String(answer.status)} ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  it('draws a lineage as a picture, one box per record and one arrow per derivation, each box opening its record', async () => {
    const tara = await api.person(id('tara'), 'TalentOrg', 'freelancer');
    // Wide letters and CJK run past a box whose cut counts characters.
    const longTitle = `Labelled defects ${'W'.repeat(30)} 検査画像データセット`;
    const dataset = (recordId: string, parents?: string[], title = `Dataset ${recordId.replace(`-${suffix}`, '')}`) =>
      created(
        api.call('POST', '/v1/provenance/datasets', tara.token, {
          recordId,
          contentSha256: sha(recordId),
          title,
          licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
          source: 'https://data.example.org/defects',
          legalBasis: 'consent',
          piiClass: 'personal',
          retention: { kind: 'period', period: 'P5Y' },
          ...(parents === undefined
            ? {}
            : {
                derivedFrom: {
                  parents,
                  transformation: { description: `derive ${recordId}`, codeSha256: sha(recordId) },
                },
              }),
        }),
        `dataset ${recordId}`,
      );
    // raw → clean → labelled ─┐
    //          └──→ mixed ←── extra   labelled and mixed → model (trained on)
    await dataset(id('raw'));
    await dataset(id('extra'));
    await dataset(id('clean'), [id('raw')]);
    await dataset(id('labelled'), [id('clean')], longTitle);
    await dataset(id('mixed'), [id('clean'), id('extra')]);
    await created(
      api.call('POST', '/v1/provenance/models', tara.token, {
        recordId: id('model'),
        contentSha256: sha(id('model')),
        title: 'Defect classifier',
        licence: { kind: 'text', text: 'Internal use only.' },
        trainedOn: [id('labelled'), id('mixed')],
        trainingCodeSha256: [sha('train.py')],
      }),
      'model',
    );

    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, tara.party.userId, password(tara.party.userId));
      await page.getByRole('link', { name: 'Provenance' }).click();
      await page.getByLabel('Record id').fill(id('clean'));
      await page.getByRole('button', { name: 'Show lineage' }).click();
      await page.getByTestId('lineage-diagram').waitFor();
      // Three generations each way from clean: its parent, its children and their model; extra is no relative of clean.
      expect(await drawn(page)).toEqual({
        nodes: [id('clean'), id('labelled'), id('mixed'), id('model'), id('raw')].sort(),
        edges: [
          `${id('raw')}>${id('clean')}`,
          `${id('clean')}>${id('labelled')}`,
          `${id('clean')}>${id('mixed')}`,
          `${id('labelled')}>${id('model')}`,
          `${id('mixed')}>${id('model')}`,
        ].sort(),
      });
      const trained = await page
        .locator('path.lineage-edge[data-relation="trainedOn"]')
        .evaluateAll((paths) => paths.map((path) => path.getAttribute('data-from')));
      expect(trained.sort()).toEqual([id('labelled'), id('mixed')].sort());
      // The text alternative says each derivation in words.
      const described = page.getByRole('group', { name: /^Lineage diagram: 5 records, 5 derivations$/ });
      expect(await described.getAttribute('aria-describedby')).toBeTruthy();
      await page.getByText(`Defect classifier (${id('model')}) is trained on Dataset mixed (${id('mixed')})`).waitFor({
        state: 'attached',
      });
      expect(await seriousViolations(page)).toEqual([]);
      // A long title is cut with an ellipsis inside its box; the link still names it whole.
      expect(await boxLines(page)).toEqual({ pastTheBorder: [], cut: [`${id('labelled')}: ${longTitle}`] });
      await page.getByRole('link', { name: `${longTitle} dataset ${id('labelled')}` }).waitFor();
      await screenshot(page, 'lineage');

      // Each box is a link named for its record: opening the model shows its own lineage, back to the raw data.
      await page.getByRole('link', { name: `Defect classifier model ${id('model')}` }).click();
      await page.getByRole('heading', { name: `Defect classifier (${id('model')})` }).waitFor();
      expect(page.url()).toBe(`${api.url}/console/provenance/${id('model')}`);
      await page.locator(`a.lineage-node[aria-current="page"][data-record-id="${id('model')}"]`).waitFor();
      expect(await drawn(page)).toEqual({
        nodes: [id('clean'), id('extra'), id('labelled'), id('mixed'), id('model'), id('raw')].sort(),
        edges: [
          `${id('raw')}>${id('clean')}`,
          `${id('clean')}>${id('labelled')}`,
          `${id('clean')}>${id('mixed')}`,
          `${id('extra')}>${id('mixed')}`,
          `${id('labelled')}>${id('model')}`,
          `${id('mixed')}>${id('model')}`,
        ].sort(),
      });
      // By keyboard too: the boxes are links in the tab order.
      await page.getByRole('link', { name: `Dataset extra dataset ${id('extra')}` }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Dataset extra (${id('extra')})` }).waitFor();
      expect(await drawn(page)).toEqual({
        nodes: [id('extra'), id('mixed'), id('model')].sort(),
        edges: [`${id('extra')}>${id('mixed')}`, `${id('mixed')}>${id('model')}`].sort(),
      });
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('shows a proposal with its votes and tally; two organisations vote in two browsers and each sees the other vote', async () => {
    const governors = await Promise.all(
      (['ClientOrg', 'TalentOrg', 'AuditOrg'] as const).map((org) =>
        api.person(id(`gov-${org.toLowerCase()}`), org, 'governor'),
      ),
    );
    const [clientGovernor, talentGovernor, auditGovernor] = governors as [E2ePerson, E2ePerson, E2ePerson];
    const minimum = async (name: string) =>
      (
        (await api.call('GET', `/v1/governance/rules/parameters/${name}`, clientGovernor.token)).body as {
          record: { value: number };
        }
      ).record.value;
    const proposalId = id('P-FEE');
    const proposed = (await created(
      api.call('POST', '/v1/governance/proposals', clientGovernor.token, {
        proposalId,
        title: 'Lower the platform fee to 2%',
        text: 'A lower fee for every new agreement.',
        actions: [{ type: 'setParameter', name: 'platformFeeBps', value: 200 }],
        // Long enough for two browsers to vote on a busy machine, short enough to see it close.
        votingSeconds: Math.max(await minimum('governanceMinVotingSeconds'), 90),
        timelockSeconds: await minimum('governanceMinTimelockSeconds'),
      }),
      'proposal',
    )) as { result: { proposal: { votingEndsAt: string } } };

    const clientSide = await openPage(browser);
    const talentSide = await openPage(browser);
    const auditSide = await openPage(browser);
    try {
      const open = async (page: Page, who: E2ePerson) => {
        await signIn(page, api.url, who.party.userId, password(who.party.userId));
        await page.getByRole('link', { name: 'Governance' }).click();
        await page.getByRole('link', { name: new RegExp(proposalId) }).click();
        await page.getByTestId('proposal-phase').filter({ hasText: 'voting' }).waitFor();
      };
      await open(clientSide.page, clientGovernor);
      await open(talentSide.page, talentGovernor);
      expect(await seriousViolations(clientSide.page)).toEqual([]);
      // The actions read as sentences; their exact JSON is one click away.
      expect(await clientSide.page.getByTestId('proposal-action').allTextContents()).toEqual([
        'Set platformFeeBps to 200 basis points (2 %)',
      ]);

      await clientSide.page.getByRole('button', { name: 'Vote yes' }).click();
      // The other organisation's page takes the vote in from the event feed, without a reload.
      await talentSide.page
        .getByTestId('proposal-tally')
        .filter({ hasText: /^1 yes, 0 no, 0 abstain of 3 members/ })
        .waitFor();
      // One vote per organisation: the client organisation's buttons are gone.
      await clientSide.page.getByTestId('proposal-vote').filter({ hasText: 'ClientOrgMSP' }).waitFor();
      expect(await clientSide.page.getByRole('button', { name: 'Vote yes' }).count()).toBe(0);

      await talentSide.page.getByLabel('Reason (optional)').fill('The fee pays for the auditors');
      await talentSide.page.getByRole('button', { name: 'Vote no' }).click();
      await clientSide.page
        .getByTestId('proposal-tally')
        .filter({ hasText: /^1 yes, 1 no, 0 abstain of 3 members/ })
        .waitFor();
      const votes = await clientSide.page.getByTestId('proposal-vote').allTextContents();
      expect(votes).toHaveLength(2);
      expect(votes.join('\n')).toContain('The fee pays for the auditors');
      expect(await seriousViolations(clientSide.page)).toEqual([]);
      await screenshot(clientSide.page, 'proposal');

      // The auditing organisation's governor opens the page while voting is open. As voting
      // closes, each page left open reads the proposal again by itself (no event announces
      // the next phase): the phase the API judges, and no vote buttons any more.
      await open(auditSide.page, auditGovernor);
      expect(await auditSide.page.getByRole('button', { name: 'Vote yes' }).count()).toBe(1);
      const wait = Date.parse(proposed.result.proposal.votingEndsAt) - Date.now() + 1500;
      if (wait > 0) await delay(wait);
      const phase = (
        (await api.call('GET', `/v1/governance/proposals/${proposalId}`, auditGovernor.token)).body as {
          phase: string;
        }
      ).phase;
      expect(phase).not.toBe('voting');
      for (const page of [auditSide.page, clientSide.page]) {
        await page
          .getByTestId('proposal-phase')
          .filter({ hasText: new RegExp(`^${phase}$`) })
          .waitFor();
        expect(await page.getByRole('button', { name: /^Vote / }).count()).toBe(0);
      }
      expect(await seriousViolations(auditSide.page)).toEqual([]);
      for (const side of [clientSide, talentSide, auditSide]) expect(side.policyViolations).toEqual([]);
    } finally {
      await clientSide.context.close();
      await talentSide.context.close();
      await auditSide.context.close();
    }
  });

  it("shows a co-owned work's shares, its licences and royalties, money in each currency's minor units", async () => {
    const tara = await api.person(id('tara-ip'), 'TalentOrg', 'freelancer');
    const tom = await api.person(id('tom-ip'), 'TalentOrg', 'freelancer');
    const carol = await api.person(id('carol-ip'), 'ClientOrg', 'client');
    await api.payoutAccount(tara, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.payoutAccount(tom, 'DE89370400440532013000', 'COBADEFFXXX');
    const workId = id('W');
    await created(
      api.call('POST', '/v1/ip/works', tara.token, {
        workId,
        kind: 'model',
        contentHash: sha(`console model ${suffix}`),
        title: 'Fraud model',
        uri: 'https://models.example.com/fraud',
        creators: [tara.party, tom.party],
        owners: [
          { party: tara.party, shareBps: 6_500 },
          { party: tom.party, shareBps: 3_500 },
        ],
      }),
      'work',
    );
    const offerId = id('L');
    await created(
      api.call('POST', '/v1/licensing/offers', tara.token, {
        offerId,
        workId,
        licensee: carol.party,
        scope: 'commercial',
        fieldsOfUse: ['fraud-detection'],
        territories: ['DE', 'FR'],
        exclusive: true,
        termStart: '2026-01-01T00:00:00.000Z',
        termEnd: '2099-01-01T00:00:00.000Z',
        royaltyBps: 1_250,
        perUnitAmount: '5',
        fee: { amount: '250001' },
        currency: 'EUR',
        terms: { text: 'Exclusive licence for fraud scoring in Germany and France.' },
      }),
      'offer',
    );
    await created(api.call('POST', `/v1/licensing/offers/${offerId}/consents`, tom.token, {}), 'consent');
    const terms = (await api.call('GET', `/v1/licensing/offers/${offerId}/terms`, carol.token)).body as {
      termsSha256: string;
    };
    const grantId = id('G');
    await created(
      api.call('POST', `/v1/licensing/offers/${offerId}/grants`, carol.token, {
        grantId,
        termsSha256: terms.termsSha256,
      }),
      'grant',
    );
    // A yen offer: JPY has no minor unit, so 150 minor units are ¥150.
    await created(
      api.call('POST', '/v1/licensing/offers', tara.token, {
        offerId: id('L-JP'),
        workId,
        scope: 'research',
        fieldsOfUse: ['research'],
        territories: ['JP'],
        exclusive: false,
        termStart: '2026-01-01T00:00:00.000Z',
        termEnd: '2030-01-01T00:00:00.000Z',
        perUnitAmount: '150',
        currency: 'JPY',
        terms: { text: 'Research licence in Japan.' },
      }),
      'yen offer',
    );
    const periodId = lastMonth();
    // 12.5 % of 9 876 543 floors to 1 234 567; 1 000 units at 5 add 5 000: 1 239 567.
    await created(
      api.call('POST', `/v1/licensing/grants/${grantId}/usage-reports`, carol.token, {
        periodId,
        units: '1000',
        revenue: '9876543',
        currency: 'EUR',
      }),
      'usage report',
    );
    await created(
      api.call('POST', `/v1/licensing/grants/${grantId}/periods/${periodId}/closing`, tom.token, {}),
      'closing',
    );

    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, tara.party.userId, password(tara.party.userId));
      await page.getByRole('link', { name: 'IP records' }).click();
      await page.getByRole('link', { name: new RegExp(workId) }).click();
      await page.getByRole('heading', { name: `Fraud model (${workId})` }).waitFor();
      const owners = page.getByTestId('work-owner');
      await owners.first().waitFor();
      expect(await owners.allTextContents()).toEqual([
        `${tara.party.userId} (TalentOrgMSP)65 %`,
        `${tom.party.userId} (TalentOrgMSP)35 %`,
      ]);
      expect(await page.getByTestId(`charges-${grantId}`).textContent()).toBe(
        '12.5 % of revenue + €0.05 per unit + €2,500.01 once',
      );
      // The fee's split: 65 % and 35 % of 250 001 floor to 162 500 and 87 500, the unit left over to the first owner.
      const fee = page.getByTestId('fee-payout');
      expect(
        (await fee.allTextContents()).map((row) => row.replace(/(paid|pending|failed|awaiting-collection)$/, '')),
      ).toEqual([`${tara.party.userId} (TalentOrgMSP)65 %€1,625.01`, `${tom.party.userId} (TalentOrgMSP)35 %€875.00`]);
      expect(await page.getByTestId(`offer-${id('L-JP')}`).textContent()).toContain('¥150 per unit');

      const month = page.getByRole('form', { name: `Royalties of ${grantId}` });
      await month.getByLabel('Month (YYYY-MM)').fill(periodId);
      await month.getByRole('button', { name: 'Show royalties' }).click();
      const royalty = page.getByTestId(`royalty-${grantId}-${periodId}`);
      await royalty.waitFor();
      expect(await royalty.locator('p').first().textContent()).toBe(
        `${periodId}: 1,000 units and €98,765.43 revenue reported; royalty owed €12,395.67`,
      );
      // 65 % of 1 239 567 is 805 718.55 and 35 % is 433 848.45: the unit left over goes to the first owner.
      const payouts = await royalty.locator('tbody tr td:nth-child(3)').allTextContents();
      expect(payouts).toEqual(['€8,057.19', '€4,338.48']);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'work');
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }

    // An HR reader reads works (ip:read) but not licences: the page shows the work and refuses the licences alone.
    const hanna = await api.person(id('hanna-ip'), 'ClientOrg', 'hr');
    const hrSide = await openPage(browser);
    try {
      await signIn(hrSide.page, api.url, hanna.party.userId, password(hanna.party.userId));
      // The console keeps its token in memory: it is reached by the console's own links, not a reload.
      await hrSide.page.getByRole('link', { name: 'IP records' }).click();
      await hrSide.page.getByLabel('Work id').fill(workId);
      await hrSide.page.getByRole('button', { name: 'Open work' }).click();
      await hrSide.page.getByRole('heading', { name: `Fraud model (${workId})` }).waitFor();
      await hrSide.page.getByTestId('work-owner').first().waitFor();
      expect(await hrSide.page.getByTestId('work-owner').count()).toBe(2);
      const refusal = hrSide.page.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('licensing:read');
      expect(await hrSide.page.getByTestId(`charges-${grantId}`).count()).toBe(0);
      // Someone who owns no work is led back to the IP records, not to "their" works.
      await hrSide.page.getByRole('main').getByRole('link', { name: 'IP records' }).click();
      await hrSide.page.getByRole('heading', { name: 'IP records' }).waitFor();
      await hrSide.page.getByText('You own no registered work.').waitFor();
    } finally {
      await hrSide.context.close();
    }
  });

  it("pages through the works a person owns when they fill more than one page, forward and back, the keyboard's focus kept", async () => {
    const owner = await api.person(id('wanda-ip'), 'TalentOrg', 'freelancer');
    // One more work than a page holds (50), registered a few at a time; the list is in work id order.
    const workIds = Array.from({ length: 51 }, (_, n) => id(`WP-${String(n).padStart(2, '0')}`));
    for (let start = 0; start < workIds.length; start += 8) {
      await Promise.all(
        workIds.slice(start, start + 8).map((workId) =>
          created(
            api.call('POST', '/v1/ip/works', owner.token, {
              workId,
              kind: 'dataset',
              contentHash: sha(`console paging ${workId}`),
              title: `Survey ${workId}`,
              uri: `https://data.example.com/${workId}`,
              creators: [owner.party],
              owners: [{ party: owner.party, shareBps: 10_000 }],
            }),
            `work ${workId}`,
          ),
        ),
      );
    }
    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, owner.party.userId, password(owner.party.userId));
      await page.getByRole('link', { name: 'IP records' }).click();
      const label = 'Pages of works';
      const pages = page.getByRole('navigation', { name: label });
      const rows = page.getByRole('region', { name: 'Works you own' }).getByRole('row');
      const work = (workId: string) => page.getByRole('link', { name: new RegExp(workId) });
      await pages.getByText('Page 1', { exact: true }).waitFor();
      await work(workIds[49]!).waitFor();
      // The header row and one row per work.
      expect(await rows.count()).toBe(51);
      expect(await turnPageByKeyboard(page, label, 'Next page', 2, () => work(workIds[50]!).waitFor())).toBe(
        'Next page',
      );
      expect(await rows.count()).toBe(2);
      // Unavailable, and still holding the focus the keyboard gave it.
      expect(await pages.getByRole('button', { name: 'Next page' }).getAttribute('aria-disabled')).toBe('true');
      expect(await turnPageByKeyboard(page, label, 'Previous page', 1, () => work(workIds[0]!).waitFor())).toBe(
        'Previous page',
      );
      expect(await rows.count()).toBe(51);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it("pages through the proposals when they fill more than one page, forward and back, the keyboard's focus kept", async () => {
    const governor = await api.person(id('gov-pages'), 'ClientOrg', 'governor');
    const pageSize = 50;
    interface ProposalIdPage {
      proposalPage: { items: { proposalId: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    }
    // Every proposal on the ledger, in the order the list shows them.
    const proposalIds = async () => {
      const ids: string[] = [];
      let after: string | null = null;
      for (;;) {
        const answer: ProposalIdPage = await api.graphql<ProposalIdPage>(
          'query ($after: String) { proposalPage(first: 100, after: $after) { items { proposalId } pageInfo { hasNextPage endCursor } } }',
          governor.token,
          { after },
        );
        ids.push(...answer.proposalPage.items.map((item) => item.proposalId));
        if (!answer.proposalPage.pageInfo.hasNextPage) return ids;
        after = answer.proposalPage.pageInfo.endCursor;
      }
    };
    const minimum = async (name: string) =>
      (
        (await api.call('GET', `/v1/governance/rules/parameters/${name}`, governor.token)).body as {
          record: { value: number };
        }
      ).record.value;
    const votingSeconds = await minimum('governanceMinVotingSeconds');
    const timelockSeconds = await minimum('governanceMinTimelockSeconds');
    // Proposals are the consortium's, not this test's: propose only as many as it takes for
    // the list to pass one page, a few at a time.
    const missing = Math.max(1, pageSize + 1 - (await proposalIds()).length);
    const proposed = Array.from({ length: missing }, (_, n) => id(`P-PAGE-${String(n).padStart(2, '0')}`));
    for (let start = 0; start < proposed.length; start += 8) {
      await Promise.all(
        proposed.slice(start, start + 8).map((proposalId) =>
          created(
            api.call('POST', '/v1/governance/proposals', governor.token, {
              proposalId,
              title: `Fee of ${proposalId}`,
              text: 'One of many, to fill the list.',
              actions: [{ type: 'setParameter', name: 'platformFeeBps', value: 250 }],
              votingSeconds,
              timelockSeconds,
            }),
            `proposal ${proposalId}`,
          ),
        ),
      );
    }
    const all = await proposalIds();
    const [onFirst, onSecond] = [all.slice(0, pageSize), all.slice(pageSize, 2 * pageSize)];

    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, governor.party.userId, password(governor.party.userId));
      await page.getByRole('link', { name: 'Governance' }).click();
      const label = 'Pages of proposals';
      const pages = page.getByRole('navigation', { name: label });
      const shown = async () =>
        (
          await page
            .getByRole('region', { name: "Proposals to change the consortium's rules" })
            .getByRole('row')
            .locator('td:first-child')
            .allTextContents()
        ).map((cell) => all.find((proposalId) => cell.endsWith(`(${proposalId})`)));
      // Ids are letters, digits, "-", "_" and "."; the dot alone needs escaping.
      const proposal = (proposalId: string) =>
        page.getByRole('link', { name: new RegExp(`\\(${proposalId.replaceAll('.', '\\.')}\\)$`) });
      await pages.getByText('Page 1', { exact: true }).waitFor();
      await proposal(onFirst[pageSize - 1]!).waitFor();
      expect(await shown()).toEqual(onFirst);
      expect(
        await turnPageByKeyboard(page, label, 'Next page', 2, () => proposal(onSecond[onSecond.length - 1]!).waitFor()),
      ).toBe('Next page');
      expect(await shown()).toEqual(onSecond);
      // On the last page the button is unavailable, and still holds the focus the keyboard gave it.
      expect(await pages.getByRole('button', { name: 'Next page' }).getAttribute('aria-disabled')).toBe(
        String(all.length <= 2 * pageSize),
      );
      expect(await turnPageByKeyboard(page, label, 'Previous page', 1, () => proposal(onFirst[0]!).waitFor())).toBe(
        'Previous page',
      );
      expect(await shown()).toEqual(onFirst);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('shows auditors the settlement reconciliation for a range of days after a paid milestone', async () => {
    const client = await api.person(id('cleo-rec'), 'ClientOrg', 'client');
    const freelancer = await api.person(id('finn-rec'), 'TalentOrg', 'freelancer');
    const auditor = await api.person(id('audra-rec'), 'AuditOrg', 'auditor');
    // The reconciliation is the settlement service's organisation's to open to an auditor.
    await api.grantAuditEverywhere(auditor.party);
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.grantKyc([freelancer.party]);
    const agreementId = id('REC');
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Churn model',
      scope: 'Train a churn model.',
      milestone: { title: 'Model', amount: '250000', criteria: 'AUC of at least 0.8' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    const until = async (status: string) => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const agreement = (await api.call('GET', `/v1/agreements/${agreementId}`, client.token)).body as {
          milestones: MilestoneRecord[];
        };
        if (agreement.milestones[0]?.status === status) return;
        if (Date.now() > deadline) throw new Error(`milestone stayed ${agreement.milestones[0]?.status ?? 'absent'}`);
        await delay(250);
      }
    };
    await created(api.call('POST', `${milestone}/fund`, client.token, {}), 'funding');
    await until('funded');
    await created(
      api.call('POST', `${milestone}/deliverables`, freelancer.token, {
        artifactSha256: 'ab'.repeat(32),
        uri: 'https://artifacts.example.com/churn/model.onnx',
      }),
      'delivery',
    );
    await created(api.call('POST', `${milestone}/accept`, client.token, {}), 'acceptance of the delivery');
    await created(api.call('POST', `${milestone}/release`, client.token, {}), 'release');
    await until('paid');

    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, auditor.party.userId, password(auditor.party.userId));
      await page.getByRole('link', { name: 'Reconciliation' }).click();
      // A range that ends before it starts is refused by the API, naming the field.
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      await page.getByLabel('From (UTC day)').fill(today);
      await page.getByLabel('To (UTC day, included)').fill(yesterday);
      await page.getByRole('button', { name: 'Reconcile' }).click();
      const toField = page.getByLabel('To (UTC day, included)');
      await toField.and(page.locator('[aria-invalid="true"]')).waitFor();
      const toProblem = (await toField.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${toProblem}"]`).textContent()).toBe('must be after from');

      await page.getByLabel('To (UTC day, included)').fill(today);
      await page.getByRole('button', { name: 'Reconcile' }).click();
      await page.getByTestId('count-ledger').waitFor();
      // The report names the days asked for, the last one included, and its time with its zone.
      const todayShown = new Date(`${today}T00:00:00Z`).toLocaleDateString('en-GB', {
        dateStyle: 'medium',
        timeZone: 'UTC',
      });
      await page
        .getByRole('heading', { name: `Report for ${todayShown} to ${todayShown} (UTC days, both included)` })
        .waitFor();
      expect(await page.locator('main time').first().textContent()).toMatch(/\d{2}:\d{2}:\d{2} [A-Z][\w+:-]*$/);
      const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString();
      const answer = await api.call(
        'GET',
        `/v1/settlement/reconciliation?${new URLSearchParams({ from: `${today}T00:00:00Z`, to: tomorrow }).toString()}`,
        auditor.token,
      );
      expect(answer.status).toBe(200);
      const report = answer.body as ReconciliationReport;
      // The escrow funding and the release of this agreement at least.
      expect(report.counts.ledger).toBeGreaterThanOrEqual(2);
      expect(await page.getByTestId('count-ledger').textContent()).toBe(String(report.counts.ledger));
      expect(await page.getByTestId('count-outbox').textContent()).toBe(String(report.counts.outbox));
      expect(await page.getByTestId('count-provider').textContent()).toBe(String(report.counts.provider));
      const kinds = [...new Set(report.discrepancies.map((discrepancy) => discrepancy.kind))];
      for (const kind of kinds) {
        const rows = page.getByTestId(`discrepancies-${kind}`).locator('tbody tr');
        expect(await rows.count()).toBe(report.discrepancies.filter((discrepancy) => discrepancy.kind === kind).length);
      }
      if (kinds.length === 0) await page.getByTestId('reconciled').waitFor();
      // The paid milestone's instructions agree everywhere.
      expect(report.discrepancies.filter((discrepancy) => discrepancy.instructionId.startsWith(agreementId))).toEqual(
        [],
      );
      expect(await page.locator('main').textContent()).not.toContain(`${agreementId}/m1/`);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'reconciliation');
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }

    // Parties to agreements are not offered the report.
    const clientSide = await openPage(browser);
    try {
      await signIn(clientSide.page, api.url, client.party.userId, password(client.party.userId));
      expect(await clientSide.page.getByRole('link', { name: 'Reconciliation' }).count()).toBe(0);
    } finally {
      await clientSide.context.close();
    }
  });
});
