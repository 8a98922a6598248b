import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { E2eApi, E2ePerson } from '../support/api-server.js';
import { oneMilestoneDraft } from '../support/agreement-drafts.js';
import {
  consoleSuite,
  layoutFaults,
  openPage,
  screenshot,
  seriousViolations,
  signIn,
  turnPageByKeyboard,
} from './browser.js';

/** Waits until the element with this test id reads exactly `text`; only the deadline fails the wait. */
async function reads(page: Page, testId: string, text: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    ([id, expected]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === expected,
    [testId, text] as const,
    { timeout },
  );
}

/** The live activity list of an agreement page shows a step taken by `userId`. */
async function seesStepBy(page: Page, userId: string): Promise<void> {
  await page
    .getByRole('list', { name: 'Committed events since this page opened' })
    .getByText(new RegExp(`by ${userId} in block`))
    .first()
    .waitFor({ timeout: 60_000 });
}

describe('the web console in Chromium against the real network and API', () => {
  let api: E2eApi;
  let browser: Browser;
  const suffix = randomBytes(3).toString('hex');
  const password = (userId: string) => `e2e password of ${userId}`;
  const suite = consoleSuite();

  beforeAll(() => {
    ({ api, browser } = suite());
  });

  /** A client and a freelancer, each with a payout account, the freelancer holding a KYC credential. */
  async function partiesWhoCanBePaid(clientId: string, freelancerId: string) {
    const client = await api.person(clientId, 'ClientOrg', 'client');
    const freelancer = await api.person(freelancerId, 'TalentOrg', 'freelancer');
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.grantKyc([freelancer.party]);
    return { client, freelancer };
  }

  /** `client` funds the agreement's milestone m1 through the API, which answers once the sandbox has confirmed it. */
  async function fundedByApi(client: E2ePerson, agreementId: string): Promise<void> {
    const statusOf = async () =>
      (
        (await api.call('GET', `/v1/agreements/${agreementId}`, client.token)).body as {
          milestones: { status: string }[];
        }
      ).milestones[0]?.status;
    expect((await api.call('POST', `/v1/agreements/${agreementId}/milestones/m1/fund`, client.token, {})).status).toBe(
      200,
    );
    for (const deadline = Date.now() + 60_000; (await statusOf()) !== 'funded' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await statusOf()).toBe('funded');
  }

  it('signs out at the API too: the token the page held opens nothing afterwards', async () => {
    const person = await api.person(`sian-${suffix}`, 'ClientOrg', 'client');
    const side = await openPage(browser);
    try {
      // The token never reaches storage; what the page sends with its requests is what a copy would hold.
      const sent = new Set<string>();
      side.page.on('request', (request) => {
        const bearer = /^Bearer (\S+)$/.exec(request.headers().authorization ?? '')?.[1];
        if (bearer !== undefined) sent.add(bearer);
      });
      await signIn(side.page, api.url, person.party.userId, password(person.party.userId));
      expect(sent.size).toBe(1);
      const [token] = [...sent];
      expect((await api.call('GET', '/v1/me', token)).status).toBe(200);

      const revocation = side.page.waitForResponse((response) => response.url().endsWith('/v1/auth/token/revocation'));
      await side.page.getByRole('button', { name: 'Sign out' }).click();
      expect((await revocation).status()).toBe(200);
      await side.page.getByRole('button', { name: 'Sign in' }).waitFor();
      expect((await api.call('GET', '/v1/me', token)).status).toBe(401);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('serves the console under a policy that forbids inline scripts and other origins', async () => {
    const page = await fetch(`${api.url}/console/agreements`);
    expect(page.status).toBe(200);
    // Kept-alive connections outlive a load balancer's usual 60 s idle timeout.
    expect(page.headers.get('keep-alive')).toBe('timeout=65');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await page.text();
    // Every script is a file of this origin: none inline, none from a CDN.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/console\/assets\/)[^>]*>/);
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${api.url}${asset!}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${api.url}/console/assets/missing.js`)).status).toBe(404);
  });

  it('offers a payout the provider failed to be issued again, and shows the reissue on the timeline', async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`cora-${suffix}`, `fern-${suffix}`);
    // The sandbox provider fails every payout whose minor units end in 13: an amount whose
    // release, less the platform fee at the rate in force, does so.
    const rate = (
      (await api.call('GET', '/v1/governance/rules/parameters/platformFeeBps', client.token)).body as {
        record: { value: number };
      }
    ).record.value;
    const net = (amount: number) => amount - Math.floor((amount * rate) / 10_000);
    const amount = Array.from({ length: 1000 }, (_, n) => 1000 + n).find((candidate) => net(candidate) % 100 === 13);
    expect(amount).toBeDefined();
    const agreementId = `CONF-${suffix}`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Model audit',
      scope: 'Audit a model.',
      milestone: { title: 'Audit report', amount: String(amount), criteria: 'Every finding with evidence' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    const releases = async () => {
      const read = await api.call('GET', `/v1/agreements/${agreementId}`, client.token);
      const { milestones } = read.body as {
        milestones: {
          status: string;
          instructions: { instructionId: string; kind: string; status: string; reissuedAs?: string }[];
        }[];
      };
      return {
        status: milestones[0]?.status,
        releases: (milestones[0]?.instructions ?? []).filter((i) => i.kind === 'release'),
      };
    };
    const until = async (condition: (state: Awaited<ReturnType<typeof releases>>) => boolean) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const state = await releases();
        if (condition(state)) return state;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      throw new Error(`not reached: ${JSON.stringify(await releases())}`);
    };
    expect((await api.call('POST', `${milestone}/fund`, client.token, {})).status).toBe(200);
    await until((state) => state.status === 'funded');
    const delivered = await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
      artifactSha256: 'ab'.repeat(32),
      uri: 'https://artifacts.example.com/audit/report.pdf',
    });
    expect(delivered.status).toBe(200);
    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);
    expect((await api.call('POST', `${milestone}/release`, client.token, {})).status).toBe(200);
    const failed = await until((state) => state.releases.some((release) => release.status === 'failed'));
    expect(failed.releases).toHaveLength(1);

    const side = await openPage(browser);
    try {
      await signIn(side.page, api.url, freelancer.party.userId, password(freelancer.party.userId));
      await side.page.getByRole('link', { name: 'Agreements' }).click();
      await side.page.getByRole('link', { name: new RegExp(agreementId) }).click();
      const timeline = side.page.getByRole('list', { name: 'Timeline of Audit report' });
      await timeline.getByText('Payment failed').waitFor();
      await side.page.getByRole('button', { name: 'Reissue failed payout' }).click();
      await timeline.getByText('Payout reissued').waitFor({ timeout: 60_000 });
      // The ledger holds the failed payout and its replacement, named by it.
      const reissued = await until((state) => state.releases.length === 2);
      expect(reissued.releases[0]?.reissuedAs).toBe(reissued.releases[1]?.instructionId);
      expect(side.loggedErrors).toEqual([]);
      expect(await seriousViolations(side.page)).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('pages through a list longer than one page, forward and back', async () => {
    const client = await api.person(`pagy-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`pagina-${suffix}`, 'TalentOrg', 'freelancer');
    // One more offer than a page holds (50), drafted a few at a time.
    const ids = Array.from({ length: 51 }, (_, n) => `PG-${suffix}-${String(n).padStart(2, '0')}`);
    for (let start = 0; start < ids.length; start += 8) {
      await Promise.all(
        ids.slice(start, start + 8).map((agreementId) =>
          api.draftOneMilestone(client, freelancer, {
            agreementId,
            title: `Offer ${agreementId}`,
            scope: 'Label images.',
            milestone: { title: 'Labels', amount: '10000', criteria: 'All labelled' },
          }),
        ),
      );
    }
    const side = await openPage(browser);
    try {
      const page = side.page;
      await signIn(page, api.url, freelancer.party.userId, password(freelancer.party.userId));
      await page.getByRole('link', { name: 'Agreements' }).click();
      const rows = page.getByRole('region', { name: 'Your agreements' }).getByRole('row');
      const pages = page.getByRole('navigation', { name: 'Pages of agreements' });
      await pages.getByText('Page 1').waitFor();
      // The header row and one row per agreement.
      expect(await rows.count()).toBe(51);
      await pages.getByRole('button', { name: 'Next page' }).focus();
      await page.keyboard.press('Enter');
      await pages.getByText('Page 2').waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Next page');
      await page.getByRole('link', { name: new RegExp(ids[50]!) }).waitFor();
      expect(await rows.count()).toBe(2);
      // Unavailable, and still holding the focus the keyboard gave it.
      expect(await pages.getByRole('button', { name: 'Next page' }).getAttribute('aria-disabled')).toBe('true');
      await pages.getByRole('button', { name: 'Previous page' }).click();
      await pages.getByText('Page 1').waitFor();
      await page.getByRole('link', { name: new RegExp(ids[0]!) }).waitFor();
      expect(await rows.count()).toBe(51);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it("pages through a wallet holding more credentials than one page, forward and back, the keyboard's focus kept", async () => {
    const issuer = await api.person(`iris-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`hedda-${suffix}`, 'TalentOrg', 'freelancer');
    await api.enact([
      {
        type: 'registerIssuer',
        issuer: issuer.party,
        displayName: 'Guild of Examples',
        credentialTypes: ['Certification'],
      },
    ]);
    // One more credential than a page holds (50), issued a few at a time.
    const issued: string[] = [];
    for (let start = 0; start < 51; start += 8) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(8, 51 - start) }, async (_, n) => {
          const answer = await api.call('POST', '/v1/credentials', issuer.token, {
            subject: holder.party,
            type: 'Certification',
            claims: [{ name: 'module', value: `Module ${String(start + n)}` }],
          });
          expect(answer.status).toBe(201);
          return (answer.body as { result: { credential: { credentialId: string } } }).result.credential.credentialId;
        }),
      );
      issued.push(...batch);
    }
    const side = await openPage(browser);
    try {
      const page = side.page;
      await signIn(page, api.url, holder.party.userId, password(holder.party.userId));
      await page.getByRole('link', { name: 'Wallet' }).click();
      const label = 'Pages of credentials';
      const pages = page.getByRole('navigation', { name: label });
      const cards = page.getByRole('main').getByRole('article');
      const shownIds = async () =>
        (await cards.locator('h2').allTextContents()).map((heading) => issued.find((id) => heading.includes(id)));
      await pages.getByText('Page 1', { exact: true }).waitFor();
      await cards.nth(49).waitFor();
      const first = await shownIds();
      expect(first).not.toContain(undefined);
      expect(new Set(first).size).toBe(50);
      // The one credential the first page left out.
      const rest = issued.filter((id) => !first.includes(id));
      expect(rest).toHaveLength(1);
      const focused = await turnPageByKeyboard(page, label, 'Next page', 2, () =>
        cards.filter({ hasText: rest[0]! }).waitFor(),
      );
      expect(focused).toBe('Next page');
      expect(await shownIds()).toEqual(rest);
      // Unavailable, and still holding the focus the keyboard gave it.
      expect(await pages.getByRole('button', { name: 'Next page' }).getAttribute('aria-disabled')).toBe('true');
      const back = await turnPageByKeyboard(page, label, 'Previous page', 1, () =>
        cards.filter({ hasText: first[0]! }).waitFor(),
      );
      expect(back).toBe('Previous page');
      expect(await shownIds()).toEqual(first);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('lays the header out on a phone and on a wide screen: no link broken, nothing past the edge, no sideways scrolling', async () => {
    // An auditor's navigation is among the longest: seven pages and the account, here with a long user id.
    const auditor = await api.person(`avery-with-a-remarkably-long-identifier-${suffix}`, 'AuditOrg', 'auditor');
    const side = await openPage(browser);
    try {
      for (const [width, height] of [
        [1280, 800],
        [390, 844],
      ] as const) {
        await side.page.setViewportSize({ width, height });
        await signIn(side.page, api.url, auditor.party.userId, password(auditor.party.userId));
        await side.page.getByRole('link', { name: 'Block explorer' }).click();
        await side.page.getByTestId('indexed-height').waitFor();
        expect([width, await layoutFaults(side.page)]).toEqual([width, []]);
        // Every page of the navigation, and signing out, within reach.
        await side.page.getByRole('button', { name: 'Sign out' }).click();
        await side.page.getByRole('link', { name: 'Sign in' }).waitFor();
      }
      expect(await seriousViolations(side.page)).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('shows an escrow funding the provider refused as failed, with its reason, live, and offers funding again', async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`cole-${suffix}`, `faye-${suffix}`);
    const agreementId = `REFUSED-${suffix}`;
    // The sandbox provider refuses every amount whose minor units end in 13.
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Data labelling',
      scope: 'Label a dataset.',
      milestone: { title: 'Labels', amount: '1013', criteria: 'Every image labelled' },
    });
    await api.acceptTerms(freelancer, agreementId);

    const side = await openPage(browser);
    try {
      await signIn(side.page, api.url, client.party.userId, password(client.party.userId));
      await side.page.getByRole('link', { name: 'Agreements' }).click();
      await side.page.getByRole('link', { name: new RegExp(agreementId) }).click();
      await side.page.getByRole('button', { name: 'Fund escrow' }).click();
      const timeline = side.page.getByRole('list', { name: 'Timeline of Labels' });
      await timeline.getByText('Funding failed').waitFor({ timeout: 60_000 });
      expect(await timeline.locator('li').filter({ hasText: 'Funding failed' }).textContent()).toMatch(
        / — AMOUNT_REFUSED_BY_SANDBOX: the sandbox provider refuses every amount whose minor units end in 13$/,
      );
      // The provider's answer reads as what it is in the live activity, not as a bare "SettlementConfirmed".
      const activity = side.page.getByRole('list', { name: 'Committed events since this page opened' });
      await activity
        .getByText(
          /^Funding failed \(m1\) by .+ in block \d+ — AMOUNT_REFUSED_BY_SANDBOX: the sandbox provider refuses /,
        )
        .waitFor();
      expect(await activity.getByText(/SettlementConfirmed/).count()).toBe(0);
      await activity.getByText(/^Funding requested by /).waitFor();
      expect(await side.page.getByTestId('milestone-status-m1').textContent()).toBe('unfunded');
      // The client may try again (another account, another day).
      await side.page.getByRole('button', { name: 'Fund escrow' }).waitFor();
      expect(side.loggedErrors).toEqual([]);
      expect(await seriousViolations(side.page)).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it("lets the agreement's evaluator report on a delivery against its thresholds, which accepts the milestone", async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`cleve-${suffix}`, `fred-${suffix}`);
    const evaluator = await api.person(`evan-${suffix}`, 'AuditOrg', 'evaluator');
    const agreementId = `CEV-${suffix}`;
    const draft = oneMilestoneDraft(client.party, freelancer.party, {
      agreementId,
      title: 'Speech model',
      scope: 'Train a speech model.',
      milestone: {
        title: 'Trained speech model',
        amount: '90000',
        criteria: 'Word error rate at most 0.12 and recall at least 0.9',
        acceptanceCriteria: {
          description: 'Word error rate at most 0.12 and recall at least 0.9',
          thresholds: [
            { metric: 'wer', operator: '<=', value: 0.12 },
            { metric: 'recall', operator: '>=', value: 0.9 },
          ],
        },
      },
    });
    expect(
      (await api.call('POST', '/v1/agreements', client.token, { ...draft, evaluator: evaluator.party })).status,
    ).toBe(201);
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    await fundedByApi(client, agreementId);
    const artifact = 'ef'.repeat(32);
    const delivered = await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
      artifactSha256: artifact,
      uri: 'https://artifacts.example.com/speech/model.onnx',
      claimedMetrics: { wer: 0.11, recall: 0.93 },
    });
    expect(delivered.status).toBe(200);

    const side = await openPage(browser);
    try {
      const page = side.page;
      await signIn(page, api.url, evaluator.party.userId, password(evaluator.party.userId));
      await page.getByRole('link', { name: 'Agreements' }).click();
      await page.getByRole('link', { name: new RegExp(agreementId) }).click();
      await reads(page, 'milestone-status-m1', 'submitted');
      expect(await page.getByTestId('thresholds-m1').textContent()).toBe(
        'The evaluator’s report accepts it when it measures wer ≤ 0.12 and recall ≥ 0.9.',
      );
      // The evaluator reports and does nothing else: no release, dispute or acceptance of its own.
      const actions = page.getByRole('group', { name: 'Actions on Trained speech model' });
      expect(await actions.getByRole('button').allTextContents()).toEqual(['Post evaluation']);
      const form = page.getByRole('form', { name: 'Evaluate Trained speech model' });
      expect(await form.textContent()).toContain(artifact);
      await form.getByLabel('Measured wer').fill('0.1');
      await form.getByLabel('Measured recall').fill('0.95');
      await form.getByLabel(/^Report SHA-256/).fill('12'.repeat(32));
      await form.getByLabel(/^Report URI/).fill('not a uri');
      await form.getByRole('button', { name: 'Post evaluation' }).click();
      // The API's refusal of the report's URI, beside its field.
      const uriField = form.getByLabel(/^Report URI/);
      await uriField.and(page.locator('[aria-invalid="true"]')).waitFor();
      const uriProblem = (await uriField.getAttribute('aria-describedby'))!;
      expect(await page.locator(`[id="${uriProblem}"]`).textContent()).toBe(
        'must be an https, s3, gs, az, ipfs, ar or hf URI',
      );
      await uriField.fill('https://reports.example.com/speech/eval.pdf');
      await form.getByRole('button', { name: 'Post evaluation' }).click();
      // Every threshold met: the milestone is accepted by the evaluation, without the client.
      await reads(page, 'milestone-status-m1', 'accepted');
      const timeline = page.getByRole('list', { name: 'Timeline of Trained speech model' });
      await timeline.getByText('claims recall 0.93, wer 0.11').waitFor();
      await timeline
        .getByText(`by ${evaluator.party.userId}: wer 0.1 (≤ 0.12, met); recall 0.95 (≥ 0.9, met): every threshold met`)
        .waitFor();
      await timeline.getByText('by evaluation').waitFor();
      expect(await page.getByRole('group', { name: 'Actions on Trained speech model' }).count()).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('lists an arbitrator the disputes they were drawn for; they read the panel and vote on the split, live', async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`clio-${suffix}`, `flor-${suffix}`);
    const arbitrators = [
      await api.person(`arbi-${suffix}`, 'AuditOrg', 'arbitrator'),
      await api.person(`arbo-${suffix}`, 'AuditOrg', 'arbitrator'),
    ];
    // Panels are drawn from the governed arbitrators: these two, and no one else.
    await api.governArbitrators(arbitrators.map((arbitrator) => arbitrator.party));
    const agreementId = `CDS-${suffix}`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Churn model',
      scope: 'Train a churn model.',
      milestone: { title: 'Churn scores', amount: '100000', criteria: 'AUC of at least 0.8' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    await fundedByApi(client, agreementId);
    expect(
      (
        await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
          artifactSha256: 'ab'.repeat(32),
          uri: 'https://artifacts.example.com/churn/scores.csv',
        })
      ).status,
    ).toBe(200);
    expect((await api.call('POST', `${milestone}/disputes`, client.token, { reason: 'The AUC is 0.71' })).status).toBe(
      200,
    );

    const [first, second] = arbitrators as [E2ePerson, E2ePerson];
    const side = await openPage(browser);
    try {
      const page = side.page;
      await signIn(page, api.url, first.party.userId, password(first.party.userId));
      await page.getByRole('link', { name: 'Disputes' }).click();
      // Nobody sent the arbitrator the agreement's id: the dispute is in their list.
      const row = page.getByTestId('panel-dispute').filter({ hasText: agreementId });
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      expect([...cells.slice(0, 3), ...cells.slice(4)]).toEqual([
        `Churn model (${agreementId})`,
        'Churn scores (m1)',
        '€1,000.00',
        '0 of 2',
        'not yet',
        'awaiting a majority',
      ]);
      expect(cells[3]).toMatch(/ by the client$/);
      await row.getByRole('link', { name: `Churn model (${agreementId})` }).click();
      await reads(page, 'milestone-status-m1', 'disputed');
      const panel = (await page.getByTestId('panel-m1').textContent()) ?? '';
      for (const arbitrator of arbitrators) expect(panel).toContain(`${arbitrator.party.userId} (AuditOrgMSP)`);
      await page.getByText('an arbitrator on a dispute panel').waitFor();
      // Back to where an arbitrator opens disputes, not to a list of agreements of their own.
      expect(await page.getByRole('main').getByRole('link', { name: 'Disputes' }).count()).toBe(1);
      expect(await page.getByRole('main').getByRole('link', { name: 'All agreements' }).count()).toBe(0);
      // An arbitrator votes and does nothing else on the milestone.
      const actions = page.getByRole('group', { name: 'Actions on Churn scores' });
      expect(await actions.getByRole('button').allTextContents()).toEqual(['Cast vote']);
      const form = page.getByRole('form', { name: 'Vote on the dispute over Churn scores' });
      await form.getByLabel("Client's share (EUR)").fill('1500');
      await form.getByLabel('Reason').fill('The scores reach half the AUC promised');
      await form.getByRole('button', { name: 'Cast vote' }).click();
      await form
        .getByRole('alert')
        .filter({ hasText: "The client's share is at most the escrow, €1,000.00." })
        .waitFor();
      await form.getByLabel("Client's share (EUR)").fill('400');
      expect(await form.getByTestId('freelancer-share').textContent()).toBe("The freelancer's share: €600.00");
      expect(await seriousViolations(page)).toEqual([]);
      await form.getByRole('button', { name: 'Cast vote' }).click();
      const timeline = page.getByRole('list', { name: 'Timeline of Churn scores' });
      await timeline.getByText(`${first.party.userId}: client €400.00, freelancer €600.00`).waitFor();
      // The second arbitrator first votes another split, then changes it to the first's, which
      // decides; the page follows without a reload and keeps the changed vote in the timeline.
      for (const clientShare of ['30000', '40000']) {
        const voted = await api.call('POST', `${milestone}/dispute/votes`, second.token, {
          escrowAmount: '100000',
          clientShare,
          freelancerShare: String(100000 - Number(clientShare)),
          reason: 'Partly delivered',
        });
        expect(voted.status).toBe(200);
      }
      await timeline.getByText('Dispute decided').waitFor();
      const changed = timeline.getByRole('listitem').filter({ hasText: 'Arbitrator voted (changed later)' });
      expect(await changed.textContent()).toContain(`${second.party.userId}: client €300.00, freelancer €700.00`);
      await timeline.getByText('€400.00 to the client').waitFor();
      expect(await page.getByRole('group', { name: 'Actions on Churn scores' }).count()).toBe(0);
      expect(await page.getByTestId('panel-m1').textContent()).not.toContain('majority');
      // The decided dispute leaves the arbitrator's open list for the decided one, with their vote.
      await page.getByRole('main').getByRole('link', { name: 'Disputes' }).click();
      const stage = page.getByRole('form', { name: 'Filter disputes' }).getByRole('combobox');
      await stage.selectOption('decided');
      const decided = page.getByTestId('panel-dispute').filter({ hasText: agreementId });
      await decided.getByText('decided: client €400.00, freelancer €600.00').waitFor();
      expect((await decided.locator('td').allTextContents()).slice(4, 6)).toEqual([
        '2 of 2',
        'client €400.00, freelancer €600.00',
      ]);
      await stage.selectOption('open');
      await page.getByTestId('panel-dispute').filter({ hasText: agreementId }).waitFor({ state: 'detached' });
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it("counts a dispute's votes only while their arbitrators are governed, and says how many of the panel remain", async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`dora-${suffix}`, `dino-${suffix}`);
    const panel = await Promise.all(
      ['arla', 'arne', 'arvo'].map((name) => api.person(`${name}-${suffix}`, 'AuditOrg', 'arbitrator')),
    );
    const [leaving, staying, third] = panel as [E2ePerson, E2ePerson, E2ePerson];
    await api.governArbitrators(panel.map((arbitrator) => arbitrator.party));
    const agreementId = `CDR-${suffix}`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Speech corpus',
      scope: 'Transcribe the corpus.',
      milestone: { title: 'Transcripts', amount: '100000', criteria: 'WER of at most 0.1' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    await fundedByApi(client, agreementId);
    expect(
      (
        await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
          artifactSha256: 'cd'.repeat(32),
          uri: 'https://artifacts.example.com/speech/transcripts.zip',
        })
      ).status,
    ).toBe(200);
    expect((await api.call('POST', `${milestone}/disputes`, client.token, { reason: 'The WER is 0.2' })).status).toBe(
      200,
    );
    const disputed = async () =>
      (
        (await api.call('GET', `/v1/agreements/${agreementId}`, client.token)).body as {
          milestones: { status: string; dispute?: { panel?: { userId: string }[] } }[];
        }
      ).milestones[0];
    // A panel of three is drawn, so all three governed arbitrators sit on it.
    expect((await disputed())?.dispute?.panel?.map((member) => member.userId).sort()).toEqual(
      panel.map((arbitrator) => arbitrator.party.userId).sort(),
    );
    const vote = async (arbitrator: E2ePerson) =>
      (
        await api.call('POST', `${milestone}/dispute/votes`, arbitrator.token, {
          escrowAmount: '100000',
          clientShare: '40000',
          freelancerShare: '60000',
          reason: 'Half the files meet the WER',
        })
      ).status;
    expect(await vote(leaving)).toBe(200);
    // Governance removes the arbitrator who has voted; their vote stays on the record.
    await api.governArbitrators([staying.party, third.party]);

    const side = await openPage(browser);
    try {
      const page = side.page;
      await signIn(page, api.url, staying.party.userId, password(staying.party.userId));
      await page.getByRole('link', { name: 'Disputes' }).click();
      const row = page.getByTestId('panel-dispute').filter({ hasText: agreementId });
      const votes = row.locator('td').nth(4);
      await votes.filter({ hasText: /./ }).waitFor();
      expect(await votes.textContent()).toBe('0 of 2 (1 of the 3 drawn removed by governance; 1 vote not counted)');
      // The same split again: with the removed member's vote, two of the three drawn would
      // decide; of the two still governed, one vote is no majority.
      expect(await vote(staying)).toBe(200);
      expect((await disputed())?.status).toBe('disputed');
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await votes.filter({ hasText: /^1 of 2 / }).waitFor();
      expect(await row.locator('td').allTextContents()).toEqual([
        expect.stringContaining(agreementId),
        'Transcripts (m1)',
        '€1,000.00',
        expect.stringMatching(/ by the client$/),
        '1 of 2 (1 of the 3 drawn removed by governance; 1 vote not counted)',
        'client €400.00, freelancer €600.00',
        'awaiting a majority',
      ]);
      expect(await seriousViolations(page)).toEqual([]);
      expect(side.policyViolations).toEqual([]);
    } finally {
      await side.context.close();
    }
  });

  it('a client and a freelancer complete a milestone in two browsers, each seeing the other step in live', async () => {
    const { client, freelancer } = await partiesWhoCanBePaid(`cleo-${suffix}`, `finn-${suffix}`);
    const agreementId = `CON-${suffix}`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Fraud model',
      scope: 'Train a fraud model.',
      milestone: {
        title: 'Trained model',
        amount: '125000',
        criteria: 'Recall of at least 0.9',
        acceptanceCriteria: {
          description: 'Recall of at least 0.9',
          thresholds: [{ metric: 'recall', operator: '>=', value: 0.9 }],
        },
      },
    });

    const clientSide = await openPage(browser);
    const freelancerSide = await openPage(browser);
    const clientPage = clientSide.page;
    const freelancerPage = freelancerSide.page;
    try {
      // A wrong password is refused in the API's words.
      await clientPage.goto(`${api.url}/console/sign-in`);
      await clientPage.getByLabel('User id').fill(client.party.userId);
      await clientPage.getByLabel('Password').fill('not the password');
      await clientPage.getByRole('button', { name: 'Sign in' }).click();
      await clientPage.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
      expect(await seriousViolations(clientPage)).toEqual([]);
      await screenshot(clientPage, 'sign-in');

      await signIn(clientPage, api.url, client.party.userId, password(client.party.userId));
      await signIn(freelancerPage, api.url, freelancer.party.userId, password(freelancer.party.userId));
      // Signing in asks whether OIDC is offered; without it the answer is no error for the browser to log.
      expect(freelancerSide.loggedErrors).toEqual([]);
      await clientPage.getByRole('link', { name: 'Agreements' }).click();
      await clientPage.getByRole('link', { name: new RegExp(agreementId) }).waitFor();
      expect(await seriousViolations(clientPage)).toEqual([]);
      await screenshot(clientPage, 'agreements');
      await clientPage.getByRole('link', { name: new RegExp(agreementId) }).click();
      // Within the page only: the session lives in its memory, so a reload would sign out.
      await freelancerPage.getByRole('link', { name: 'Agreements' }).click();
      await freelancerPage.getByRole('link', { name: new RegExp(agreementId) }).click();
      await reads(clientPage, 'agreement-status', 'offered');
      await reads(freelancerPage, 'agreement-status', 'offered');

      // Only the actions each may take now: the client cannot answer the offer, nor fund before it is accepted.
      expect(await clientPage.getByRole('button', { name: 'Accept agreement' }).count()).toBe(0);
      expect(await clientPage.getByRole('button', { name: 'Fund escrow' }).count()).toBe(0);

      // The terms are shown to the freelancer, who accepts what they read.
      expect(await freelancerPage.getByTestId('terms-scope').textContent()).toBe('Train a fraud model.');
      expect(await clientPage.getByTestId('terms-scope').textContent()).toBe('Train a fraud model.');
      await freelancerPage.getByRole('button', { name: 'Accept agreement' }).click();
      await reads(clientPage, 'agreement-status', 'active');
      await seesStepBy(clientPage, freelancer.party.userId);

      expect(await freelancerPage.getByRole('button', { name: 'Fund escrow' }).count()).toBe(0);
      await clientPage.getByRole('button', { name: 'Fund escrow' }).click();
      await seesStepBy(freelancerPage, client.party.userId);
      // The sandbox provider confirms the escrow; both pages see it without reloading.
      await reads(freelancerPage, 'milestone-status-m1', 'funded');
      await reads(clientPage, 'milestone-status-m1', 'funded');

      // A delivery the API refuses is explained in its words beside the field it names.
      const delivery = freelancerPage.getByRole('form', { name: 'Deliver Trained model' });
      // Its fields one under another, each as wide as the others.
      const fieldBoxes = await delivery
        .locator('input')
        .evaluateAll((inputs) =>
          inputs
            .map((input) => input.getBoundingClientRect())
            .map(({ left, width }) => `${String(left)}/${String(width)}`),
        );
      // The artifact's hash and URI, the recall the milestone's threshold names, a note.
      expect(fieldBoxes).toHaveLength(4);
      expect(new Set(fieldBoxes).size).toBe(1);
      expect(await freelancerPage.getByTestId('thresholds-m1').textContent()).toBe(
        'Thresholds: recall ≥ 0.9; no evaluator is named, so the client checks them.',
      );
      await delivery.getByLabel(/Artifact SHA-256/).fill('cd'.repeat(32));
      await delivery.getByLabel('Artifact URI').fill('not a uri');
      await delivery.getByRole('button', { name: 'Submit deliverable' }).click();
      // The API's refusal of the URI stands beside the URI's field, in words, the field marked invalid.
      const uriField = delivery.getByLabel('Artifact URI');
      await uriField.and(freelancerPage.locator('[aria-invalid="true"]')).waitFor();
      const uriProblem = (await uriField.getAttribute('aria-describedby'))!;
      expect(await delivery.locator(`[id="${uriProblem}"]`).textContent()).toBe(
        'must be an https, s3, gs, az, ipfs, ar or hf URI',
      );
      expect(await reads(freelancerPage, 'milestone-status-m1', 'funded').then(() => true)).toBe(true);

      await delivery.getByLabel('Artifact URI').fill('https://artifacts.example.com/fraud/model.onnx');
      await delivery.getByLabel(/^Claimed recall/).fill('0.93');
      await delivery.getByRole('button', { name: 'Submit deliverable' }).click();
      await reads(clientPage, 'milestone-status-m1', 'submitted');
      await clientPage.getByText('Delivered (#1)').waitFor();
      // The client sees what the delivery claims against the threshold.
      await clientPage
        .getByRole('list', { name: 'Timeline of Trained model' })
        .getByText('https://artifacts.example.com/fraud/model.onnx; claims recall 0.93')
        .waitFor();
      expect(await freelancerPage.getByRole('button', { name: 'Accept deliverable' }).count()).toBe(0);
      expect(await seriousViolations(clientPage)).toEqual([]);

      await clientPage.getByRole('button', { name: 'Accept deliverable' }).click();
      await reads(freelancerPage, 'milestone-status-m1', 'accepted');

      await freelancerPage.getByRole('button', { name: 'Release payment' }).click();
      await seesStepBy(clientPage, freelancer.party.userId);
      await reads(clientPage, 'milestone-status-m1', 'paid');
      await reads(freelancerPage, 'milestone-status-m1', 'paid');
      // Its only milestone is final: the work reads completed while the ledger's status stays active.
      await reads(clientPage, 'agreement-work', 'completed');
      await reads(clientPage, 'agreement-status', 'active');
      const timeline = clientPage.getByRole('list', { name: 'Timeline of Trained model' });
      const steps = await timeline.locator('.step').allTextContents();
      expect(steps).toEqual(
        expect.arrayContaining([
          'Drafted',
          'Agreement accepted',
          'Funded',
          'Delivered (#1)',
          'Accepted',
          'Released',
          'Paid',
        ]),
      );
      expect(steps.indexOf('Funded')).toBeLessThan(steps.indexOf('Delivered (#1)'));
      expect(steps.indexOf('Released')).toBeLessThan(steps.indexOf('Paid'));
      // The release says what the freelancer receives and what the platform keeps: together the escrow.
      const released = await timeline.locator('li').filter({ hasText: 'Released' }).locator('.detail').textContent();
      const split = /^ — €([\d,]+\.\d{2}) to the freelancer(?:, platform fee €([\d,]+\.\d{2}))?$/.exec(released ?? '');
      expect(split).not.toBeNull();
      const cents = (text: string | undefined) => (text === undefined ? 0 : Number(text.replace(/[,.]/g, '')));
      expect(cents(split?.[1]) + cents(split?.[2])).toBe(125000);
      // Nothing is left to do on a paid milestone.
      expect(await clientPage.getByRole('group', { name: 'Actions on Trained model' }).count()).toBe(0);
      expect(await seriousViolations(clientPage)).toEqual([]);
      await screenshot(clientPage, 'agreement');
      // On a phone the title's id and each party's organisation stay whole, nothing past the edge.
      await clientPage.setViewportSize({ width: 390, height: 844 });
      expect(await layoutFaults(clientPage)).toEqual([]);
      await clientPage.setViewportSize({ width: 1366, height: 900 });
      // The list says what the agreement's page says.
      await clientPage.getByRole('link', { name: 'All agreements' }).click();
      const listed = clientPage.getByRole('row', { name: new RegExp(agreementId) });
      await listed.waitFor();
      // The list was first read while the agreement was offered; it shows the ledger's answer once it has it.
      const statusAndWork = async () => (await listed.locator('td').allTextContents()).slice(2, 4).join(' ');
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        if ((await statusAndWork()) === 'active completed') break;
        await clientPage.waitForTimeout(250);
      }
      expect(await statusAndWork()).toBe('active completed');

      // An auditor reads the record's history and downloads a proof.
      const auditor = await api.person(`audra-${suffix}`, 'AuditOrg', 'auditor');
      await api.grantAuditEverywhere(auditor.party);
      const auditorSide = await openPage(browser);
      try {
        await signIn(auditorSide.page, api.url, auditor.party.userId, password(auditor.party.userId));
        await auditorSide.page.getByRole('link', { name: 'Record history' }).click();
        await auditorSide.page.getByLabel('Agreement id').fill(agreementId);
        await auditorSide.page.getByRole('button', { name: 'Show history' }).click();
        const versions = auditorSide.page.getByRole('table', { name: /Milestone Trained model \(m1\)/ });
        await versions.waitFor();
        const statuses = await versions.locator('tbody tr td:nth-child(2)').allTextContents();
        expect(statuses[0]).toBe('paid');
        expect(statuses).toEqual(expect.arrayContaining(['unfunded', 'funded', 'submitted', 'accepted', 'released']));
        // The proof of the payment's transaction, downloaded as a file.
        const paidTx = (await versions.locator('tbody tr').first().locator('td.hash').textContent())!;
        await versions.getByRole('button', { name: `Get proof of transaction ${paidTx.slice(0, 12)}` }).click();
        const [download] = await Promise.all([
          auditorSide.page.waitForEvent('download'),
          versions.getByRole('link', { name: /^Save proof-/ }).click(),
        ]);
        expect(download.suggestedFilename()).toBe(`proof-${paidTx}.json`);
        const saved = await download.path();
        const bundle = JSON.parse(readFileSync(saved, 'utf8')) as { transactionId: string; block: { number: number } };
        expect(bundle.transactionId).toBe(paidTx);
        expect(bundle.block.number).toBeGreaterThan(0);
        expect(await seriousViolations(auditorSide.page)).toEqual([]);
        await screenshot(auditorSide.page, 'history');
        expect(auditorSide.policyViolations).toEqual([]);
      } finally {
        await auditorSide.context.close();
      }
      expect(clientSide.policyViolations).toEqual([]);
      expect(freelancerSide.policyViolations).toEqual([]);
    } finally {
      await clientSide.context.close();
      await freelancerSide.context.close();
    }
  });

  it('an issuer issues four claims, the holder discloses two, and the public verify page shows them valid, then invalid after revocation', async () => {
    const issuer = await api.person(`ivy-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`hal-${suffix}`, 'TalentOrg', 'freelancer');
    await api.enact([
      {
        type: 'registerIssuer',
        issuer: issuer.party,
        displayName: 'Institute of Examples',
        credentialTypes: ['Certification'],
      },
    ]);
    const issuerSide = await openPage(browser);
    const holderSide = await openPage(browser);
    const verifierSide = await openPage(browser);
    try {
      const issuerPage = issuerSide.page;
      await signIn(issuerPage, api.url, issuer.party.userId, password(issuer.party.userId));
      await issuerPage.getByRole('link', { name: 'Issue a credential' }).click();
      await issuerPage.getByLabel('User id').fill(holder.party.userId);
      await issuerPage.getByLabel('Organisation MSP id').fill(holder.party.mspId);
      await issuerPage.getByRole('option', { name: 'Certification' }).waitFor({ state: 'attached' });
      const claims = [
        ['title', 'Deep Learning Specialist'],
        ['grade', 'A'],
        ['studentNumber', 'S-2231'],
        ['dateOfBirth', '1990-04-01'],
      ] as const;
      for (const [index, [name, value]] of claims.entries()) {
        if (index > 0) await issuerPage.getByRole('button', { name: 'Add a claim' }).click();
        await issuerPage.getByLabel(`Name of claim ${index + 1}`).fill(name);
        await issuerPage.getByLabel(`Value of claim ${index + 1}`).fill(value);
      }
      expect(await seriousViolations(issuerPage)).toEqual([]);
      await issuerPage.getByRole('button', { name: 'Issue credential' }).click();
      const issued = await issuerPage.getByRole('heading', { name: /^Issued Certification / }).textContent();
      const credentialId = /^Issued Certification (\S+) in block/.exec(issued ?? '')?.[1];
      expect(credentialId).toBeDefined();
      await screenshot(issuerPage, 'issue');

      const holderPage = holderSide.page;
      await signIn(holderPage, api.url, holder.party.userId, password(holder.party.userId));
      await holderPage.getByRole('link', { name: 'Wallet' }).click();
      const card = holderPage.getByRole('article').filter({ hasText: credentialId! });
      await card.getByRole('button', { name: 'Choose claims to disclose' }).click();
      await card.getByRole('checkbox', { name: /^title:/ }).check();
      await card.getByRole('checkbox', { name: /^grade:/ }).check();
      await card.getByRole('button', { name: 'Create presentation' }).click();
      const presentationBox = card.getByLabel('Presentation', { exact: true });
      await presentationBox.waitFor();
      const presentation = await presentationBox.inputValue();
      expect(JSON.parse(presentation)).toMatchObject({
        credentialId,
        revealedClaims: [{ name: 'title' }, { name: 'grade' }],
      });
      expect(presentation).not.toContain('S-2231');
      expect(await seriousViolations(holderPage)).toEqual([]);
      await screenshot(holderPage, 'wallet');

      // The verifier is nobody: no sign-in on the verify page.
      const verifierPage = verifierSide.page;
      await verifierPage.goto(`${api.url}/console/verify`);
      await verifierPage.getByLabel(/Presentation, W3C credential or reputation statement/).fill(presentation);
      await verifierPage.getByRole('button', { name: 'Verify' }).click();
      await verifierPage.getByTestId('verdict').filter({ hasText: 'Valid presentation' }).waitFor();
      const disclosed = await verifierPage.getByTestId('disclosed-claim').allTextContents();
      expect(disclosed).toEqual(['titleDeep Learning Specialistyes', 'gradeAyes']);
      expect(await seriousViolations(verifierPage)).toEqual([]);
      await screenshot(verifierPage, 'verify');

      const revoked = await api.call(
        'POST',
        `/v1/credentials/${encodeURIComponent(credentialId!)}/revoke`,
        issuer.token,
        {
          reason: 'issued in error',
        },
      );
      expect(revoked.status).toBe(200);
      await verifierPage.getByRole('button', { name: 'Verify' }).click();
      await verifierPage.getByTestId('verdict').filter({ hasText: 'Not valid: presentation' }).waitFor();
      expect(await verifierPage.getByTestId('verdict-reasons').textContent()).toContain('REVOKED');
      expect(await seriousViolations(verifierPage)).toEqual([]);
      // The holder's wallet, left open meanwhile, reads its credentials again when its tab is shown again.
      expect(await card.getByTestId('credential-status').textContent()).toBe('active');
      await holderPage.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await card.getByTestId('credential-status').filter({ hasText: 'revoked' }).waitFor();

      // The same page checks a portable reputation statement, and catches an altered score.
      const exported = await api.call('POST', '/v1/reputation/statements', holder.token);
      expect(exported.status).toBe(201);
      const statement = exported.body as { body: { reputation: { score: number } } };
      const box = verifierPage.getByLabel(/Presentation, W3C credential or reputation statement/);
      await box.fill(JSON.stringify(statement));
      await verifierPage.getByRole('button', { name: 'Verify' }).click();
      await verifierPage.getByTestId('verdict').filter({ hasText: 'Valid reputation statement' }).waitFor();
      await box.fill(
        JSON.stringify({
          ...statement,
          body: { ...statement.body, reputation: { ...statement.body.reputation, score: 99.5 } },
        }),
      );
      await verifierPage.getByRole('button', { name: 'Verify' }).click();
      await verifierPage.getByTestId('verdict').filter({ hasText: 'Not valid: reputation statement' }).waitFor();
      expect(await verifierPage.getByTestId('verdict-reasons').textContent()).toContain('SIGNATURE_INVALID');

      for (const side of [issuerSide, holderSide, verifierSide]) expect(side.policyViolations).toEqual([]);
    } finally {
      await issuerSide.context.close();
      await holderSide.context.close();
      await verifierSide.context.close();
    }
  });
});
