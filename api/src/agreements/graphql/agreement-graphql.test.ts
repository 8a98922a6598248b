import { callsInFlight } from '../../test-support/calls-in-flight.js';
import { AgreementService } from '../agreement-service.js';
import {
  AgreementKit,
  artifactSha256,
  newRequestId,
  reportSha256,
  resultSha256,
  terms,
  termsSha256,
  type LedgerMark,
  type Person,
  type Target,
} from '../../test-support/agreement-test-kit.js';

interface GraphqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; status?: number; field?: string };
}

interface GraphqlResponse<Data = Record<string, unknown>> {
  data?: Data | null;
  errors?: GraphqlError[];
}

/** Any GraphQL data, for reading nested results in assertions. */
type Data = Record<string, Record<string, unknown> | undefined>;

/**
 * One GraphQL operation on an existing agreement: the right caller succeeds and the
 * ledger shows it; a wrong role, an outsider and malformed input fail, writing nothing.
 */
interface GraphqlCase {
  readonly operation: string;
  readonly document: string;
  readonly variables: (target: Target) => Record<string, unknown>;
  readonly prepare: () => Promise<Target>;
  readonly as: () => Person;
  readonly verify: (target: Target, data: Data) => Promise<void>;
  readonly wrongRole: () => Person;
  readonly notVisible: { readonly as: () => Person; readonly missingAgreement?: true };
  readonly malformed: { readonly variables: (target: Target) => Record<string, unknown>; readonly field: string };
}

const ref = (target: Target) => ({ agreementId: target.agreementId, milestoneId: target.milestoneId });
const milestoneQueryVariables = (target: Target) => ({ a: target.agreementId, m: target.milestoneId });

