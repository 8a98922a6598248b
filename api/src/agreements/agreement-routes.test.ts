import { expectRefusedNaming, firstErrorField } from '../test-support/party-refusals.js';
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
} from '../test-support/agreement-test-kit.js';
import type { Committed } from '../ledger/committed.js';

interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  field?: string;
  requestId: string;
}

/**
 * One REST operation on an existing agreement, with everything needed to show that the
 * right caller succeeds and changes the ledger, and that a caller of the wrong role, a
 * caller to whom the agreement is not visible, and malformed input all fail without
 * writing anything.
 */
interface RestCase {
  readonly operation: string;
  readonly method: 'GET' | 'POST';
  readonly path: (target: Target) => string;
  /** Puts a fresh agreement into the state the operation needs. */
  readonly prepare: () => Promise<Target>;
  readonly as: () => Person;
  readonly body?: (target: Target) => unknown;
  /** Asserts the response and the state the operation left on the ledger. */
  readonly verify: (target: Target, body: unknown) => Promise<void>;
  readonly wrongRole: () => Person;
  /**
   * Who gets 404: another party, to whom the agreement is invisible; or, for roles that
   * see every agreement, the same caller on an agreement that does not exist.
   */
  readonly notVisible: { readonly as: () => Person; readonly missingAgreement?: true };
  readonly malformed: {
    readonly path?: (target: Target) => string;
    readonly body?: (target: Target) => unknown;
    readonly field: string;
  };
}

const agreementPath = (target: Target) => `/v1/agreements/${target.agreementId}`;
const milestonePath = (target: Target) => `${agreementPath(target)}/milestones/${target.milestoneId}`;
const badAgreementPath = () => '/v1/agreements/-not-an-id';
const badMilestonePath = (target: Target) => `${agreementPath(target)}/milestones/-not-an-id`;

