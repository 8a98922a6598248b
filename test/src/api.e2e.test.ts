import { randomBytes } from 'node:crypto';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { e2eConfig } from './support/e2e-environment.js';
import { oneMilestoneDraft } from './support/agreement-drafts.js';
import { startE2eApi, type E2eApi } from './support/api-server.js';
import { SseSubscription } from '@gigledger/api/test-support/sse-subscription';

interface Committed<Result> {
  transactionId: string;
  blockNumber: string;
  result: Result;
}

const sha256Of = (text: string): string => Buffer.from(text.padEnd(32, '#')).subarray(0, 32).toString('hex');

describe('the API on the real network', () => {
  let api: E2eApi;

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
  });

  afterAll(async () => {
    await api.close();
  });

  it('carries an agreement through REST, streams its events, and lets an auditor and an HR system read it', async () => {
    const suffix = randomBytes(3).toString('hex');
    const client = await api.person(`client-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`talent-${suffix}`, 'TalentOrg', 'freelancer');
    const bank = await api.person(`psp-${suffix}`, 'ClientOrg', 'settlement');
    const auditor = await api.person(`audit-${suffix}`, 'AuditOrg', 'auditor');
    // The freelancer's organisation's HR system: HR systems read their own organisation's people's agreements.
    const keyResponse = await api.call('POST', '/v1/admin/api-keys', await api.adminToken('TalentOrg'), {
      name: `hr-${suffix}`,
      org: 'TalentOrg',
      role: 'hr',
    });
    expect(keyResponse.status).toBe(201);
    const hr = { apiKey: (keyResponse.body as { key: string }).key };
    await api.grantKyc([freelancer.party]);

    const agreementId = `API-${suffix}`;
    const base = `/v1/agreements/${agreementId}`;
    const milestone = `${base}/milestones/m1`;
    const drafted = await api.call(
      'POST',
      '/v1/agreements',
      client.token,
      oneMilestoneDraft(client.party, freelancer.party, {
        agreementId,
        title: 'Speech model evaluation',
        scope: 'Evaluate the speech model on three accents and report WER.',
        milestone: {
          title: 'Evaluation report',
          amount: '120000',
          criteria: 'WER measured on the client test set',
          currency: 'GBP',
        },
      }),
    );
    expect(drafted.status).toBe(201);
    expect(drafted.headers.get('location')).toBe(base);

    const subscription = await SseSubscription.open(
      api.url,
      `subscription { agreementEvents(agreementId: "${agreementId}") { name transactionId blockNumber } }`,
      { authorization: `Bearer ${freelancer.token}` },
    );
    const outsider = await api.person(`other-${suffix}`, 'TalentOrg', 'freelancer');
    const peek = await api.call('GET', base, outsider.token);
    expect(peek.status).toBe(404);
    expect(JSON.stringify(peek.body)).not.toContain('Speech model');

    try {
      const terms = (await api.call('GET', `${base}/terms`, freelancer.token)).body as { termsSha256: string };
      const accept = { requestId: `accept-${suffix}`, termsSha256: terms.termsSha256 };
      const accepted = await api.call('POST', `${base}/accept`, freelancer.token, accept);
      expect(accepted.status).toBe(200);
      // A retry after a lost answer gets the first answer (the stored result, the
      // transaction that accepted and its block), not "already accepted"; the same id for
      // another request is refused.
      const retried = await api.call('POST', `${base}/accept`, freelancer.token, accept);
      expect([retried.status, retried.body]).toEqual([200, accepted.body]);
      expect(accepted.body).toMatchObject({ requestId: accept.requestId });
      const reused = await api.call('POST', `${base}/accept`, freelancer.token, {
        ...accept,
        termsSha256: sha256Of('other terms'),
      });
      expect([reused.status, (reused.body as { code: string }).code]).toEqual([409, 'REQUEST_ID_REUSED']);
      const confirmPending = async (record: MilestoneRecord, reference: string) => {
        for (const instruction of record.instructions.filter((candidate) => candidate.status === 'pending')) {
          const confirmed = await api.call('POST', `${milestone}/settlement-confirmations`, bank.token, {
            instructionId: instruction.instructionId,
            outcome: 'paid',
            providerReference: reference,
          });
          expect(confirmed.status).toBe(200);
        }
      };
      const funded = await api.call('POST', `${milestone}/fund`, client.token, {});
      await confirmPending((funded.body as Committed<MilestoneRecord>).result, `fund-${suffix}`);
      const delivered = await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
        artifactSha256: sha256Of('report'),
        uri: 'https://reports.example.com/wer.pdf',
        claimedMetrics: { wer: 0.071 },
      });
      expect(delivered.status).toBe(200);
      expect((await api.call('POST', `${milestone}/accept`, freelancer.token, {})).status).toBe(403);
      const milestoneAccepted = await api.call('POST', `${milestone}/accept`, client.token, {});
      expect(milestoneAccepted.status).toBe(200);
      // Without a request id the command ran under the request's own id (x-request-id),
      // which every answer names, so the client can retry with it.
      const generated = (milestoneAccepted.body as { requestId: string }).requestId;
      expect(generated).toBe(milestoneAccepted.headers.get('x-request-id'));
      const acceptedAgain = await api.call('POST', `${milestone}/accept`, client.token, { requestId: generated });
      expect([acceptedAgain.status, (acceptedAgain.body as Committed<MilestoneRecord>).result.status]).toEqual([
        200,
        'accepted',
      ]);
      // The repeat answers as the transaction that accepted, in its block: nothing new was ordered.
      const { transactionId, blockNumber } = milestoneAccepted.body as Committed<MilestoneRecord>;
      expect(acceptedAgain.body).toMatchObject({ requestId: generated, transactionId, blockNumber });
      const released = await api.call('POST', `${milestone}/release`, client.token, {});
      await confirmPending((released.body as Committed<MilestoneRecord>).result, `pay-${suffix}`);

      const view = (await api.call('GET', base, client.token)).body as {
        completed: boolean;
        milestones: { status: string }[];
      };
      expect(view).toMatchObject({ completed: true, milestones: [{ status: 'paid' }] });

      const granted = await api.call('POST', '/v1/audit/grants', await api.adminToken('ClientOrg'), {
        grantId: `AG-${suffix}`,
        auditor: auditor.party,
        kinds: ['agreement'],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        purpose: 'end-to-end suite',
      });
      expect(granted.status).toBe(201);
      const history = await api.call('GET', `${milestone}/history`, auditor.token);
      expect(history.status).toBe(200);
      const statuses = (history.body as { milestone?: { status: string } }[]).map((entry) => entry.milestone?.status);
      expect(statuses).toEqual(expect.arrayContaining(['paid', 'released', 'accepted', 'submitted', 'funded']));

      const hrView = await api.graphql<{ agreements: { agreement: { agreementId: string; status: string } }[] }>(
        `query ($party: PartyInput!) { agreements(party: $party, role: freelancer, completed: true) { agreement { agreementId status } } }`,
        hr,
        { party: freelancer.party },
      );
      expect(hrView.agreements.map((entry) => entry.agreement.agreementId)).toContain(agreementId);
      // One document, one root field refused: the other keeps its answer beside the refusal.
      const partial = await api.call('POST', '/graphql', hr, {
        query: `query ($party: PartyInput!) { agreements(party: $party, role: freelancer, completed: true) { agreement { agreementId } } credential(credentialId: "urn:uuid:00000000-0000-4000-8000-000000000000") { credentialId } }`,
        variables: { party: freelancer.party },
      });
      const partialBody = partial.body as {
        data: { agreements: { agreement: { agreementId: string } }[]; credential: null };
        errors: { path: string[]; extensions: { code: string } }[];
      };
      expect(partialBody.data.agreements.map((entry) => entry.agreement.agreementId)).toContain(agreementId);
      expect(partialBody.data.credential).toBeNull();
      expect(partialBody.errors.map((error) => [error.path[0], error.extensions.code])).toEqual([
        ['credential', 'NOT_FOUND'],
      ]);
      // The peers' chaincode filters by completion; REST and the open agreements agree.
      const openForHr = await api.graphql<{ agreements: { agreement: { agreementId: string; completed: boolean } }[] }>(
        `query ($party: PartyInput!) { agreements(party: $party, role: freelancer, completed: false, first: 500) { agreement { agreementId completed } } }`,
        hr,
        { party: freelancer.party },
      );
      expect(openForHr.agreements.map((entry) => entry.agreement.agreementId)).not.toContain(agreementId);
      expect(openForHr.agreements.every((entry) => !entry.agreement.completed)).toBe(true);
      const completedOverRest = await api.call(
        'GET',
        `/v1/agreements?role=freelancer&completed=true&first=500&mspId=${freelancer.party.mspId}&userId=${freelancer.party.userId}`,
        hr,
      );
      expect(completedOverRest.status).toBe(200);
      expect(
        (completedOverRest.body as { agreement: { agreementId: string } }[]).map(
          (entry) => entry.agreement.agreementId,
        ),
      ).toContain(agreementId);
      const hrWrite = await api.call('POST', `${milestone}/accept`, hr, {});
      expect(hrWrite.status).toBe(403);

      const names: string[] = [];
      for (;;) {
        const message = (await subscription.next()) as { data?: { agreementEvents: { name: string } } } | undefined;
        if (message?.data === undefined) break;
        names.push(message.data.agreementEvents.name);
        if (names.filter((name) => name === 'agreement.SettlementConfirmed').length === 2) break;
      }
      expect(names).toEqual([
        'agreement.AgreementAccepted',
        'agreement.FundingRequested',
        'agreement.SettlementConfirmed',
        'agreement.DeliverableSubmitted',
        'agreement.MilestoneAccepted',
        'agreement.MilestoneReleased',
        'agreement.SettlementConfirmed',
      ]);
    } finally {
      subscription.close();
    }

    const metrics = await fetch(`${api.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(
      /gigledger_ledger_transaction_duration_seconds_count\{[^}]*transaction="releaseMilestone"[^}]*outcome="ok"/,
    );
    const ready = await api.call('GET', '/readyz');
    expect(ready).toMatchObject({
      status: 200,
      body: { checks: { peers: true, certificateAuthorities: true, database: true } },
    });
  });

  it("refuses a person named as the CA's registrar, a network operator or another organisation's administrator, and registers others after", async () => {
    for (const [org, userId] of [
      ['TalentOrg', 'registrar'],
      ['TalentOrg', 'operator-talentorg'],
      ['ClientOrg', 'operator-clientorg'],
      ['ClientOrg', 'operator-neworg'],
      ['TalentOrg', 'admin-auditorg'],
    ] as const) {
      const taken = await api.call('POST', '/v1/admin/users', await api.adminToken(org), {
        userId,
        org,
        role: 'admin',
        password: 'a long enough password',
      });
      expect([org, userId, taken.status]).toEqual([org, userId, 422]);
      expect(taken.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.userId' });
    }
    // The registrar's secret is unchanged: the CA still registers people for the API.
    const person = await api.person(`after-${randomBytes(3).toString('hex')}`, 'TalentOrg', 'freelancer');
    expect(person.party.mspId).toBe('TalentOrgMSP');
  });
});
