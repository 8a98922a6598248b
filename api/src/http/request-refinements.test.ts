import { agreementTransactions, licensingTransactions } from '@gigledger/chaincode/model';
import { AgreementKit } from '../test-support/agreement-test-kit.js';
import { commandBodySchema } from './request-ids.js';

interface Refusal {
  code?: string;
  field?: string;
  message?: string;
}

type Who = 'client' | 'settlement' | 'arbitrator' | 'freelancer' | 'otherFreelancer' | 'issuer' | 'admin';

interface RefinedCase {
  name: string;
  method: 'POST';
  path: string;
  who: Who;
  body: () => Record<string, unknown>;
  /** Where REST names the field; GraphQL names it under `input.` instead of `body.`. */
  field: string;
  message: string | undefined;
  /** The GraphQL mutation taking the same command, with the fields REST takes from the path. */
  mutation?: { name: string; pathFields: Record<string, string> };
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

  const cases: readonly RefinedCase[] = [
    {
      name: 'a draft naming the client as freelancer',
      method: 'POST',
      path: '/v1/agreements',
      who: 'client',
      body: () => ({
        ...kit.draftRequest('A-refined-1'),
        freelancer: kit.cast.client.party,
        evaluator: undefined,
        terms: { scope: 'Self-dealing', rates: [], personalData: {} },
      }),
      field: 'body.freelancer',
      message: 'must not be the client',
      mutation: { name: 'draftAgreement', pathFields: {} },
    },
    {
      name: "a milestone's failed settlement without a reason",
      method: 'POST',
      path: '/v1/agreements/A-404/milestones/m1/settlement-confirmations',
      who: 'settlement',
      body: () => ({ instructionId: 'A-404/m1/fund-escrow-1', outcome: 'failed', providerReference: 'r-1' }),
      field: 'body.reason',
      message: 'must say why the payment failed',
      mutation: { name: 'confirmSettlement', pathFields: { agreementId: 'A-404', milestoneId: 'm1' } },
    },
    {
      name: 'a dispute vote whose shares do not add up to the escrow',
      method: 'POST',
      path: '/v1/agreements/A-404/milestones/m1/dispute/votes',
      who: 'arbitrator',
      body: () => ({ escrowAmount: '1000', clientShare: '600', freelancerShare: '600', reason: 'split' }),
      field: 'body.freelancerShare',
      message: undefined,
      mutation: { name: 'castDisputeVote', pathFields: { agreementId: 'A-404', milestoneId: 'm1' } },
    },
    {
      name: 'a task review accepting and rejecting nothing',
      method: 'POST',
      path: '/v1/agreements/A-404/milestones/b1/tasks/reviews',
      who: 'client',
      body: () => ({ accept: [], reject: [] }),
      field: 'body.accept',
      message: 'must accept or reject at least one task',
      mutation: { name: 'reviewTasks', pathFields: { agreementId: 'A-404', milestoneId: 'b1' } },
    },
    {
      name: 'a licence offer ending before it starts',
      method: 'POST',
      path: '/v1/licensing/offers',
      who: 'freelancer',
      body: () => ({
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
      field: 'body.termEnd',
      message: 'must be after termStart',
      mutation: { name: 'offerLicence', pathFields: {} },
    },
    {
      name: "a licence's failed collection without a reason",
      method: 'POST',
      path: '/v1/licensing/grants/G-404/periods/fee/settlement-confirmations',
      who: 'settlement',
      body: () => ({ instructionId: 'G-404/fee/collect-1', outcome: 'failed', providerReference: 'r-1' }),
      field: 'body.reason',
      message: 'must say why the payment failed',
      mutation: { name: 'confirmRoyaltyPayout', pathFields: { grantId: 'G-404', periodId: 'fee' } },
    },
    {
      name: 'a credential expiring before it is issued',
      method: 'POST',
      path: '/v1/credentials',
      who: 'issuer',
      body: () => ({
        subject: party('TalentOrgMSP', 'tom'),
        type: 'Certification',
        issuanceDate: '2026-06-01T00:00:00.000Z',
        expirationDate: '2026-01-01T00:00:00.000Z',
        claims: [{ name: 'level', value: 'senior' }],
      }),
      field: 'body.expirationDate',
      message: 'must be after issuanceDate',
      mutation: { name: 'issueCredential', pathFields: {} },
    },
    {
      name: "an attestation citing the subject's agreement as the attester's own",
      method: 'POST',
      path: '/v1/reputation/attestations',
      who: 'otherFreelancer',
      body: () => ({
        subject: party('TalentOrgMSP', 'tom'),
        agreementId: 'A-404',
        attesterAgreementId: 'A-404',
        skill: 'pytorch',
        level: 5,
      }),
      field: 'body.attesterAgreementId',
      message: "must be the attester's own agreement, not the subject's",
    },
    {
      name: 'an audit grant whose window ends before it starts',
      method: 'POST',
      path: '/v1/audit/grants',
      who: 'admin',
      body: () => ({
        grantId: 'AG-refined-1',
        auditor: party('AuditOrgMSP', 'audrey'),
        kinds: ['agreement'],
        from: '2026-06-01T00:00:00.000Z',
        to: '2026-01-01T00:00:00.000Z',
        expiresAt: kit.daysAhead(30),
        purpose: 'annual audit',
      }),
      field: 'body.to',
      message: 'must be after from',
      mutation: { name: 'grantAuditAccess', pathFields: {} },
    },
  ];

  const tokenOf = (who: Who) => {
    const cast = kit.cast;
    return {
      client: cast.client.token,
      settlement: cast.settlement.token,
      arbitrator: cast.arbitrators[0].token,
      freelancer: cast.freelancer.token,
      otherFreelancer: cast.otherFreelancer.token,
      issuer: cast.issuer.token,
      admin: adminToken,
    }[who];
  };

  it.each(cases)('$name: 422 over REST naming the field', async ({ method, path, who, body, field, message }) => {
    const before = kit.mark();
    const answer = await kit.server.request(method, path, { token: tokenOf(who), body: body() });
    const refusal = answer.body as Refusal;
    expect([answer.status, refusal.code, refusal.field]).toEqual([422, 'VALIDATION_FAILED', field]);
    if (message !== undefined) expect(refusal.message).toContain(message);
    expect(kit.mark()).toEqual(before);
  });

  it.each(cases.filter((refined) => refined.mutation !== undefined))(
    '$name: refused over GraphQL naming the input field',
    async ({ who, body, field, message, mutation }) => {
      if (mutation === undefined) throw new Error('filtered to cases with a mutation');
      const before = kit.mark();
      const answer = await kit.server.request('POST', '/graphql', {
        token: tokenOf(who),
        body: {
          query: `mutation($input: ${mutation.name[0]?.toUpperCase()}${mutation.name.slice(1)}Input!) { ${mutation.name}(input: $input) { requestId } }`,
          variables: { input: { ...body(), ...mutation.pathFields } },
        },
      });
      const refusal = (answer.body as { errors?: { message: string; extensions?: Refusal }[] }).errors?.[0];
      expect([refusal?.extensions?.code, refusal?.extensions?.field]).toEqual([
        'VALIDATION_FAILED',
        field.replace(/^body\./, 'input.'),
      ]);
      if (message !== undefined) expect(refusal?.message).toContain(message);
      expect(kit.mark()).toEqual(before);
    },
  );
});