describe('agreement REST routes', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const call = async (method: string, path: string, as: Person, body?: unknown) =>
    kit.server.request(method, path, { token: as.token, ...(body === undefined ? {} : { body }) });

  const cases: RestCase[] = [
    {
      operation: 'getAgreement',
      method: 'GET',
      path: agreementPath,
      prepare: () => kit.offered(),
      as: () => kit.cast.client,
      verify: (target, body) => {
        expect(body).toMatchObject({
          agreement: { agreementId: target.agreementId, status: 'offered', termsSha256 },
          milestones: [{ milestoneId: 'm1', status: 'unfunded', amount: '150000', currency: 'EUR' }],
          completed: false,
          history: [{ status: 'offered' }],
        });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { path: badAgreementPath, field: 'path.agreementId' },
    },
    {
      operation: 'acceptAgreement',
      method: 'POST',
      path: (target) => `${agreementPath(target)}/accept`,
      prepare: () => kit.offered(),
      as: () => kit.cast.freelancer,
      body: () => ({ termsSha256 }),
      verify: async (target, body) => {
        expect((body as Committed<{ status: string }>).result.status).toBe('active');
        expect((await kit.view(target.agreementId)).agreement).toMatchObject({
          status: 'active',
          acceptedAt: expect.any(String) as string,
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { body: () => ({ termsSha256: 'not a hash' }), field: 'body.termsSha256' },
    },
    {
      operation: 'declineAgreement',
      method: 'POST',
      path: (target) => `${agreementPath(target)}/decline`,
      prepare: () => kit.offered(),
      as: () => kit.cast.freelancer,
      body: () => ({ reason: 'Scope too broad for the budget' }),
      verify: async (target) => {
        expect((await kit.view(target.agreementId)).agreement).toMatchObject({
          status: 'declined',
          declined: { reason: 'Scope too broad for the budget' },
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { body: () => ({}), field: 'body.reason' },
    },
    {
      operation: 'cancelAgreement',
      method: 'POST',
      path: (target) => `${agreementPath(target)}/cancel`,
      prepare: () => kit.offered(),
      as: () => kit.cast.client,
      body: () => ({ reason: 'Project stopped' }),
      verify: async (target) => {
        const view = await kit.view(target.agreementId);
        expect(view.agreement.status).toBe('cancelled');
        expect(view.milestones.map((milestone) => milestone.status)).toEqual(['cancelled']);
      },
      wrongRole: () => kit.cast.evaluator,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({ reason: 'x'.repeat(2001) }), field: 'body.reason' },
    },
    {
      operation: 'getAgreementTerms',
      method: 'GET',
      path: (target) => `${agreementPath(target)}/terms`,
      prepare: () => kit.offered(),
      as: () => kit.cast.freelancer,
      verify: (target, body) => {
        expect(body).toEqual({ status: 'held', agreementId: target.agreementId, termsSha256, terms });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { path: () => `${badAgreementPath()}/terms`, field: 'path.agreementId' },
    },
    {
      operation: 'verifyAgreementTerms',
      method: 'POST',
      path: (target) => `${agreementPath(target)}/terms/verify`,
      prepare: () => kit.offered(),
      as: () => kit.cast.auditor,
      body: () => ({ terms }),
      verify: (target, body) => {
        expect(body).toEqual({
          agreementId: target.agreementId,
          termsSha256,
          documentSha256: termsSha256,
          matches: true,
          privateDataHashMatches: true,
        });
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({ terms: { ...terms, scope: '   ' } }), field: 'body.terms.scope' },
    },
    {
      operation: 'getMilestoneHistory',
      method: 'GET',
      path: (target) => `${milestonePath(target)}/history`,
      prepare: () => kit.funded(),
      as: () => kit.cast.client,
      verify: (_target, body) => {
        const statuses = (body as { milestone?: { status: string } }[]).map((entry) => entry.milestone?.status);
        expect(statuses).toEqual(['funded', 'funding', 'unfunded']);
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { path: (target) => `${badMilestonePath(target)}/history`, field: 'path.milestoneId' },
    },
    {
      operation: 'fundMilestone',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/fund`,
      prepare: () => kit.active(),
      as: () => kit.cast.client,
      body: () => ({}),
      verify: async (target, body) => {
        // No request id given: the server generated one and says which, for retries.
        expect((body as Committed<unknown>).requestId).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        );
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('funding');
        expect(milestone.instructions).toMatchObject([{ kind: 'fund-escrow', amount: '150000', status: 'pending' }]);
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({ requestId: 'short' }), field: 'body.requestId' },
    },
    {
      operation: 'confirmSettlement',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/settlement-confirmations`,
      prepare: () => kit.funding(),
      as: () => kit.cast.settlement,
      body: (target) => ({ instructionId: target.instructionId, outcome: 'paid', providerReference: 'psp-42' }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('funded');
        expect(milestone.instructions[0]?.confirmation).toMatchObject({ outcome: 'paid', providerReference: 'psp-42' });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.settlement, missingAgreement: true },
      malformed: {
        body: (target) => ({ instructionId: target.instructionId, outcome: 'failed', providerReference: 'psp-42' }),
        field: 'body.reason',
      },
    },
    {
      operation: 'submitDeliverable',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/deliverables`,
      prepare: () => kit.funded(),
      as: () => kit.cast.freelancer,
      body: () => ({
        requestId: newRequestId(),
        artifactSha256,
        uri: 'https://models.example.com/defects/v1.safetensors',
        claimedMetrics: { accuracy: 0.94 },
      }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('submitted');
        expect(milestone.submissions).toMatchObject([
          { number: 1, artifactSha256, claimedMetrics: { accuracy: 0.94 } },
        ]);
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        body: () => ({ artifactSha256: 'abc', uri: 'https://models.example.com/x' }),
        field: 'body.artifactSha256',
      },
    },
    {
      operation: 'acceptMilestone',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/accept`,
      prepare: () => kit.submitted(),
      as: () => kit.cast.client,
      body: () => ({}),
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({ status: 'accepted', acceptance: { by: 'client' } });
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { path: (target) => `${badMilestonePath(target)}/accept`, field: 'path.milestoneId' },
    },
    {
      operation: 'rejectDeliverable',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/reject`,
      prepare: () => kit.submitted(),
      as: () => kit.cast.client,
      body: () => ({ reason: 'Accuracy below the threshold on our hold-out set' }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone).toMatchObject({ status: 'rejected', rejectionCount: 1 });
        expect(milestone.submissions[0]?.rejection?.reason).toBe('Accuracy below the threshold on our hold-out set');
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({ reason: 'x'.repeat(2001) }), field: 'body.reason' },
    },
    {
      operation: 'claimAcceptance',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/claim-acceptance`,
      prepare: async () => {
        const target = await kit.submitted();
        kit.passReviewWindow();
        return target;
      },
      as: () => kit.cast.freelancer,
      body: () => ({}),
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({
          status: 'accepted',
          acceptance: { by: 'review-window-lapsed' },
        });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { path: (target) => `${badMilestonePath(target)}/claim-acceptance`, field: 'path.milestoneId' },
    },
    {
      operation: 'postEvaluation',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/evaluations`,
      prepare: () => kit.submitted(),
      as: () => kit.cast.evaluator,
      body: () => ({ artifactSha256, metrics: { accuracy: 0.95 }, reportSha256 }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone).toMatchObject({ status: 'accepted', acceptance: { by: 'evaluation' } });
        expect(milestone.submissions[0]?.evaluations).toMatchObject([{ allThresholdsMet: true }]);
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherEvaluator },
      malformed: { body: () => ({ artifactSha256, metrics: {}, reportSha256 }), field: 'body.metrics' },
    },
    {
      operation: 'releaseMilestone',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/release`,
      prepare: () => kit.accepted(),
      // Either side may release; the freelancer does here, the client in the happy path.
      as: () => kit.cast.freelancer,
      body: () => ({ requestId: newRequestId() }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('released');
        expect(milestone.instructions.at(-1)).toMatchObject({
          kind: 'release',
          amount: '146250',
          platformFee: '3750',
          status: 'pending',
        });
      },
      wrongRole: () => kit.cast.evaluator,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({ requestId: 'has spaces in it' }), field: 'body.requestId' },
    },
    {
      operation: 'openDispute',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/disputes`,
      prepare: () => kit.submitted(),
      as: () => kit.cast.freelancer,
      body: () => ({ reason: 'The client ignores the agreed criteria' }),
      verify: async (target) => {
        expect(await kit.milestone(target)).toMatchObject({
          status: 'disputed',
          dispute: { openedBy: 'freelancer', frozenStatus: 'submitted', votes: [] },
        });
      },
      wrongRole: () => kit.cast.arbitrators[0],
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { body: () => ({}), field: 'body.reason' },
    },
    {
      operation: 'castDisputeVote',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/dispute/votes`,
      prepare: () => kit.disputed(),
      as: () => kit.cast.arbitrators[0],
      body: () => ({
        escrowAmount: '150000',
        clientShare: '50000',
        freelancerShare: '100000',
        reason: 'Two thirds delivered',
      }),
      verify: async (target) => {
        const milestone = await kit.milestone(target);
        expect(milestone.status).toBe('disputed');
        expect(milestone.dispute?.votes).toMatchObject([
          { arbitrator: kit.cast.arbitrators[0].party, clientShare: '50000', freelancerShare: '100000' },
        ]);
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.arbitrators[0], missingAgreement: true },
      malformed: {
        body: () => ({ escrowAmount: '150000', clientShare: '50000', freelancerShare: '1', reason: 'Split' }),
        field: 'body.freelancerShare',
      },
    },
    {
      operation: 'listTasks',
      method: 'GET',
      path: (target) => `${milestonePath(target)}/tasks`,
      prepare: () => kit.active({ batch: true, milestoneId: 'b1' }),
      as: () => kit.cast.client,
      verify: (_target, body) => {
        expect(body).toMatchObject([
          { taskId: 't1', status: 'open', position: 1 },
          { taskId: 't2', status: 'open', position: 2 },
        ]);
        return Promise.resolve();
      },
      wrongRole: () => kit.cast.issuer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { path: (target) => `${badMilestonePath(target)}/tasks`, field: 'path.milestoneId' },
    },
    {
      operation: 'submitTasks',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/tasks/submissions`,
      prepare: () => kit.funded({ batch: true, milestoneId: 'b1' }),
      as: () => kit.cast.freelancer,
      body: () => ({ results: [{ taskId: 't2', resultSha256: resultSha256('t2') }] }),
      verify: async (target) => {
        expect((await kit.tasks(target)).map((task) => task.status)).toEqual(['open', 'submitted']);
        expect((await kit.milestone(target)).batch).toMatchObject({ submitted: 1, accepted: 0 });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: { body: () => ({ results: [] }), field: 'body.results' },
    },
    {
      operation: 'reviewTasks',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/tasks/reviews`,
      prepare: () => kit.tasksSubmitted(),
      as: () => kit.cast.client,
      body: () => ({ accept: ['t1'] }),
      verify: async (target) => {
        expect((await kit.tasks(target)).map((task) => task.status)).toEqual(['accepted', 'open']);
      },
      wrongRole: () => kit.cast.freelancer,
      notVisible: { as: () => kit.cast.otherClient },
      malformed: { body: () => ({}), field: 'body.accept' },
    },
    {
      operation: 'claimTasksAcceptance',
      method: 'POST',
      path: (target) => `${milestonePath(target)}/tasks/claim-acceptance`,
      prepare: async () => {
        const target = await kit.tasksSubmitted();
        kit.passReviewWindow();
        return target;
      },
      as: () => kit.cast.freelancer,
      body: () => ({}),
      verify: async (target) => {
        const [first] = await kit.tasks(target);
        expect(first).toMatchObject({ taskId: 't1', status: 'accepted', acceptance: { by: 'review-window-lapsed' } });
      },
      wrongRole: () => kit.cast.client,
      notVisible: { as: () => kit.cast.otherFreelancer },
      malformed: {
        path: (target) => `${badMilestonePath(target)}/tasks/claim-acceptance`,
        field: 'path.milestoneId',
      },
    },
  ];

  describe.each(cases.map((testCase) => [testCase.operation, testCase] as const))('%s', (_operation, testCase) => {
    let target: Target;

    beforeAll(async () => {
      target = await testCase.prepare();
    });

    it('answers malformed input with 422 naming the field, before calling the ledger', async () => {
      const before = kit.mark();
      const { path, body } = testCase.malformed;
      const response = await call(
        testCase.method,
        (path ?? testCase.path)(target),
        testCase.as(),
        (body ?? testCase.body)?.(target),
      );
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field: testCase.malformed.field });
      // An auditor's or HR system's read refused for its body is still logged for the
      // agreement its valid path names: the read log looks that record up under the
      // server's identity (one evaluation, writing nothing); the route calls nothing.
      const logged =
        ['auditor', 'hr'].includes(testCase.as().principal.role) && !testCase.malformed.field.startsWith('path');
      expect(kit.mark()).toEqual({ ...before, transactions: before.transactions + (logged ? 1 : 0) });
    });

    it('refuses a caller of the wrong role with 403, before calling the ledger', async () => {
      const before = kit.mark();
      const response = await call(
        testCase.method,
        testCase.path(target),
        testCase.wrongRole(),
        testCase.body?.(target),
      );
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ code: 'FORBIDDEN' });
      expect(kit.mark()).toEqual(before);
    });

    it('answers 404 to a caller who may not see the agreement, revealing nothing', async () => {
      const before = kit.mark();
      const { as, missingAgreement } = testCase.notVisible;
      const where = missingAgreement === true ? { ...target, agreementId: 'no-such-agreement' } : target;
      const response = await call(testCase.method, testCase.path(where), as(), testCase.body?.(target));
      expect(response.status).toBe(404);
      // A command's answer names the id it ran under too, as every command's does.
      const { commandRequestId: _commandRequestId, ...body } = response.body as Record<string, unknown>;
      expect(body).toEqual({
        status: 404,
        code: 'NOT_FOUND',
        message: `agreement ${where.agreementId} does not exist or is not visible to you`,
        // Named alike whether the agreement is missing or hidden: the field tells no more than the status.
        field: 'path.agreementId',
        requestId: expect.any(String) as string,
      });
      expectNothingWritten(before, kit.mark());
    });

    it('does what it says for the right caller', async () => {
      const before = kit.mark();
      const response = await call(testCase.method, testCase.path(target), testCase.as(), testCase.body?.(target));
      expect(response.body).not.toHaveProperty('code');
      expect(response.status).toBe(200);
      await testCase.verify(target, response.body);
      if (testCase.method === 'GET') expectNothingWritten(before, kit.mark());
    });
  });

  it('answers the same 404 for an agreement that does not exist and one that is not visible', async () => {
    const target = await kit.offered();
    const hidden = await call('GET', agreementPath(target), kit.cast.otherClient);
    const missing = await call('GET', agreementPath({ ...target, agreementId: 'A-999' }), kit.cast.otherClient);
    const strip = (body: unknown) => {
      const { requestId: _requestId, message, ...rest } = body as ErrorResponse;
      return { ...rest, message: message.replace(/agreement \S+/, 'agreement X') };
    };
    expect(strip(hidden.body)).toEqual(strip(missing.body));
  });

  it('answers 404 for a milestone the agreement does not have', async () => {
    const target = await kit.active();
    const response = await call('POST', `${agreementPath(target)}/milestones/m9/fund`, kit.cast.client, {});
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      code: 'NOT_FOUND',
      message: `milestone m9 of agreement ${target.agreementId} does not exist or is not visible to you`,
      field: 'path.milestoneId',
    });
  });

  it('lets the auditor read any agreement but not its terms (403: it may know the agreement exists)', async () => {
    const target = await kit.offered();
    expect((await call('GET', agreementPath(target), kit.cast.auditor)).status).toBe(200);
    const terms = await call('GET', `${agreementPath(target)}/terms`, kit.cast.auditor);
    expect(terms.status).toBe(403);
    expect(JSON.stringify(terms.body)).not.toContain('Confidential scope');
  });

  it('refuses a draft naming a freelancer or evaluator this server enrols who does not exist or has another role, naming the field', async () => {
    const before = kit.mark();
    const draft = (changes: Record<string, unknown>) => ({
      ...kit.draftRequest(kit.nextAgreementId()),
      terms,
      ...changes,
    });
    const dave = kit.cast.otherClient.party;
    for (const [changes, field, message] of [
      [
        { freelancer: { mspId: 'TalentOrgMSP', userId: 'ghost' } },
        'body.freelancer.userId',
        'TalentOrgMSP/ghost is no active freelancer on this server',
      ],
      [
        { freelancer: dave },
        'body.freelancer.userId',
        `ClientOrgMSP/${dave.userId} is no active freelancer on this server`,
      ],
      [
        { evaluator: kit.cast.auditor.party },
        'body.evaluator.userId',
        `AuditOrgMSP/${kit.cast.auditor.party.userId} is no active evaluator on this server`,
      ],
    ] as const) {
      expectRefusedNaming(await call('POST', '/v1/agreements', kit.cast.client, draft(changes)), field, message);
    }
    const overGraphql = await kit.server.request('POST', '/graphql', {
      token: kit.cast.client.token,
      body: {
        query:
          'mutation ($input: DraftAgreementInput!) { draftAgreement(input: $input) { agreement { agreementId } } }',
        variables: { input: draft({ freelancer: { mspId: 'TalentOrgMSP', userId: 'ghost' } }) },
      },
    });
    expect(firstErrorField(overGraphql.body)).toBe('input.freelancer.userId');
    expect(kit.mark()).toEqual(before);
  });

  it('refuses unknown body fields with 422', async () => {
    const target = await kit.offered();
    const before = kit.mark();
    const response = await call('POST', `${agreementPath(target)}/decline`, kit.cast.freelancer, {
      reason: 'No',
      agreementId: 'A-other',
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.agreementId' });
    expect((response.body as ErrorResponse).message).toContain('agreementId');
    expect(kit.mark()).toEqual(before);
  });

  it('answers a state conflict with 409 and the chaincode code', async () => {
    const target = await kit.offered();
    const response = await call('POST', `${milestonePath(target)}/fund`, kit.cast.client, {});
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'INVALID_STATE' });
  });

  it('lists every route in the OpenAPI document with its scope and error statuses', async () => {
    const document = (await kit.server.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId: string; 'x-required-scope'?: string; responses: object }>>;
    };
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    const byId = new Map(operations.map((operation) => [operation.operationId, operation]));
    for (const operationId of [...cases.map((testCase) => testCase.operation), 'listAgreements', 'draftAgreement']) {
      expect(byId.get(operationId)).toBeDefined();
    }
    expect(byId.get('confirmSettlement')).toMatchObject({ 'x-required-scope': 'settlements:write' });
    expect(Object.keys(byId.get('fundMilestone')?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '409', '422']),
    );
    expect(Object.keys(byId.get('draftAgreement')?.responses ?? {})).toEqual(expect.arrayContaining(['201', '409']));
  });
});

function expectNothingWritten(before: LedgerMark, after: LedgerMark): void {
  expect(after.writes).toBe(before.writes);
  expect(after.keys).toEqual(before.keys);
}
