import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { freeLoopbackPort } from '@gigledger/network';
import { startE2eApi, type E2eApi } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';
import { indexCaughtUp } from '../support/audit-index.js';
import { startIdentityProvider } from '../support/identity-provider.js';
import {
  launchBrowser,
  layoutFaults,
  openPage,
  openSigningIn,
  screenshot,
  seriousViolations,
  signIn,
} from './browser.js';

const password = (userId: string) => `e2e password of ${userId}`;

describe('the console block explorer, drafting, revocation and OIDC sign-in in Chromium against the real network and API', () => {
  let api: E2eApi;
  let browser: Browser;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser.close();
    await api.close();
  });

  async function draftByApi(token: string, client: { mspId: string; userId: string }, agreementId: string) {
    const freelancer = await api.person(`fia-${agreementId.toLowerCase()}`, 'TalentOrg', 'freelancer');
    return api.draftOneMilestone({ token, party: client }, freelancer, {
      agreementId,
      title: 'Labelled images',
      scope: 'Label images.',
      milestone: {
        title: 'First batch',
        amount: '50000',
        criteria: 'All images labelled',
        dueDate: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      },
    });
  }

  /** Pages through the explorer's block list, older and older, until the link to block `blockNumber` shows. */
  async function findBlockLink(page: Page, blockNumber: string): Promise<void> {
    const link = page.getByRole('link', { name: `Block ${blockNumber}`, exact: true });
    await page.getByRole('table', { name: /^Blocks, newest first/ }).waitFor();
    for (let pageNumber = 1; pageNumber < 100; pageNumber += 1) {
      await page.getByRole('table', { name: new RegExp(`page ${String(pageNumber)}\\)$`) }).waitFor();
      if ((await link.count()) > 0) return;
      await page.getByRole('button', { name: 'Older blocks' }).click();
    }
    throw new Error(`block ${blockNumber} is not in the explorer's list`);
  }

  it('an auditor finds the block of a submitted transaction, opens it and the transaction, sees its keys and invalid neighbours, and downloads its proof', async () => {
    const client = await api.person(`cora-${suffix}`, 'ClientOrg', 'client');
    const auditor = await api.person(`aldo-${suffix}`, 'AuditOrg', 'auditor');
    await api.grantAuditEverywhere(auditor.party);
    const agreementId = `EXP-${suffix}`;
    const drafted = await draftByApi(client.token, client.party, agreementId);
    // Cancels racing on one agreement: one commits, the others are marked MVCC_READ_CONFLICT in their blocks.
    const raced = `EXR-${suffix}`;
    await draftByApi(client.token, client.party, raced);
    await Promise.all(
      [1, 2, 3].map((attempt) =>
        api.call('POST', `/v1/agreements/${raced}/cancel`, client.token, { reason: `attempt ${String(attempt)}` }),
      ),
    );
    await indexCaughtUp(api, auditor);
    const invalid = await api.graphql<{
      indexedTransactions: {
        edges: { node: { transactionId: string; blockNumber: string; validationName: string } }[];
      };
    }>(
      '{ indexedTransactions(filter: { validation: "INVALID", function: "agreement:cancelAgreement" }, direction: DESC, first: 1) { edges { node { transactionId blockNumber validationName } } } }',
      auditor.token,
    );
    const conflict = invalid.indexedTransactions.edges[0]?.node;
    expect(conflict?.validationName).toBe('MVCC_READ_CONFLICT');

    const side = await openPage(browser);
    const { page } = side;
    try {
      await signIn(page, api.url, auditor.party.userId, password(auditor.party.userId));
      await page.getByRole('link', { name: 'Block explorer' }).click();
      await page.getByRole('heading', { name: 'Block explorer' }).waitFor();
      const channelHeight = BigInt((await page.getByTestId('channel-height').textContent()) ?? '0');
      const indexedHeight = BigInt((await page.getByTestId('indexed-height').textContent()) ?? '0');
      expect(channelHeight).toBeGreaterThan(BigInt(drafted.blockNumber));
      expect(indexedHeight).toBeGreaterThan(BigInt(drafted.blockNumber));
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'explorer');

      await findBlockLink(page, drafted.blockNumber);
      await page.getByRole('link', { name: `Block ${drafted.blockNumber}`, exact: true }).click();
      await page.getByRole('heading', { name: `Block ${drafted.blockNumber}` }).waitFor();
      const row = page.getByRole('row').filter({ hasText: drafted.transactionId });
      await row.waitFor();
      expect(await row.getByRole('cell').nth(2).textContent()).toBe('ClientOrgMSP');
      expect(await row.getByTestId('validation').textContent()).toBe('valid');
      expect(await seriousViolations(page)).toEqual([]);

      await row.getByRole('link', { name: drafted.transactionId }).click();
      await page.getByTestId('transaction-block').filter({ hasText: drafted.blockNumber }).waitFor();
      expect(await page.getByTestId('transaction-creator').textContent()).toBe('ClientOrgMSP');
      expect(await page.getByTestId('transaction-function').textContent()).toContain('draftAgreement');
      const keys = await page.getByTestId('transaction-key').allTextContents();
      expect(keys.some((key) => key.includes(agreementId))).toBe(true);
      // Keys only: the confidential scope of work never shows.
      expect(await page.locator('main').textContent()).not.toContain('Label images.');
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'explorer-transaction');
      // On a phone the page keeps to the screen: long values break, the keys table scrolls in its box, each key whole.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await layoutFaults(page)).toEqual([]);
      // A table wider than the phone shades the edges with more past them: four layers, two covers and two shades.
      const cues = await page
        .locator('.table-scroll')
        .evaluateAll((boxes) =>
          boxes
            .filter((box) => box.scrollWidth > box.clientWidth)
            .map((box) => getComputedStyle(box).backgroundImage.match(/gradient\(/g)?.length ?? 0),
        );
      expect(cues.length).toBeGreaterThan(0);
      expect(cues.every((layers) => layers === 4)).toBe(true);
      // A range over a cell's text has one box per line it is drawn on.
      const keyLines = await page.getByTestId('transaction-key').evaluateAll((cells) =>
        cells.map((cell) => {
          const text = document.createRange();
          text.selectNodeContents(cell);
          return text.getClientRects().length;
        }),
      );
      expect(keyLines.length).toBeGreaterThan(0);
      expect(keyLines.every((lines) => lines === 1)).toBe(true);
      await page.setViewportSize({ width: 1366, height: 900 });

      await page
        .getByRole('button', { name: `Get proof of transaction ${drafted.transactionId.slice(0, 12)}` })
        .click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: /^Save proof-/ }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`proof-${drafted.transactionId}.json`);
      const bundle = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
        transactionId: string;
        block: { number: number };
      };
      expect(bundle.transactionId).toBe(drafted.transactionId);
      expect(String(bundle.block.number)).toBe(drafted.blockNumber);

      // The search by transaction id leads to the conflicting cancel, which its block marks invalid.
      await page.getByRole('link', { name: 'Block explorer' }).first().click();
      await page.getByLabel('Transaction id').fill(conflict!.transactionId);
      await page.getByRole('button', { name: 'Find transaction' }).click();
      await page.getByTestId('transaction-block').filter({ hasText: conflict!.blockNumber }).waitFor();
      await page.getByRole('link', { name: `Block ${conflict!.blockNumber}` }).click();
      const conflictRow = page.getByRole('row').filter({ hasText: conflict!.transactionId });
      expect(await conflictRow.getByTestId('validation').textContent()).toBe('invalid: MVCC_READ_CONFLICT');

      // An id the index does not hold is refused in words; the page, its navigation and the session stay.
      await page.getByRole('link', { name: 'Block explorer' }).first().click();
      await page.getByLabel('Transaction id').fill('f'.repeat(64));
      await page.getByRole('button', { name: 'Find transaction' }).click();
      const notFound = page.getByRole('alert').filter({ hasText: /NOT_FOUND|not found|not visible|does not exist/i });
      await notFound.waitFor();
      // A sentence on the page: it starts with a capital, its error code set apart after it.
      expect(await notFound.textContent()).toMatch(/^[A-Z].* \(error code [A-Z_]+\)$/);
      await page.getByRole('link', { name: 'Block explorer' }).first().click();
      await page.getByTestId('channel-height').waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      // Another role's page reached by its address says whom it is for, rather than listing nothing.
      await openSigningIn(page, api.url, '/agreements', auditor.party.userId, password(auditor.party.userId));
      await page
        .getByRole('note')
        .filter({ hasText: /^This page is for a client, freelancer or evaluator; you are signed in as auditor of / })
        .waitFor();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Agreements');
      expect(await page.getByText('No agreement matches.').count()).toBe(0);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('a client drafts an agreement in the console, with the API refusal shown beside its field, and the freelancer sees it offered', async () => {
    const client = await api.person(`cyd-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`fey-${suffix}`, 'TalentOrg', 'freelancer');
    const clientSide = await openPage(browser);
    // West of UTC, where the end of a UTC day is still that day and its start the day before.
    const freelancerSide = await openPage(browser, { timezoneId: 'America/Los_Angeles' });
    try {
      const page = clientSide.page;
      await signIn(page, api.url, client.party.userId, password(client.party.userId));
      await page.getByRole('link', { name: 'Draft an agreement' }).click();
      const form = page.getByRole('form', { name: 'Draft an agreement' });
      const agreementId = `DRF-${suffix}`;
      await form.getByLabel('Agreement id').fill(agreementId);
      await form.getByLabel('Title', { exact: true }).fill('Speech model evaluation');
      await form.getByLabel('Freelancer user id').fill(freelancer.party.userId);
      await form.getByLabel('Freelancer organisation MSP id').fill(freelancer.party.mspId);
      await form.getByLabel('Scope of work').fill('Evaluate the speech model on the held-out set.');
      // A scope of work is prose, written in the page's font; JSON documents elsewhere are monospace.
      const fontOf = (element: Element) => getComputedStyle(element).fontFamily;
      expect(await form.getByLabel('Scope of work').evaluate(fontOf)).toBe(
        await form.getByLabel('Title', { exact: true }).evaluate(fontOf),
      );
      await form.getByLabel('Title of milestone 1').fill('Evaluation report');
      await form.getByLabel('Currency of milestone 1').selectOption('EUR');
      await form.getByLabel('Amount of milestone 1').fill('0.00');
      const due = new Date(Date.now() + 21 * 86_400_000).toISOString().slice(0, 10);
      await form.getByLabel('Due date of milestone 1').fill(due);
      await form.getByLabel('Acceptance criteria of milestone 1').fill('Word error rate reported per accent');
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'draft');

      // Zero is no amount the ledger holds: said beside the field in money, not in minor units.
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      const amount = form.getByLabel('Amount of milestone 1');
      await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]') !== null, undefined, {
        timeout: 60_000,
      });
      expect(await amount.getAttribute('aria-invalid')).toBe('true');
      const describedBy = (await amount.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe('An amount must be more than 0.');
      // The amount, currency and due date stay side by side, their labels level, the problem wrapping under its field.
      const labelTops = await form
        .locator('.field-row')
        .first()
        .locator('.field > label')
        .evaluateAll((labels) => labels.map((label) => Math.round(label.getBoundingClientRect().top)));
      expect(labelTops).toHaveLength(3);
      expect(new Set(labelTops).size).toBe(1);
      expect(await seriousViolations(page)).toEqual([]);
      await amount.fill('1000000000000000000');
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      await page
        .locator(`[id="${describedBy}"]`)
        .filter({ hasText: 'An amount must be at most €9,999,999,999,999,999.99.' })
        .waitFor({ timeout: 10_000 });

      // The API's 422 names input.agreementId, shown beside that field in words: neither
      // the error code nor the field's path in front of it.
      await amount.fill('12.50');
      await form.getByLabel('Agreement id').fill('bad id');
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      const idField = form.getByLabel('Agreement id');
      await idField.and(page.locator('[aria-invalid="true"]')).waitFor({ timeout: 60_000 });
      const idProblem = (await idField.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${idProblem}"]`).textContent()).toMatch(/^must be 1 to 64 letters, digits/);
      expect(await amount.getAttribute('aria-invalid')).toBeNull();
      await form.getByLabel('Agreement id').fill(agreementId);

      // Both decimal marks are read, shown as read before anything is sent; a lone mark
      // before three digits could be either, so it is refused rather than guessed.
      const read = page.getByTestId('amount-read-1');
      for (const [typed, shown] of [
        ['12,50', '= €12.50'],
        ['12.50', '= €12.50'],
        ['1,250.50', '= €1,250.50'],
        ['1.250,50', '= €1,250.50'],
        ['1 250,5', '= €1,250.50'],
        ['1,250', ''],
        ['1250,505', ''],
      ] as const) {
        await amount.fill(typed);
        await page.waitForFunction(
          ([id, text]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === text,
          ['amount-read-1', shown] as const,
          { timeout: 10_000 },
        );
        expect([typed, await read.textContent()]).toEqual([typed, shown]);
      }
      // Minor units as the ledger counts them: HUF has two decimals in ISO 4217, none in the browser's Intl data.
      await form.getByLabel('Currency of milestone 1').selectOption('HUF');
      await amount.fill('1000');
      await page.waitForFunction(
        ([id, text]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === text,
        ['amount-read-1', '= HUF1,000.00'] as const,
        { timeout: 10_000 },
      );
      await form.getByLabel('Currency of milestone 1').selectOption('EUR');
      await amount.fill('1250,505');
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      await page.waitForFunction(
        () => document.querySelector('[role="alert"]')?.textContent.includes('decimal places at most') === true,
        undefined,
        { timeout: 10_000 },
      );
      await amount.fill('1,250');
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      await page.waitForFunction(
        () => document.querySelector('[role="alert"]')?.textContent.includes('could mean 1250 or 1.250') === true,
        undefined,
        { timeout: 10_000 },
      );

      // Major units typed with a decimal comma and grouped thousands become 125050 minor units.
      await amount.fill('1.250,50');
      // A metric threshold: its value must be a number, said beside it before anything is sent.
      await form.getByRole('button', { name: 'Add a threshold to milestone 1' }).click();
      await form.getByLabel('Metric of threshold 1 of milestone 1').fill('wer');
      await form.getByLabel('Must be of threshold 1 of milestone 1').selectOption('<=');
      const thresholdValue = form.getByLabel('Value of threshold 1 of milestone 1');
      await thresholdValue.fill('twelve percent');
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      await thresholdValue.and(page.locator('[aria-invalid="true"]')).waitFor({ timeout: 10_000 });
      const valueProblem = (await thresholdValue.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${valueProblem}"]`).textContent()).toBe(
        'Write the threshold as a number, e.g. 0.9 or 250.',
      );
      await thresholdValue.fill('0,12');
      expect(await layoutFaults(page)).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await form.getByRole('button', { name: 'Draft agreement' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Offered to ${freelancer.party.userId} in block` })
        .waitFor({
          timeout: 120_000,
        });
      const stored = await api.call('GET', `/v1/agreements/${agreementId}`, client.token);
      expect(stored.status).toBe(200);
      expect(stored.body).toMatchObject({
        agreement: {
          status: 'offered',
          client: client.party,
          freelancer: freelancer.party,
        },
        milestones: [
          {
            milestoneId: 'm1',
            amount: '125050',
            currency: 'EUR',
            dueDate: `${due}T23:59:59.000Z`,
            acceptanceCriteria: { thresholds: [{ metric: 'wer', operator: '<=', value: 0.12 }] },
          },
        ],
      });

      const offered = freelancerSide.page;
      await signIn(offered, api.url, freelancer.party.userId, password(freelancer.party.userId));
      await offered.getByRole('link', { name: 'Agreements' }).click();
      await offered.getByRole('link', { name: new RegExp(agreementId) }).click();
      await offered
        .getByTestId('agreement-status')
        .filter({ hasText: /^offered$/ })
        .waitFor({ timeout: 60_000 });
      await offered.getByRole('button', { name: 'Accept agreement' }).waitFor();
      // The freelancer reads the terms before answering, and the due date as the client picked it.
      expect(await offered.getByTestId('terms-scope').textContent()).toBe(
        'Evaluate the speech model on the held-out set.',
      );
      const dueShown = new Date(`${due}T00:00:00Z`).toLocaleDateString('en-GB', {
        dateStyle: 'medium',
        timeZone: 'UTC',
      });
      await offered.getByText(`due ${dueShown} (end of the day, UTC)`).waitFor();
      // A date written as its midnight, as API clients often send one, reads as that day too, not the evening before.
      const midnightId = `DRM-${suffix}`;
      await api.draftOneMilestone(client, freelancer, {
        agreementId: midnightId,
        title: 'Due at a midnight',
        scope: 'Label images.',
        milestone: { title: 'Labels', amount: '50000', criteria: 'All labelled', dueDate: `${due}T00:00:00.000Z` },
      });
      await offered.getByRole('link', { name: 'Agreements', exact: true }).click();
      await offered.getByRole('link', { name: new RegExp(midnightId) }).click();
      await offered.getByText(`due ${dueShown} (start of the day, UTC)`).waitFor({ timeout: 60_000 });
      // The list's filters narrow it at once: this freelancer is nobody's client, and no work of theirs is final yet.
      await offered.getByRole('link', { name: 'Agreements', exact: true }).click();
      const filters = offered.getByRole('form', { name: 'Filter agreements' });
      await filters.getByRole('combobox', { name: /^My part/ }).selectOption('client');
      await offered.getByText('No agreement matches.').waitFor();
      await filters.getByRole('combobox', { name: /^My part/ }).selectOption('freelancer');
      await offered.getByRole('link', { name: new RegExp(midnightId) }).waitFor();
      await filters.getByRole('combobox', { name: /^Milestones/ }).selectOption('completed');
      await offered.getByText('No agreement matches.').waitFor();
      for (const side of [clientSide, freelancerSide]) expect(side.policyViolations).toEqual([]);
    } finally {
      await clientSide.context.close();
      await freelancerSide.context.close();
    }
  });

  it('an issuer revokes a credential from its page and the public verify page then shows it invalid', async () => {
    const issuer = await api.person(`ira-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`hob-${suffix}`, 'TalentOrg', 'freelancer');
    await api.enact([
      {
        type: 'registerIssuer',
        issuer: issuer.party,
        displayName: 'Board of Examples',
        credentialTypes: ['Certification'],
      },
    ]);
    const issued = await api.call('POST', '/v1/credentials', issuer.token, {
      subject: holder.party,
      type: 'Certification',
      claims: [
        { name: 'title', value: 'Data Engineer' },
        { name: 'level', value: 'senior' },
      ],
    });
    expect(issued.status).toBe(201);
    const credentialId = (issued.body as { result: { credential: { credentialId: string } } }).result.credential
      .credentialId;
    const presented = await api.call('POST', `/v1/credentials/${credentialId}/presentations`, holder.token, {
      reveal: ['title'],
    });
    expect(presented.status).toBe(200);
    const presentation = JSON.stringify((presented.body as { presentation: unknown }).presentation);

    const issuerSide = await openPage(browser);
    const verifierSide = await openPage(browser);
    try {
      const verifier = verifierSide.page;
      await verifier.goto(`${api.url}/console/verify`);
      await verifier.getByLabel(/Presentation, W3C credential or reputation statement/).fill(presentation);
      await verifier.getByRole('button', { name: 'Verify' }).click();
      await verifier.getByTestId('verdict').filter({ hasText: 'Valid presentation' }).waitFor();

      const page = issuerSide.page;
      await signIn(page, api.url, issuer.party.userId, password(issuer.party.userId));
      await page.getByRole('link', { name: 'Issue a credential' }).click();
      const revoke = page.getByRole('form', { name: 'Revoke a credential' });
      // A revocation without a reason is refused by the API, in its words.
      await revoke.getByLabel('Credential id to revoke').fill(credentialId);
      await revoke.getByLabel('Reason for revoking').fill(' ');
      await revoke.getByRole('button', { name: 'Revoke credential' }).click();
      // Beside the reason's field, in words: neither the field's path nor the error code in front of it.
      const reasonField = revoke.getByLabel('Reason for revoking');
      await reasonField.and(page.locator('[aria-invalid="true"]')).waitFor();
      const reasonProblem = (await reasonField.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${reasonProblem}"]`).textContent()).toMatch(/^must /);
      expect(await seriousViolations(page)).toEqual([]);
      await revoke.getByLabel('Reason for revoking').fill('issued in error');
      await revoke.getByRole('button', { name: 'Revoke credential' }).click();
      await page
        .getByTestId('revoked')
        .filter({ hasText: `Revoked ${credentialId} in block` })
        .waitFor({
          timeout: 120_000,
        });
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, 'revoke');

      await verifier.getByRole('button', { name: 'Verify' }).click();
      await verifier.getByTestId('verdict').filter({ hasText: 'Not valid: presentation' }).waitFor();
      expect(await verifier.getByTestId('verdict-reasons').textContent()).toContain('REVOKED');
      expect(await seriousViolations(verifier)).toEqual([]);

      // A record page of a section the role may not read, reached by its address, says whom
      // it is for rather than showing the API's refusals of a scope the issuer lacks.
      await openSigningIn(page, api.url, '/ip/W-anything', issuer.party.userId, password(issuer.party.userId));
      await page
        .getByRole('note')
        .filter({
          hasText: /^This page is for a client, freelancer, auditor, hr or admin; you are signed in as issuer of /,
        })
        .waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      // An agreement's page too: more roles read agreements than list them, issuers not among them.
      await openSigningIn(page, api.url, '/agreements/A-anything', issuer.party.userId, password(issuer.party.userId));
      await page
        .getByRole('note')
        .filter({
          hasText:
            /^This page is for a client, freelancer, evaluator, arbitrator, settlement, auditor, hr or admin; you are signed in as issuer of /,
        })
        .waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      for (const side of [issuerSide, verifierSide]) expect(side.policyViolations).toEqual([]);
    } finally {
      await issuerSide.context.close();
      await verifierSide.context.close();
    }
  });

  it("signs a person in through the identity provider's own login page (authorization code with PKCE), token in memory only", async () => {
    const apiPort = await freeLoopbackPort();
    const userId = `olga-${suffix}`;
    const provider = await startIdentityProvider({
      port: await freeLoopbackPort(),
      clientId: 'gigledger-console',
      redirectUri: `http://127.0.0.1:${String(apiPort)}/console/oidc-callback`,
      audience: 'urn:gigledger:api',
      person: { userId, org: 'ClientOrg', role: 'client' },
    });
    const oidcApi = await startE2eApi(e2eConfig(), {
      PORT: String(apiPort),
      OIDC_ISSUER: provider.issuer,
      OIDC_AUDIENCE: 'urn:gigledger:api',
      OIDC_CLIENT_ID: 'gigledger-console',
    });
    const side = await openPage(browser);
    try {
      const settings = await oidcApi.call('GET', '/v1/auth/oidc');
      expect(settings.body).toMatchObject({ issuer: provider.issuer, clientId: 'gigledger-console' });
      const { page } = side;
      await page.goto(`${oidcApi.url}/console/sign-in`);
      const policy = (await page.request.get(`${oidcApi.url}/console/sign-in`)).headers()['content-security-policy'];
      expect(policy).toContain(`connect-src 'self' ${provider.issuer}`);
      const signInWithIdp = page.getByRole('button', { name: `Sign in with ${new URL(provider.issuer).host}` });
      expect(await seriousViolations(page)).toEqual([]);
      await signInWithIdp.click();

      // The provider's own pages: its login form, then its consent.
      // A refusal on the way (discovery, policy) shows as an alert: fail with its words rather than a timeout.
      await Promise.race([
        page.waitForURL((url) => url.origin === provider.issuer, { timeout: 60_000 }),
        page
          .getByRole('alert')
          .waitFor({ timeout: 60_000 })
          .then(async () => {
            throw new Error(`sign-in refused at ${page.url()}: ${(await page.getByRole('alert').textContent()) ?? ''}`);
          }),
      ]);
      expect(new URL(page.url()).origin).toBe(provider.issuer);
      await page.locator('input[name="login"]').fill(userId);
      await page.locator('input[name="password"]').fill('any password: the local provider checks only the account');
      await page.locator('button[type="submit"]').click();
      await page.getByRole('button', { name: 'Continue' }).click();

      await page
        .getByTestId('signed-in-as')
        .filter({ hasText: `${userId} · client · ClientOrg` })
        .waitFor({
          timeout: 120_000,
        });
      expect(new URL(page.url()).pathname).toBe('/console/agreements');
      // The provider's token is kept in memory: once back, no storage of the console's origin holds anything.
      expect(
        await page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) })),
      ).toEqual({ local: [], session: [] });
      expect(side.policyViolations).toEqual([]);
      // Without OIDC_CLIENT_ID the API offers no OIDC sign-in, and its sign-in page shows none.
      const withoutOidc = await api.call('GET', '/v1/auth/oidc');
      expect([withoutOidc.status, withoutOidc.body]).toEqual([200, { enabled: false }]);
    } finally {
      await side.context.close();
      await oidcApi.close();
      await provider.close();
    }
  });
});