describe('agreements over GraphQL', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const graphql = async <Result = Data>(
    as: Person | { apiKey: string },
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphqlResponse<Result>> => {
    const credential = 'apiKey' in as ? { apiKey: as.apiKey } : { token: as.token };
    const response = await kit.server.request('POST', '/graphql', { ...credential, body: { query, variables } });
    return response.body as GraphqlResponse<Result>;
  };

  const milestoneMutation = (name: string, input: string) =>
    `mutation ($input: ${input}!) { ${name}(input: $input) { requestId transactionId blockNumber milestone { milestoneId status } } }`;
  const taskMutation = (name: string, input: string) =>
    `mutation ($input: ${input}!) { ${name}(input: $input) { transactionId milestone { status } tasks { taskId status } } }`;
  const agreementMutation = (name: string, input: string) =>
    `mutation ($input: ${input}!) { ${name}(input: $input) { transactionId agreement { agreementId status completed milestones { status } } } }`;

  const cases: GraphqlCase[] = [
    {
      operation: 'agreement',
      document:
        'query ($id: ID!) { agreement(id: $id) { agreementId status termsSha256 completed milestones { milestoneId status amount currency } history { status } client { userId } } }',
      variables: (target) => ({ id: target.agreementId }),
      prepare: () => kit.offered(),
      as: () => kit.cast.client,
      verify: (target, data) => {
        expect(data.agreement).toEqual({
          agreementId: target.agreementId,
          status: 'offered',
          termsSha256,
          completed: false,
          milestones: [{ milestoneId: 'm1', status: 'unfunded', amount: '150000', currency: 'EUR' }],
          history: [{ status: 'offered' }],
          client: { userId: kit.cast.client.party.userId },
        });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { variables: () => ({ id: '-not-an-id' }), field: 'id' },
    },
    {
      operation: 'milestoneHistory',
      document:
        'query ($a: ID!, $m: ID!) { milestoneHistory(agreementId: $a, milestoneId: $m) { txId milestone { status } } }',
      variables: milestoneQueryVariables,
      prepare: () => kit.funded(),
      as: () => kit.cast.freelancer,
      verify: (_target, data) => {
        const entries = data.milestoneHistory as unknown as { milestone: { status: string } }[];
        expect(entries.map((entry) => entry.milestone.status)).toEqual(['funded', 'funding', 'unfunded']);
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { variables: (target) => ({ a: target.agreementId, m: '-bad' }), field: 'milestoneId' },
    },
    {
      operation: 'tasks',
      document: 'query ($a: ID!, $m: ID!) { tasks(agreementId: $a, milestoneId: $m) { taskId status position } }',
      variables: milestoneQueryVariables,
      prepare: () => kit.active({ batch: true, milestoneId: 'b1' }),
      as: () => kit.cast.client,
      verify: (_target, data) => {
        expect(data.tasks).toEqual([
          { taskId: 't1', status: 'open', position: 1 },
          { taskId: 't2', status: 'open', position: 2 },
        ]);
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { variables: () => ({ a: '-bad', m: 'b1' }), field: 'agreementId' },
    },
    {
      operation: 'agreementTerms',
      document:
        'query ($a: ID!) { agreementTerms(agreementId: $a) { termsSha256 terms { scope rates { description amount currency per } personalData } } }',
      variables: (target) => ({ a: target.agreementId }),
      prepare: () => kit.offered(),
      as: () => kit.cast.client,
      verify: (_target, data) => {
        expect(data.agreementTerms).toEqual({
          termsSha256,
          terms: { scope: terms.scope, rates: terms.rates, personalData: terms.personalData },
        });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { variables: () => ({ a: '-bad' }), field: 'agreementId' },
    },
    {
      operation: 'verifyAgreementTerms',
      document:
        'query ($a: ID!, $terms: AgreementTermsInput!) { verifyAgreementTerms(agreementId: $a, terms: $terms) { termsSha256 documentSha256 matches privateDataHashMatches } }',
      variables: (target) => ({ a: target.agreementId, terms: { ...terms, scope: `${terms.scope}, altered` } }),
      prepare: () => kit.offered(),
      as: () => kit.cast.auditor,
      verify: (_target, data) => {
        expect(data.verifyAgreementTerms).toMatchObject({ termsSha256, matches: false, privateDataHashMatches: false });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: (target) => ({
          a: target.agreementId,
          terms: { ...terms, rates: [{ ...terms.rates?.[0], amount: '-1' }] },
        }),
        field: 'terms.rates.0.amount',
      },
    },
    {
      operation: 'acceptAgreement',
      document: agreementMutation('acceptAgreement', 'AcceptAgreementInput'),
      variables: (target) => ({ input: { agreementId: target.agreementId, termsSha256 } }),
      prepare: () => kit.offered(),
      as: () => kit.cast.freelancer,
      verify: async (target, data) => {
        // The result is a record; milestones and completion are read on demand.
        expect(data.acceptAgreement?.agreement).toEqual({
          agreementId: target.agreementId,
          status: 'active',
          completed: false,
          milestones: [{ status: 'unfunded' }],
        });
        expect((await kit.view(target.agreementId)).agreement.status).toBe('active');
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: (target) => ({ input: { agreementId: target.agreementId, termsSha256: 'x' } }),
        field: 'input.termsSha256',
      },
    },
    {
      operation: 'declineAgreement',
      document: agreementMutation('declineAgreement', 'AgreementReasonInput'),
      variables: (target) => ({ input: { agreementId: target.agreementId, reason: 'Not available' } }),
      prepare: () => kit.offered(),
      as: () => kit.cast.freelancer,
      verify: async (target) => {
        expect((await kit.view(target.agreementId)).agreement.status).toBe('declined');
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: (target) => ({ input: { agreementId: target.agreementId, reason: ' ' } }),
        field: 'input.reason',
      },
    },
    {
      operation: 'cancelAgreement',
      document: agreementMutation('cancelAgreement', 'AgreementReasonInput'),
      variables: (target) => ({ input: { agreementId: target.agreementId, reason: 'Budget cut' } }),
      prepare: () => kit.offered(),
      as: () => kit.cast.client,
      verify: async (target, data) => {
        expect(data.cancelAgreement?.agreement).toMatchObject({
          status: 'cancelled',
          milestones: [{ status: 'cancelled' }],
        });
        expect((await kit.view(target.agreementId)).agreement.status).toBe('cancelled');
      },
      wrongRole: () => kit.cast.arbitrators[0],
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: () => ({ input: { agreementId: '-bad', reason: 'Budget cut' } }),
        field: 'input.agreementId',
      },
    },
    {
      operation: 'fundMilestone',
      document: milestoneMutation('fundMilestone', 'CreatingMilestoneInput'),
      variables: (target) => ({ input: ref(target) }),
      prepare: () => kit.active(),
      as: () => kit.cast.client,
      verify: async (target, data) => {
        expect(data.fundMilestone?.requestId).toMatch(/^srv-/);
        expect((await kit.milestone(target)).status).toBe('funding');
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { variables: (target) => ({ input: { ...ref(target), requestId: 'x' } }), field: 'input.requestId' },
    },
    {
      operation: 'confirmSettlement',
      document: milestoneMutation('confirmSettlement', 'ConfirmSettlementInput'),
      variables: (target) => ({
        input: {
          ...ref(target),
          instructionId: target.instructionId,
          outcome: 'failed',
          providerReference: 'psp-9',
          reason: 'Card declined',
        },
      }),
      prepare: () => kit.funding(),
      as: () => kit.cast.settlement,
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('unfunded');
        expect(milestone.instructions[0]).toMatchObject({
          status: 'failed',
          confirmation: { reason: 'Card declined' },
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.settlement, missingAgreement: true },
      malformed: {
        variables: (target) => ({
          input: { ...ref(target), instructionId: target.instructionId, outcome: 'failed', providerReference: 'psp-9' },
        }),
        field: 'input.reason',
      },
    },
    {
      operation: 'submitDeliverable',
      document: milestoneMutation('submitDeliverable', 'SubmitDeliverableInput'),
      variables: (target) => ({
        input: {
          ...ref(target),
          artifactSha256,
          uri: 's3://models/defects/v1',
          claimedMetrics: { accuracy: 0.92 },
          note: null,
        },
      }),
      prepare: () => kit.funded(),
      as: () => kit.cast.freelancer,
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({
          status: 'submitted',
          submissions: [{ uri: 's3://models/defects/v1', claimedMetrics: { accuracy: 0.92 } }],
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), artifactSha256, uri: 'ftp://models/v1' } }),
        field: 'input.uri',
      },
    },
    {
      operation: 'acceptMilestone',
      document: milestoneMutation('acceptMilestone', 'MilestoneRefInput'),
      variables: (target) => ({ input: ref(target) }),
      prepare: () => kit.submitted(),
      as: () => kit.cast.client,
      verify: async (target) => {
        expect((await kit.milestone(target)).status).toBe('accepted');
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), milestoneId: '' } }),
        field: 'input.milestoneId',
      },
    },
    {
      operation: 'rejectDeliverable',
      document: milestoneMutation('rejectDeliverable', 'MilestoneReasonInput'),
      variables: (target) => ({ input: { ...ref(target), reason: 'Below threshold' } }),
      prepare: () => kit.submitted(),
      as: () => kit.cast.client,
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({ status: 'rejected', rejectionCount: 1 });
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { variables: (target) => ({ input: { ...ref(target), reason: '' } }), field: 'input.reason' },
    },
    {
      operation: 'claimAcceptance',
      document: milestoneMutation('claimAcceptance', 'MilestoneRefInput'),
      variables: (target) => ({ input: ref(target) }),
      prepare: async () => {
        const target = await kit.submitted();
        kit.passReviewWindow();
        return target;
      },
      as: () => kit.cast.freelancer,
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({
          status: 'accepted',
          acceptance: { by: 'review-window-lapsed' },
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), agreementId: 'a b' } }),
        field: 'input.agreementId',
      },
    },
    {
      operation: 'postEvaluation',
      document: milestoneMutation('postEvaluation', 'PostEvaluationInput'),
      variables: (target) => ({ input: { ...ref(target), artifactSha256, metrics: { accuracy: 0.5 }, reportSha256 } }),
      prepare: () => kit.submitted(),
      as: () => kit.cast.evaluator,
      verify: async (target) => {
        // Below the threshold: recorded, and the client still decides.
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('submitted');
        expect(milestone.submissions[0]?.evaluations).toMatchObject([{ allThresholdsMet: false }]);
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherEvaluator },
      malformed: {
        variables: (target) => ({
          input: { ...ref(target), artifactSha256, metrics: { accuracy: 'high' }, reportSha256 },
        }),
        field: 'input.metrics.accuracy',
      },
    },
    {
      operation: 'releaseMilestone',
      document: milestoneMutation('releaseMilestone', 'CreatingMilestoneInput'),
      variables: (target) => ({ input: { ...ref(target), requestId: newRequestId() } }),
      prepare: () => kit.accepted(),
      as: () => kit.cast.client,
      verify: async (target) => {
        expect((await kit.milestone(target)).status).toBe('released');
      },
      wrongRole: () => kit.cast.settlement,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), requestId: 'bad id!' } }),
        field: 'input.requestId',
      },
    },
    {
      operation: 'openDispute',
      document: milestoneMutation('openDispute', 'OpenDisputeInput'),
      variables: (target) => ({ input: { ...ref(target), reason: 'No review for weeks' } }),
      prepare: () => kit.submitted(),
      as: () => kit.cast.client,
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({ status: 'disputed', dispute: { openedBy: 'client' } });
      },
      wrongRole: () => kit.cast.evaluator,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), reason: 'r'.repeat(2001) } }),
        field: 'input.reason',
      },
    },
    {
      operation: 'castDisputeVote',
      document: milestoneMutation('castDisputeVote', 'CastDisputeVoteInput'),
      variables: (target) => ({
        input: {
          ...ref(target),
          escrowAmount: '150000',
          clientShare: '0',
          freelancerShare: '150000',
          reason: 'Delivered',
        },
      }),
      prepare: () => kit.disputed(),
      as: () => kit.cast.arbitrators[2],
      verify: async (target) => {
        const dispute = (await kit.milestone(target)).dispute;
        expect(dispute?.votes).toMatchObject([{ clientShare: '0' }]);
        // The panel reads over GraphQL as the ledger drew it, so an arbitrator finds their seat on it.
        const read = await graphql<{ agreement: { milestones: { milestoneId: string; dispute: unknown }[] } }>(
          kit.cast.arbitrators[2],
          'query ($id: ID!) { agreement(id: $id) { milestones { milestoneId dispute { panel { mspId userId } } } } }',
          { id: target.agreementId },
        );
        const disputed = read.data?.agreement.milestones.find((m) => m.milestoneId === target.milestoneId);
        expect(disputed?.dispute).toEqual({ panel: dispute?.panel?.map(({ mspId, userId }) => ({ mspId, userId })) });
        expect(dispute?.panel?.length).toBeGreaterThan(0);
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.arbitrators[2], missingAgreement: true },
      malformed: {
        variables: (target) => ({
          input: { ...ref(target), escrowAmount: '150000', clientShare: '-5', freelancerShare: '150005', reason: 'x' },
        }),
        field: 'input.clientShare',
      },
    },
    {
      operation: 'submitTasks',
      document: taskMutation('submitTasks', 'SubmitTasksInput'),
      variables: (target) => ({
        input: { ...ref(target), results: [{ taskId: 't1', resultSha256: resultSha256('t1'), uri: null }] },
      }),
      prepare: () => kit.funded({ batch: true, milestoneId: 'b1' }),
      as: () => kit.cast.freelancer,
      verify: async (target, data) => {
        expect(data.submitTasks?.tasks).toEqual([{ taskId: 't1', status: 'submitted' }]);
        expect((await kit.tasks(target)).map((task) => task.status)).toEqual(['submitted', 'open']);
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), results: [{ taskId: 't1', resultSha256: 'nope' }] } }),
        field: 'input.results.0.resultSha256',
      },
    },
    {
      operation: 'reviewTasks',
      document: taskMutation('reviewTasks', 'ReviewTasksInput'),
      variables: (target) => ({ input: { ...ref(target), reject: [{ taskId: 't1', reason: 'Boxes too loose' }] } }),
      prepare: () => kit.tasksSubmitted(),
      as: () => kit.cast.client,
      verify: async (target) => {
        expect((await kit.tasks(target)).map((task) => task.status)).toEqual(['rejected', 'open']);
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: {
        variables: (target) => ({ input: { ...ref(target), accept: ['t1'], reject: [{ taskId: 't1', reason: 'x' }] } }),
        field: 'input.reject.0.taskId',
      },
    },
    {
      operation: 'claimTasksAcceptance',
      document: taskMutation('claimTasksAcceptance', 'MilestoneRefInput'),
      variables: (target) => ({ input: ref(target) }),
      prepare: async () => {
        const target = await kit.tasksSubmitted();
        kit.passReviewWindow();
        return target;
      },
      as: () => kit.cast.freelancer,
      verify: async (target) => {
        expect((await kit.tasks(target)).map((task) => task.status)).toEqual(['accepted', 'open']);
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        variables: () => ({ input: { agreementId: 'A-1', milestoneId: '.b1' } }),
        field: 'input.milestoneId',
      },
    },
  ];

  describe.each(cases.map((testCase) => [testCase.operation, testCase] as const))('%s', (_operation, testCase) => {
    let target: Target;

    beforeAll(async () => {
      target = await testCase.prepare();
    });

    it('answers malformed input with VALIDATION_FAILED naming the field, before calling the ledger', async () => {
      const before = kit.mark();
      const response = await graphql(testCase.as(), testCase.document, testCase.malformed.variables(target));
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 422,
        field: testCase.malformed.field,
      });
      expect(kit.mark()).toEqual(before);
    });

    it('refuses a caller of the wrong role with FORBIDDEN, before calling the ledger', async () => {
      const before = kit.mark();
      const response = await graphql(testCase.wrongRole(), testCase.document, testCase.variables(target));
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect(kit.mark()).toEqual(before);
    });

    it('answers NOT_FOUND to a caller who may not see the agreement, revealing nothing', async () => {
      const before = kit.mark();
      const { as, missingAgreement } = testCase.notVisible;
      const where = missingAgreement === true ? { ...target, agreementId: 'no-such-agreement' } : target;
      const response = await graphql(as(), testCase.document, testCase.variables(where));
      expect(response.errors).toHaveLength(1);
      expect(response.errors?.[0]).toMatchObject({
        message: `agreement ${where.agreementId} does not exist or is not visible to you`,
        // The id as the caller sent it: `agreement(id:)`, an argument of its own, or inside `input`.
        extensions: {
          code: 'NOT_FOUND',
          status: 404,
          field:
            testCase.operation === 'agreement' ? 'id' : (expect.stringMatching(/^(input\.)?agreementId$/) as string),
        },
      });
      // Whatever field was asked for is null: no part of the agreement comes back.
      expect((Object.values(response.data ?? {}) as unknown[]).filter((value) => value !== null)).toEqual([]);
      expectNothingWritten(before, kit.mark());
    });

    it('does what it says for the right caller', async () => {
      const response = await graphql(testCase.as(), testCase.document, testCase.variables(target));
      expect(response.errors).toBeUndefined();
      await testCase.verify(target, response.data as Data);
    });
  });

  describe('draftAgreement', () => {
    const document = `mutation ($input: DraftAgreementInput!) {
      draftAgreement(input: $input) { requestId transactionId agreement { agreementId status termsSha256 completed milestones { milestoneId kind status batch { taskCount } } } }
    }`;
    const input = (agreementId = kit.nextAgreementId()) => ({
      ...kit.draftRequest(agreementId, { batch: true }),
      terms,
    });

    it('drafts with the terms in the transient map and answers the agreement', async () => {
      const variables = input();
      const response = await graphql(kit.cast.client, document, { input: variables });
      expect(response.errors).toBeUndefined();
      expect(response.data?.draftAgreement).toMatchObject({
        requestId: variables.requestId,
        agreement: {
          agreementId: variables.agreementId,
          status: 'offered',
          termsSha256,
          completed: false,
          milestones: [
            { milestoneId: 'm1', kind: 'deliverable', status: 'unfunded', batch: null },
            { milestoneId: 'b1', kind: 'batch', status: 'unfunded', batch: { taskCount: 2 } },
          ],
        },
      });
      expect((await kit.view(variables.agreementId)).agreement.termsSha256).toBe(termsSha256);
    });

    it('refuses the wrong role, and a client drafting for another, with FORBIDDEN before calling the ledger', async () => {
      for (const as of [kit.cast.freelancer, kit.cast.otherClient]) {
        const before = kit.mark();
        const response = await graphql(as, document, { input: input() });
        expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
        expect(kit.mark()).toEqual(before);
      }
    });

    it('answers malformed input with VALIDATION_FAILED naming the field, before calling the ledger', async () => {
      const variables = input();
      const [first] = variables.milestones;
      const before = kit.mark();
      const response = await graphql(kit.cast.client, document, {
        input: { ...variables, milestones: [{ ...first, amount: '1e5' }] },
      });
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'input.milestones.0.amount',
      });
      const badTerms = await graphql(kit.cast.client, document, { input: { ...variables, terms: { scope: '' } } });
      expect(badTerms.errors?.[0]?.extensions).toMatchObject({ field: 'input.terms.scope' });
      expect(kit.mark()).toEqual(before);
    });

    it('returns the stored result for a repeated request id and REQUEST_ID_REUSED for another body', async () => {
      const variables = input();
      const first = await graphql(kit.cast.client, document, { input: variables });
      const again = await graphql(kit.cast.client, document, { input: variables });
      expect(again.data?.draftAgreement?.agreement).toEqual(first.data?.draftAgreement?.agreement);
      const reused = await graphql(kit.cast.client, document, { input: { ...variables, title: 'Changed' } });
      expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'REQUEST_ID_REUSED', status: 409 });
    });
  });

  describe('agreements', () => {
    const document = `query ($party: PartyInput, $role: PartyRole, $completed: Boolean) {
      agreements(party: $party, role: $role, completed: $completed) { role agreement { agreementId status completed } }
    }`;

    it("lists the caller's own agreements, reading completion only when asked", async () => {
      const target = await kit.offered();
      const response = await graphql<{ agreements: { role: string; agreement: { agreementId: string } }[] }>(
        kit.cast.client,
        document,
        { role: 'client' },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data?.agreements).toContainEqual({
        role: 'client',
        agreement: { agreementId: target.agreementId, status: 'offered', completed: false },
      });
    });

    it("refuses a client listing another person's agreements with FORBIDDEN, before calling the ledger", async () => {
      const before = kit.mark();
      const response = await graphql(kit.cast.otherClient, document, { party: kit.cast.client.party });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect(kit.mark()).toEqual(before);
    });

    it('names a malformed party field', async () => {
      const response = await graphql(kit.cast.auditor, document, {
        party: { mspId: 'ClientOrgMSP', userId: 'Not Valid' },
      });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'party.userId' });
    });

    it('pages through agreementPage with pageInfo, each agreement once, the same list agreements answers', async () => {
      for (let made = 0; made < 3; made += 1) await kit.offered();
      const pageDocument = `query ($role: PartyRole, $first: Int, $after: String) {
        agreementPage(role: $role, first: $first, after: $after) {
          items { role agreement { agreementId } }
          pageInfo { hasNextPage endCursor }
        }
      }`;
      type PageAnswer = {
        agreementPage: {
          items: { role: string; agreement: { agreementId: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      };
      const everything = await graphql<{ agreements: { agreement: { agreementId: string } }[] }>(
        kit.cast.freelancer,
        `
          query {
            agreements(role: freelancer, first: 500) {
              agreement {
                agreementId
              }
            }
          }
        `,
      );
      const all = everything.data?.agreements.map((entry) => entry.agreement.agreementId) ?? [];
      expect(all.length).toBeGreaterThanOrEqual(3);

      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const response = await graphql<PageAnswer>(kit.cast.freelancer, pageDocument, {
          role: 'freelancer',
          first: 2,
          ...(after === undefined ? {} : { after }),
        });
        expect(response.errors).toBeUndefined();
        const page = response.data?.agreementPage;
        expect(page?.items.length).toBeLessThanOrEqual(2);
        paged.push(...(page?.items.map((entry) => entry.agreement.agreementId) ?? []));
        expect(page?.pageInfo.hasNextPage).toBe(page?.pageInfo.endCursor !== null);
        if (page?.pageInfo.endCursor == null) break;
        after = page.pageInfo.endCursor;
      }
      expect(paged).toEqual(all);

      for (const [variables, field] of [
        [{ first: 0 }, 'first'],
        [{ first: 501 }, 'first'],
        [{ after: '%%' }, 'after'],
      ] as const) {
        const refused = await graphql(kit.cast.freelancer, pageDocument, variables);
        expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field });
      }
      // The cost limit sees no `first` passed as a variable: the request's lists are bounded together.
      const aliased = await graphql(
        kit.cast.freelancer,
        `
          query ($f: Int) {
            a: agreementPage(first: $f) {
              items {
                role
              }
            }
            b: agreementPage(first: $f) {
              items {
                role
              }
            }
            c: agreementPage(first: $f) {
              items {
                role
              }
            }
          }
        `,
        { f: 500 },
      );
      expect(aliased.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'first' });
      expect(aliased.errors?.[0]?.message).toMatch(/may ask for 1000 records together; this one asks for 1500/);
      // Nor does it add up the operations of a batch: five of two pages of 500 are one request's 5,000 records.
      const batch = await kit.server.request('POST', '/graphql', {
        token: kit.cast.freelancer.token,
        body: Array.from({ length: 5 }, () => ({
          query: 'query ($f: Int) { a: agreements(first: $f) { role } b: agreements(first: $f) { role } }',
          variables: { f: 500 },
        })),
      });
      expect(batch.status).toBe(200);
      const answers = batch.body as GraphqlResponse<Data>[];
      expect(answers.map((answer) => answer.errors === undefined)).toEqual([true, false, false, false, false]);
      for (const answer of answers.slice(1)) {
        expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'first' });
      }
      expect(answers[1]?.errors?.[0]?.message).toMatch(/may ask for 1000 records together; this one asks for 1500/);
      // A cursor of the freelancer's list is not one of the client's.
      const clientsList = await graphql(kit.cast.client, pageDocument, {
        role: 'client',
        after: paged.length > 0 ? after : undefined,
      });
      expect(clientsList.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
    });

    it('reads at most eight agreement views at once for one HTTP request, every operation of a batch together', async () => {
      for (let n = 0; n < 12; n += 1) await kit.offered();
      const views = callsInFlight([[AgreementService.prototype, 'getAgreement']]);
      try {
        const batch = await kit.server.request('POST', '/graphql', {
          token: kit.cast.freelancer.token,
          body: Array.from({ length: 4 }, () => ({
            query: '{ agreements(first: 20) { agreement { agreementId milestones { status } } } }',
          })),
        });
        expect(batch.status).toBe(200);
        const answers = batch.body as GraphqlResponse<{ agreements: unknown[] }>[];
        for (const answer of answers) {
          expect(answer.errors).toBeUndefined();
          expect(answer.data?.agreements.length).toBeGreaterThanOrEqual(12);
        }
        // Each operation counting alone would read eight at once each: 32.
        expect(views.most()).toBe(8);
      } finally {
        views.restore();
      }
    });

    it("gives an HR system a freelancer's completed agreements, and refuses its mutations", async () => {
      const completed = await kit.paid();
      const ongoing = await kit.funded();
      const hr = { apiKey: kit.cast.hrKey };
      const response = await graphql<{
        agreements: { role: string; agreement: { agreementId: string; completed: boolean } }[];
      }>(hr, document, { party: kit.cast.freelancer.party, role: 'freelancer', completed: true });
      expect(response.errors).toBeUndefined();
      const ids = response.data?.agreements.map((entry) => entry.agreement.agreementId);
      expect(ids).toContain(completed.agreementId);
      expect(ids).not.toContain(ongoing.agreementId);
      expect(response.data?.agreements.every((entry) => entry.agreement.completed && entry.role === 'freelancer')).toBe(
        true,
      );

      const before = kit.mark();
      const mutation = await graphql(hr, milestoneMutation('fundMilestone', 'CreatingMilestoneInput'), {
        input: ref(ongoing),
      });
      expect(mutation.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect(kit.mark()).toEqual(before);
    });
  });

  it('runs the happy path with mutations: draft, accept, fund, confirm, submit, accept, release, confirm paid', async () => {
    const agreementId = kit.nextAgreementId();
    const input = { ...kit.draftRequest(agreementId), terms };
    const drafted = await graphql(kit.cast.client, agreementMutation('draftAgreement', 'DraftAgreementInput'), {
      input,
    });
    expect(drafted.errors).toBeUndefined();
    const step = async (as: Person, document: string, variables: Record<string, unknown>) => {
      const response = await graphql(as, document, { input: variables });
      expect(response.errors).toBeUndefined();
      return response.data ?? {};
    };
    const milestone = { agreementId, milestoneId: 'm1' };
    const instructionsDocument = `mutation ($input: CreatingMilestoneInput!) {
      fundMilestone(input: $input) { milestone { status instructions { instructionId kind status recipient { userId } } } }
    }`;

    await step(kit.cast.freelancer, agreementMutation('acceptAgreement', 'AcceptAgreementInput'), {
      agreementId,
      termsSha256,
    });
    const funding = await step(kit.cast.client, instructionsDocument, milestone);
    const [fundEscrow] = (
      funding.fundMilestone?.milestone as { instructions: { instructionId: string; kind: string }[] }
    ).instructions;
    expect(fundEscrow).toMatchObject({ kind: 'fund_escrow', recipient: null });
    const confirm = milestoneMutation('confirmSettlement', 'ConfirmSettlementInput');
    await step(kit.cast.settlement, confirm, {
      ...milestone,
      instructionId: fundEscrow?.instructionId,
      outcome: 'paid',
      providerReference: 'psp-1',
    });
    await step(kit.cast.freelancer, milestoneMutation('submitDeliverable', 'SubmitDeliverableInput'), {
      ...milestone,
      artifactSha256,
      uri: 'hf://acme/defects-v1',
    });
    const acceptance = { ...milestone, requestId: `accept-${agreementId}` };
    const accepted = await step(kit.cast.client, milestoneMutation('acceptMilestone', 'MilestoneRefInput'), acceptance);
    // The same request id again (an answer lost on the way) answers the acceptance, not
    // INVALID_STATE: the same answer, naming the transaction that accepted and its block.
    const again = await step(kit.cast.client, milestoneMutation('acceptMilestone', 'MilestoneRefInput'), acceptance);
    expect(again.acceptMilestone).toMatchObject({
      requestId: acceptance.requestId,
      milestone: { milestoneId: 'm1', status: 'accepted' },
    });
    expect(again).toEqual(accepted);
    const released = await step(
      kit.cast.client,
      milestoneMutation('releaseMilestone', 'CreatingMilestoneInput'),
      milestone,
    );
    expect(released.releaseMilestone?.milestone).toEqual({ milestoneId: 'm1', status: 'released' });
    const payout = (await kit.milestone(milestone)).instructions.find((instruction) => instruction.kind === 'release');
    // Payer and payee are the parties whichever way money moves; the recipient is who is paid.
    expect(payout?.recipient).toEqual(payout?.payee);
    await step(kit.cast.settlement, confirm, {
      ...milestone,
      instructionId: payout?.instructionId,
      outcome: 'paid',
      providerReference: 'psp-2',
    });

    const final = await graphql<{ agreement: { completed: boolean; milestones: { status: string }[] } }>(
      kit.cast.freelancer,
      'query ($id: ID!) { agreement(id: $id) { completed milestones { status } } }',
      { id: agreementId },
    );
    expect(final.data?.agreement).toEqual({ completed: true, milestones: [{ status: 'paid' }] });
  });

  it('keeps the answer of a mutation that committed beside the error of one refused in the same document', async () => {
    const target = await kit.offered();
    const requestId = `cancel-${target.agreementId}`;
    const answer = await graphql<{
      first: { transactionId: string; agreement: { status: string } } | null;
      second: { transactionId: string } | null;
    }>(
      kit.cast.client,
      `
        mutation ($first: AgreementReasonInput!, $second: AgreementReasonInput!) {
          first: cancelAgreement(input: $first) {
            transactionId
            agreement {
              status
            }
          }
          second: cancelAgreement(input: $second) {
            transactionId
          }
        }
      `,
      {
        first: { agreementId: target.agreementId, reason: 'Budget cut', requestId },
        second: { agreementId: target.agreementId, reason: 'Scope changed', requestId },
      },
    );
    // Mutations run one after another: the first cancels, the second reuses its request id.
    expect(answer.data?.first).toMatchObject({
      transactionId: expect.any(String) as string,
      agreement: { status: 'cancelled' },
    });
    expect(answer.data?.second).toBeNull();
    expect(answer.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [['second'], 'REQUEST_ID_REUSED'],
    ]);
    expect((await kit.view(target.agreementId)).agreement.status).toBe('cancelled');
  });

  it("names a refused command mutation's own request id in the error, generated or given, for a safe retry", async () => {
    const target = await kit.active();
    const document = milestoneMutation('acceptMilestone', 'MilestoneRefInput');
    const ref = { agreementId: target.agreementId, milestoneId: target.milestoneId };
    // Nothing delivered yet: the chaincode refuses after the request id was settled.
    const generated = await graphql(kit.cast.client, document, { input: ref });
    expect(generated.errors?.[0]?.extensions).toMatchObject({
      code: 'INVALID_STATE',
      commandRequestId: expect.stringMatching(/^srv-/) as string,
    });
    const given = await graphql(kit.cast.client, document, { input: { ...ref, requestId: 'accept-early-0001' } });
    expect(given.errors?.[0]?.extensions).toMatchObject({ commandRequestId: 'accept-early-0001' });
    // A refusal before any request id was settled names none.
    const malformed = await graphql(kit.cast.client, document, { input: { ...ref, requestId: 'x' } });
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(malformed.errors?.[0]?.extensions).not.toHaveProperty('commandRequestId');
  });

  it('refuses a query nested deeper than the configured limit before running it', async () => {
    const shallow = await AgreementKit.start({ GRAPHQL_MAX_DEPTH: '3' });
    try {
      const before = shallow.mark();
      const response = await shallow.server.request('POST', '/graphql', {
        token: shallow.cast.client.token,
        body: {
          query: '{ agreement(id: "A-001") { milestones { submissions { evaluations { evaluator { userId } } } } } }',
        },
      });
      const body = response.body as GraphqlResponse;
      expect(body.errors?.[0]?.message).toMatch(/depth/i);
      expect(body.data ?? undefined).toBeUndefined();
      expect(shallow.mark()).toEqual(before);
      const allowed = await shallow.server.request('POST', '/graphql', {
        token: shallow.cast.client.token,
        body: { query: '{ agreement(id: "A-001") { milestones { status } } }' },
      });
      expect((allowed.body as GraphqlResponse).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await shallow.close();
    }
  });
});

function expectNothingWritten(before: LedgerMark, after: LedgerMark): void {
  expect(after.writes).toBe(before.writes);
  expect(after.keys).toEqual(before.keys);
}
