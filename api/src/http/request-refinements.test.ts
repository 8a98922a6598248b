import { agreementTransactions, licensingTransactions } from '@gigledger/chaincode/model';
import { AgreementKit } from '../test-support/agreement-test-kit.js';
import { commandBodySchema } from './request-ids.js';

interface Refusal {
  code?: string;
  field?: string;
  message?: string;
}

/*
 * A chaincode request's rules that join two fields ("a failed payment must say why",
 * "termEnd after termStart") are refinements of the whole request. A REST body is built
 * from the request's fields, and each such rule must still refuse it at the edge with
 * 422 naming the field, before any handler, whatever the handler does next.
 */
describe("the rules joining a command's fields refuse a REST body at the edge", () => {
  let kit: AgreementKit;
  let adminToken: string;

  beforeAll(async () => {
    kit = await AgreementKit.start();
    adminToken = (await kit.server.person('ada', 'AuditOrg', 'admin')).token;
  });

  afterAll(async () => {
    await kit.close();
  });

  it('keeps the request schema’s refinements on the body schema built from its fields', () => {
    const body = commandBodySchema(licensingTransactions.confirmRoyaltyPayout.request, ['grantId', 'periodId']);
    const failedWithoutReason = body.safeParse({
      instructionId: 'G-1/fee/collect-1',
      outcome: 'failed',
      providerReference: 'r-1',
    });
    expect(failedWithoutReason.success).toBe(false);
    expect(failedWithoutReason.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['reason', 'must say why the payment failed'],
    ]);
    // A request without refinements gives a body without any.
    const plain = commandBodySchema(agreementTransactions.acceptAgreement.request, ['agreementId']);
    expect(plain._zod.def.checks ?? []).toEqual([]);
  });

  const party = (mspId: string, userId: string) => ({ mspId, userId });

  it.each([
    [
      'a draft naming the client as freelancer',
      'POST',
      '/v1/agreements',
      'client',
      () => ({
        ...kit.draftRequest('A-refined-1'),
        freelancer: kit.cast.client.party,
        evaluator: undefined,
        terms: { scope: 'Self-dealing', rates: [], personalData: {} },
      }),
      'body.freelancer',
      'must not be the client',
    ],
    [
      "a milestone's failed settlement without a reason",
      'POST',
      '/v1/agreements/A-404/milestones/m1/settlement-confirmations',
      'settlement',
      () => ({ instructionId: 'A-404/m1/fund-escrow-1', outcome: 'failed', providerReference: 'r-1' }),
      'body.reason',
      'must say why the payment failed',
    ],
    [
      'a dispute vote whose shares do not add up to the escrow',
      'POST',
      '/v1/agreements/A-404/milestones/m1/dispute/votes',
      'arbitrator',
      () => ({ escrowAmount: '1000', clientShare: '600', freelancerShare: '600', reason: 'split' }),
      'body.freelancerShare',
      undefined,
    ],
    [
      'a task review accepting and rejecting nothing',
      'POST',
      '/v1/agreements/A-404/milestones/b1/tasks/reviews',
      'client',
      () => ({ accept: [], reject: [] }),
      'body.accept',
      'must accept or reject at least one task',
    ],
    [
      'a licence offer ending before it starts',
      'POST',
      '/v1/licensing/offers',
      'freelancer',
      () => ({
        offerId: 'L-refined-1',
        workId: 'W-404',
        scope: 'evaluation',
        fieldsOfUse: ['any'],
        territories: ['WORLD'],
        exclusive: false,
        termStart: '2027-01-01T00:00:00.000Z',
        termEnd: '2026-01-01T00:00:00.000Z',
        royaltyBps: 100,
        currency: 'EUR',
        terms: { text: 'Evaluation only.' },
      }),
      'body.termEnd',
      'must be after termStart',
    ],
    [
      "a licence's failed collection without a reason",
      'POST',
      '/v1/licensing/grants/G-404/periods/fee/settlement-confirmations',
      'settlement',
      () => ({ instructionId: 'G-404/fee/collect-1', outcome: 'failed', providerReference: 'r-1' }),
      'body.reason',
      'must say why the payment failed',
    ],
    [
      'a credential expiring before it is issued',
      'POST',
      '/v1/credentials',
      'issuer',
      () => ({
        subject: party('TalentOrgMSP', 'tom'),
        type: 'Certification',
        issuanceDate: '2026-06-01T00:00:00.000Z',
        expirationDate: '2026-01-01T00:00:00.000Z',
        claims: [{ name: 'level', value: 'senior' }],
      }),
      'body.expirationDate',
      'must be after issuanceDate',
    ],
    [
      "an attestation citing the subject's agreement as the attester's own",
      'POST',
      '/v1/reputation/attestations',
      'otherFreelancer',
      () => ({
        subject: party('TalentOrgMSP', 'tom'),
        agreementId: 'A-404',
        attesterAgreementId: 'A-404',
        skill: 'pytorch',
        level: 5,
      }),
      'body.attesterAgreementId',
      "must be the attester's own agreement, not the subject's",
    ],
    [
      'an audit grant whose window ends before it starts',
      'POST',
      '/v1/audit/grants',
      'admin',
      () => ({
        grantId: 'AG-refined-1',
        auditor: party('AuditOrgMSP', 'audrey'),
        kinds: ['agreement'],
        from: '2026-06-01T00:00:00.000Z',
        to: '2026-01-01T00:00:00.000Z',
        expiresAt: kit.daysAhead(30),
        purpose: 'annual audit',
      }),
      'body.to',
      'must be after from',
    ],
  ] as const)('%s: 422 naming the field', async (_case, method, path, who, body, field, message) => {
    const cast = kit.cast;
    const token = {
      client: cast.client.token,
      settlement: cast.settlement.token,
      arbitrator: cast.arbitrators[0].token,
      freelancer: cast.freelancer.token,
      otherFreelancer: cast.otherFreelancer.token,
      issuer: cast.issuer.token,
      admin: adminToken,
    }[who];
    const before = kit.mark();
    const answer = await kit.server.request(method, path, { token, body: body() });
    const refusal = answer.body as Refusal;
    expect([answer.status, refusal.code, refusal.field]).toEqual([422, 'VALIDATION_FAILED', field]);
    if (message !== undefined) expect(refusal.message).toContain(message);
    expect(kit.mark()).toEqual(before);
  });
});
