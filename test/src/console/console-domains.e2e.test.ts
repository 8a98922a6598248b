import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';
import { launchBrowser, openPage, screenshot, seriousViolations, signIn } from './browser.js';

type Person = { token: string; party: { mspId: string; userId: string } };

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const password = (userId: string): string => `e2e password of ${userId}`;

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
    const dataset = (recordId: string, parents?: string[]) =>
      created(
        api.call('POST', '/v1/provenance/datasets', tara.token, {
          recordId,
          contentSha256: sha(recordId),
          title: `Dataset ${recordId.replace(`-${suffix}`, '')}`,
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
    await dataset(id('labelled'), [id('clean')]);
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
    const [clientGovernor, talentGovernor, auditGovernor] = governors as [Person, Person, Person];
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
      const open = async (page: Page, who: Person) => {
        await signIn(page, api.url, who.party.userId, password(who.party.userId));
        await page.getByRole('link', { name: 'Governance' }).click();
        await page.getByRole('link', { name: new RegExp(proposalId) }).click();
        await page.getByTestId('proposal-phase').filter({ hasText: 'voting' }).waitFor();
      };
      await open(clientSide.page, clientGovernor);
      await open(talentSide.page, talentGovernor);
      expect(await seriousViolations(clientSide.page)).toEqual([]);

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

      // The auditing organisation's governor opens the page while voting is open, and votes once it has closed:
      // the API's refusal is shown in words.
      await open(auditSide.page, auditGovernor);
      const wait = Date.parse(proposed.result.proposal.votingEndsAt) - Date.now() + 1500;
      if (wait > 0) await delay(wait);
      await auditSide.page.getByRole('button', { name: 'Vote yes' }).click();
      await auditSide.page
        .getByRole('alert')
        .filter({ hasText: /^VOTING_CLOSED: / })
        .waitFor();

      // Read again, the proposal has left voting, as the API judges it.
      await auditSide.page.getByRole('link', { name: 'All proposals' }).click();
      await auditSide.page.getByRole('link', { name: new RegExp(proposalId) }).click();
      const phase = (
        (await api.call('GET', `/v1/governance/proposals/${proposalId}`, auditGovernor.token)).body as {
          phase: string;
        }
      ).phase;
      expect(phase).not.toBe('voting');
      await auditSide.page
        .getByTestId('proposal-phase')
        .filter({ hasText: new RegExp(`^${phase}$`) })
        .waitFor();
      expect(await auditSide.page.getByRole('button', { name: /^Vote / }).count()).toBe(0);
      expect(await seriousViolations(auditSide.page)).toEqual([]);
      for (const side of [clientSide, talentSide, auditSide]) expect(side.policyViolations).toEqual([]);
    } finally {
      await clientSide.context.close();
      await talentSide.context.close();
      await auditSide.context.close();
    }
  });

});
