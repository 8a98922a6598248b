import { agreementTermsTransientKey } from '@gigledger/chaincode/model';
import { AgreementKit, newRequestId, terms, termsSha256, type Person } from '../../test-support/agreement-test-kit.js';
import { SseSubscription } from '../../test-support/sse-subscription.js';

interface EventMessage {
  name: string;
  agreementId: string;
  transactionId: string;
  blockNumber: string;
  actor: { mspId: string; userId?: string; role?: string };
  settlementRequests: { kind: string; amount: string; status: string }[];
  payload: { milestone?: { status: string } };
}

interface StreamedResult {
  data?: { agreementEvents: EventMessage } | null;
  errors?: { message: string; extensions?: { code?: string; status?: number } }[];
}

/** An agreement-events subscription over SSE, as a party, an overseer or an API key. */
async function openEvents(url: string, as: Person | { apiKey: string }, agreementId?: string) {
  const argument = agreementId === undefined ? '' : `(agreementId: "${agreementId}")`;
  const query = `subscription { agreementEvents${argument} { name agreementId transactionId blockNumber actor { mspId userId role } settlementRequests { kind amount status } payload } }`;
  const subscription = await SseSubscription.open(
    url,
    query,
    'apiKey' in as ? { 'x-api-key': as.apiKey } : { authorization: `Bearer ${as.token}` },
  );
  return {
    next: async (timeoutMs = 5000) => (await subscription.next(timeoutMs)) as StreamedResult | undefined,
    close: () => {
      subscription.close();
    },
  };
}

describe('agreement event subscriptions over SSE', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const rest = async (as: Person, path: string, body: unknown) => {
    const response = await kit.server.request('POST', path, { token: as.token, body });
    expect(response.status).toBe(200);
    return response.body as { result: { instructions: { instructionId: string }[] } };
  };

  it("streams one agreement's events to a party as its transitions commit, and nothing of other agreements", async () => {
    const target = await kit.offered();
    const stream = await openEvents(kit.server.url, kit.cast.client, target.agreementId);
    try {
      const base = `/v1/agreements/${target.agreementId}`;
      await rest(kit.cast.freelancer, `${base}/accept`, { termsSha256 });
      await kit.offered(); // Another agreement's event, which this stream must skip.
      const funding = await rest(kit.cast.client, `${base}/milestones/m1/fund`, { requestId: newRequestId() });
      await rest(kit.cast.settlement, `${base}/milestones/m1/settlement-confirmations`, {
        instructionId: funding.result.instructions[0]?.instructionId,
        outcome: 'paid',
        providerReference: 'psp-77',
      });

      const received: EventMessage[] = [];
      for (let index = 0; index < 3; index += 1) {
        const message = await stream.next();
        expect(message?.errors).toBeUndefined();
        if (message?.data) received.push(message.data.agreementEvents);
      }
      expect(received.map((event) => [event.name, event.agreementId])).toEqual([
        ['agreement.AgreementAccepted', target.agreementId],
        ['agreement.FundingRequested', target.agreementId],
        ['agreement.SettlementConfirmed', target.agreementId],
      ]);
      expect(received[0]?.actor).toEqual({ mspId: 'TalentOrgMSP', userId: 'tom', role: 'freelancer' });
      expect(received[1]?.settlementRequests).toEqual([{ kind: 'fund_escrow', amount: '150000', status: 'pending' }]);
      expect(received[2]?.payload.milestone?.status).toBe('funded');
      const transactionIds = new Set(kit.server.ledger.ledger.transactions.map((transaction) => transaction.txId));
      for (const event of received) expect(transactionIds.has(event.transactionId)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('refuses a subscriber who may not read the agreement with NOT_FOUND, and one without agreementId unless an overseer', async () => {
    const target = await kit.offered();
    const before = kit.mark();
    const stranger = await openEvents(kit.server.url, kit.cast.otherClient, target.agreementId);
    const refused = await stranger.next();
    expect(refused?.errors?.[0]).toMatchObject({
      message: `agreement ${target.agreementId} does not exist or is not visible to you`,
      extensions: { code: 'NOT_FOUND', status: 404 },
    });
    expect(await stranger.next()).toBeUndefined();

    const everything = await openEvents(kit.server.url, kit.cast.client);
    const forbidden = await everything.next();
    expect(forbidden?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });

    const hr = await openEvents(kit.server.url, { apiKey: kit.cast.hrKey });
    expect((await hr.next())?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(kit.mark().writes).toBe(before.writes);
  });

  it('streams every agreement to an admin, and to an auditor only one agreement at a time, under its grant', async () => {
    const auditorEverything = await openEvents(kit.server.url, kit.cast.auditor);
    expect((await auditorEverything.next())?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    auditorEverything.close();
    const admin = await kit.server.person('feed-admin', 'ClientOrg', 'admin');
    const stream = await openEvents(kit.server.url, admin);
    try {
      const first = await kit.offered();
      const second = await kit.offered();
      const names = [(await stream.next())?.data?.agreementEvents, (await stream.next())?.data?.agreementEvents].map(
        (event) => [event?.name, event?.agreementId],
      );
      expect(names).toEqual([
        ['agreement.AgreementDrafted', first.agreementId],
        ['agreement.AgreementDrafted', second.agreementId],
      ]);
    } finally {
      stream.close();
    }
  });

  it("streams an admin only the agreements naming a person of the admin's own organisation", async () => {
    const admin = await kit.server.person('feed-admin-audit', 'AuditOrg', 'admin');
    const stream = await openEvents(kit.server.url, admin);
    try {
      // Between ClientOrg and TalentOrg people: not the AuditOrg admin's to follow.
      await kit.offered();
      const agreementId = kit.nextAgreementId();
      const client = await kit.ledgerAs(kit.cast.client);
      await client.agreements.draftAgreement(
        { ...kit.draftRequest(agreementId), evaluator: { mspId: 'AuditOrgMSP', userId: 'audit-harness' } },
        { transient: { [agreementTermsTransientKey]: terms } },
      );
      const event = (await stream.next())?.data?.agreementEvents;
      expect([event?.name, event?.agreementId]).toEqual(['agreement.AgreementDrafted', agreementId]);
    } finally {
      stream.close();
    }
  });
});
