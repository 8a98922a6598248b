import type { AgreementDetails, AgreementView, MilestoneRecord } from '@gigledger/chaincode/model';
import {
  AgreementKit,
  artifactSha256,
  newRequestId,
  terms,
  termsSha256,
  type Person,
} from '../test-support/agreement-test-kit.js';
import type { Committed } from '../ledger/committed.js';

/** A response whose body the test reads as the operation's documented shape. */
interface Reply<Body> {
  status: number;
  body: Body;
  headers: Headers;
}

describe('agreements over REST, end to end', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const call = async <Body = unknown>(
    method: string,
    path: string,
    as: Person,
    body?: unknown,
  ): Promise<Reply<Body>> => {
    const response = await kit.server.request(method, path, {
      token: as.token,
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: response.body as Body, headers: response.headers };
  };

  /** Confirms every pending instruction of the milestone as the settlement provider, over REST. */
  const confirmPending = async (agreementId: string, milestone: MilestoneRecord): Promise<MilestoneRecord> => {
    let latest = milestone;
    for (const instruction of milestone.instructions.filter((candidate) => candidate.status === 'pending')) {
      const confirmed = await call<Committed<MilestoneRecord>>(
        'POST',
        `/v1/agreements/${agreementId}/milestones/${milestone.milestoneId}/settlement-confirmations`,
        kit.cast.settlement,
        { instructionId: instruction.instructionId, outcome: 'paid', providerReference: 'psp-ref-1' },
      );
      expect(confirmed.status).toBe(200);
      latest = confirmed.body.result;
    }
    return latest;
  };

  describe('drafting', () => {
    it('points Location at the new agreement and takes the request id from Idempotency-Key', async () => {
      const agreementId = kit.nextAgreementId();
      const { requestId: _unused, ...draft } = kit.draftRequest(agreementId);
      const key = newRequestId();
      const send = () =>
        kit.server.request('POST', '/v1/agreements', {
          token: kit.cast.client.token,
          body: { ...draft, terms },
          headers: { 'idempotency-key': key },
        });

      const first = await send();
      const writes = kit.server.ledger.ledger.keys().length;
      const repeated = await send();

      expect(first.status).toBe(201);
      expect(first.headers.get('location')).toBe(`/v1/agreements/${agreementId}`);
      expect((first.body as Committed<unknown>).requestId).toBe(key);
      expect((repeated.body as Committed<unknown>).result).toEqual((first.body as Committed<unknown>).result);
      expect(kit.server.ledger.ledger.keys().length).toBe(writes);

      const badKey = await kit.server.request('POST', '/v1/agreements', {
        token: kit.cast.client.token,
        body: { ...kit.draftRequest(kit.nextAgreementId()), requestId: undefined, terms },
        headers: { 'idempotency-key': 'no spaces allowed' },
      });
      expect(badKey.status).toBe(422);
      expect(badKey.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'header.idempotency-key' });
    });

    it('refuses a body requestId and a different Idempotency-Key, which of the two was meant being unknowable', async () => {
      const before = kit.mark();
      const both = await kit.server.request('POST', '/v1/agreements', {
        token: kit.cast.client.token,
        body: { ...kit.draftRequest(kit.nextAgreementId()), requestId: newRequestId(), terms },
        headers: { 'idempotency-key': newRequestId() },
      });
      expect(both.status).toBe(422);
      expect(both.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'header.idempotency-key' });
      expect((both.body as { message: string }).message).toMatch(/differs from body\.requestId/);
      expect(kit.mark()).toEqual(before);
    });

    it("runs a command given no request id under the request's own id, which its answers name, a refusal's included", async () => {
      const agreementId = kit.nextAgreementId();
      const { requestId: _none, ...draft } = kit.draftRequest(agreementId);
      const first = await kit.server.request('POST', '/v1/agreements', {
        token: kit.cast.client.token,
        body: { ...draft, terms },
      });
      const used = (first.body as Committed<unknown>).requestId;
      expect([first.status, used]).toEqual([201, first.headers.get('x-request-id')]);
      // Retrying with that id (say the answer was lost) answers the stored draft.
      const retried = await kit.server.request('POST', '/v1/agreements', {
        token: kit.cast.client.token,
        body: { ...draft, terms },
        headers: { 'idempotency-key': used },
      });
      expect([retried.status, (retried.body as Committed<unknown>).result]).toEqual([
        201,
        (first.body as Committed<unknown>).result,
      ]);
      // A refused command's answer names the id it ran under too.
      const refused = await kit.server.request('POST', `/v1/agreements/${agreementId}/accept`, {
        token: kit.cast.freelancer.token,
        body: { termsSha256: '0'.repeat(64) },
      });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      const { requestId, commandRequestId } = refused.body as { requestId: string; commandRequestId: string };
      expect([requestId, commandRequestId]).toEqual([refused.headers.get('x-request-id'), requestId]);
      const again = await kit.server.request('POST', `/v1/agreements/${agreementId}/accept`, {
        token: kit.cast.freelancer.token,
        body: { termsSha256: '0'.repeat(64) },
        headers: { 'idempotency-key': commandRequestId },
      });
      expect(again.status).toBe(refused.status);
    });

    it("names in a refused command's answer the id the caller gave it, in the header or the body, not the HTTP request's", async () => {
      const agreementId = kit.nextAgreementId();
      const { requestId: _none, ...draft } = kit.draftRequest(agreementId);
      expect(
        (
          await kit.server.request('POST', '/v1/agreements', {
            token: kit.cast.client.token,
            body: { ...draft, terms },
          })
        ).status,
      ).toBe(201);
      const byHeader = newRequestId();
      const byBody = newRequestId();
      for (const [sent, id] of [
        [{ headers: { 'idempotency-key': byHeader }, body: { termsSha256: '0'.repeat(64) } }, byHeader],
        [{ body: { termsSha256: '0'.repeat(64), requestId: byBody } }, byBody],
      ] as const) {
        const refused = await kit.server.request('POST', `/v1/agreements/${agreementId}/accept`, {
          token: kit.cast.freelancer.token,
          ...sent,
        });
        expect(refused.status).toBeGreaterThanOrEqual(400);
        expect(refused.body).toMatchObject({ commandRequestId: id, requestId: refused.headers.get('x-request-id') });
        expect(refused.headers.get('x-request-id')).not.toBe(id);
      }
    });

    it('creates the agreement with 201, keeps the terms off the channel ledger and gives them to the parties', async () => {
      const agreementId = kit.nextAgreementId();
      const { requestId: _generated, ...draft } = kit.draftRequest(agreementId);
      const response = await call<Committed<AgreementDetails>>('POST', '/v1/agreements', kit.cast.client, {
        ...draft,
        terms,
      });

      expect(response.status).toBe(201);
      expect(response.body.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(response.body.result.agreement).toMatchObject({ agreementId, status: 'offered', termsSha256 });
      expect(response.body.transactionId).toEqual(expect.any(String));
      const view = await kit.view(agreementId);
      expect(view.milestones.map((milestone) => milestone.status)).toEqual(['unfunded']);
      const publicState = JSON.stringify(
        kit.server.ledger.ledger.keys().map((key) => kit.server.ledger.ledger.read(key)),
      );
      expect(publicState).not.toContain(terms.scope);
      const readBack = await call<{ terms: unknown }>(
        'GET',
        `/v1/agreements/${agreementId}/terms`,
        kit.cast.freelancer,
      );
      expect(readBack.body.terms).toEqual(terms);
    });

    it('refuses a caller of another role with 403 naming the role, before calling the ledger', async () => {
      const before = kit.mark();
      const response = await call('POST', '/v1/agreements', kit.cast.freelancer, {
        ...kit.draftRequest(kit.nextAgreementId()),
        terms,
      });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({
        code: 'FORBIDDEN',
        message: 'only role client may draft an agreement; the caller has role freelancer',
      });
      expect(kit.mark()).toEqual(before);
    });

    it('refuses a client drafting in the name of another client with 403', async () => {
      const before = kit.mark();
      const response = await call('POST', '/v1/agreements', kit.cast.otherClient, {
        ...kit.draftRequest(kit.nextAgreementId()),
        terms,
      });
      expect(response.status).toBe(403);
      expect(kit.mark()).toEqual(before);
    });

    it.each([
      ['a fractional amount', { amount: '12.50' }, 'body.milestones.0.amount'],
      ['an unknown currency', { currency: 'EURO' }, 'body.milestones.0.currency'],
      ['a duplicate milestone id', undefined, 'body.milestones.1.milestoneId'],
    ])('answers %s with 422 naming the field, before calling the ledger', async (_what, change, field) => {
      const draft = kit.draftRequest(kit.nextAgreementId());
      const [milestone] = draft.milestones;
      const milestones = change === undefined ? [milestone, milestone] : [{ ...milestone, ...change }];
      const before = kit.mark();
      const response = await call('POST', '/v1/agreements', kit.cast.client, { ...draft, milestones, terms });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
      expect(kit.mark()).toEqual(before);
    });

    it('answers missing terms and unknown fields with 422', async () => {
      const draft = kit.draftRequest(kit.nextAgreementId());
      const noTerms = await call('POST', '/v1/agreements', kit.cast.client, draft);
      expect(noTerms.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.terms' });
      const unknown = await call('POST', '/v1/agreements', kit.cast.client, { ...draft, terms, discount: '10%' });
      expect(unknown.status).toBe(422);
    });

    it('reports a due date the chaincode finds past under the body field, and writes nothing', async () => {
      const draft = kit.draftRequest(kit.nextAgreementId());
      const past = { ...draft, milestones: [{ ...draft.milestones[0], dueDate: '2020-01-01T00:00:00.000Z' }] };
      const before = kit.mark();
      const response = await call('POST', '/v1/agreements', kit.cast.client, { ...past, terms });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.milestones.0.dueDate' });
      expect(kit.mark().writes).toBe(before.writes);
    });

    it('answers an agreement id already taken, by anyone, with 409', async () => {
      const taken = await kit.offered();
      const response = await call('POST', '/v1/agreements', kit.cast.otherClient, {
        ...kit.draftRequest(taken.agreementId),
        client: kit.cast.otherClient.party,
        terms,
      });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ code: 'ALREADY_EXISTS', field: 'body.agreementId' });
    });
  });

  describe('idempotency', () => {
    it('creates one agreement for a request id sent twice, and returns the same result', async () => {
      const draft = { ...kit.draftRequest(kit.nextAgreementId()), terms };
      const first = await call<Committed<AgreementDetails>>('POST', '/v1/agreements', kit.cast.client, draft);
      const keysAfterFirst = kit.server.ledger.ledger.keys();
      const second = await call<Committed<AgreementDetails>>('POST', '/v1/agreements', kit.cast.client, draft);

      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body.requestId).toBe(draft.requestId);
      expect(second.body.result).toEqual(first.body.result);
      expect(kit.server.ledger.ledger.keys()).toEqual(keysAfterFirst);
    });

    it('answers the same request id with another body with 409 REQUEST_ID_REUSED', async () => {
      const draft = { ...kit.draftRequest(kit.nextAgreementId()), terms };
      expect((await call('POST', '/v1/agreements', kit.cast.client, draft)).status).toBe(201);
      const before = kit.mark();
      const reused = await call('POST', '/v1/agreements', kit.cast.client, { ...draft, title: 'Another title' });
      expect(reused.status).toBe(409);
      expect(reused.body).toMatchObject({ code: 'REQUEST_ID_REUSED' });
      expect(kit.mark().keys).toEqual(before.keys);
    });

    it('funds a milestone once for a request id sent twice', async () => {
      const target = await kit.active();
      const requestId = newRequestId();
      const path = `/v1/agreements/${target.agreementId}/milestones/m1/fund`;
      const first = await call<Committed<MilestoneRecord>>('POST', path, kit.cast.client, { requestId });
      const second = await call<Committed<MilestoneRecord>>('POST', path, kit.cast.client, { requestId });
      expect(second.body.result).toEqual(first.body.result);
      expect((await kit.milestone(target)).instructions).toHaveLength(1);
    });
  });

  describe('listing', () => {
    it("lists the caller's own agreements by role, and completion on request", async () => {
      const open = await kit.offered();
      const done = await kit.paid();
      const mine = await call<{ role: string; agreement: { agreementId: string } }[]>(
        'GET',
        '/v1/agreements?role=freelancer',
        kit.cast.freelancer,
      );
      expect(mine.status).toBe(200);
      const ids = mine.body.map((entry) => entry.agreement.agreementId);
      expect(ids).toEqual(expect.arrayContaining([open.agreementId, done.agreementId]));
      expect(new Set(mine.body.map((entry) => entry.role))).toEqual(new Set(['freelancer']));

      const completed = await call<{ agreement: { agreementId: string } }[]>(
        'GET',
        '/v1/agreements?completed=true',
        kit.cast.client,
      );
      expect(completed.body.map((entry) => entry.agreement.agreementId)).toContain(done.agreementId);
      expect(completed.body.map((entry) => entry.agreement.agreementId)).not.toContain(open.agreementId);
      const asEvaluator = await call<unknown[]>('GET', '/v1/agreements?role=client', kit.cast.evaluator);
      expect(asEvaluator.body).toEqual([]);
    });

    it("refuses another client listing a person's agreements with 403, before calling the ledger", async () => {
      const before = kit.mark();
      const { mspId, userId } = kit.cast.client.party;
      const response = await call('GET', `/v1/agreements?mspId=${mspId}&userId=${userId}`, kit.cast.otherClient);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({
        code: 'FORBIDDEN',
        message: "only role auditor, admin or hr may list another person's agreements; the caller has role client",
      });
      expect(kit.mark()).toEqual(before);
    });

    it("lets an auditor and an HR system list a person's agreements", async () => {
      const target = await kit.offered();
      const { mspId, userId } = kit.cast.client.party;
      const audited = await call<{ agreement: { agreementId: string } }[]>(
        'GET',
        `/v1/agreements?mspId=${mspId}&userId=${userId}&role=client`,
        kit.cast.auditor,
      );
      expect(audited.body.map((entry) => entry.agreement.agreementId)).toContain(target.agreementId);
      const hr = await kit.server.request('GET', `/v1/agreements?mspId=${mspId}&userId=${userId}`, {
        apiKey: kit.cast.hrKey,
      });
      expect(hr.status).toBe(200);
    });

    it('pages through the list with Link headers, each agreement once, and refuses a cursor of another list', async () => {
      for (let made = 0; made < 3; made += 1) await kit.offered();
      type Listed = { role: string; agreement: { agreementId: string } }[];
      const everything = await call<Listed>('GET', '/v1/agreements?role=freelancer&first=500', kit.cast.freelancer);
      expect(everything.headers.get('link')).toBeNull();
      const all = everything.body.map((entry) => entry.agreement.agreementId);
      expect(all.length).toBeGreaterThanOrEqual(3);

      const paged: string[] = [];
      let next: string | undefined = '/v1/agreements?role=freelancer&first=2';
      let pages = 0;
      while (next !== undefined) {
        const page: Reply<Listed> = await call<Listed>('GET', next, kit.cast.freelancer);
        expect(page.status).toBe(200);
        expect(page.body.length).toBeLessThanOrEqual(2);
        paged.push(...page.body.map((entry) => entry.agreement.agreementId));
        pages += 1;
        const link = page.headers.get('link');
        if (link === null) break;
        const target = /^<(\/v1\/agreements\?[^>]+)>; rel="next"$/.exec(link)?.[1];
        expect(target).toContain('role=freelancer');
        expect(target).toContain('first=2');
        next = target;
      }
      expect(paged).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / 2));

      // A cursor is bound to the list it came from: the freelancer's, sent for the client's, is refused.
      const freelancerPage = await call<Listed>('GET', '/v1/agreements?role=freelancer&first=1', kit.cast.freelancer);
      const cursor = new URLSearchParams(/\?([^>]+)>/.exec(freelancerPage.headers.get('link') ?? '')?.[1]).get('after');
      expect(cursor).toEqual(expect.any(String));
      const foreign = await call('GET', `/v1/agreements?role=client&after=${cursor ?? ''}`, kit.cast.client);
      expect(foreign.status).toBe(422);
      expect(foreign.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'query.after',
        message: 'query.after: is not one this list answered with; start again without it',
      });
    });

    it.each([
      ['/v1/agreements?role=owner', 'query.role'],
      ['/v1/agreements?mspId=ClientOrgMSP', 'query.userId'],
      ['/v1/agreements?completed=yes', 'query.completed'],
      ['/v1/agreements?first=0', 'query.first'],
      ['/v1/agreements?first=501', 'query.first'],
      ['/v1/agreements?first=1e2', 'query.first'],
      ['/v1/agreements?after=not*base64url', 'query.after'],
      ['/v1/agreements?after=', 'query.after'],
      ['/v1/agreements?first=1&first=2', 'query.first'],
    ])('answers %s with 422 naming the field', async (path, field) => {
      const response = await call('GET', path, kit.cast.client);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    });
  });

  it('runs the happy path: draft, accept, fund, confirm, submit, accept, release, confirm paid', async () => {
    const agreementId = kit.nextAgreementId();
    const base = `/v1/agreements/${agreementId}`;
    const drafted = await call('POST', '/v1/agreements', kit.cast.client, {
      ...kit.draftRequest(agreementId),
      terms,
    });
    expect(drafted.status).toBe(201);

    const accepted = await call<Committed<{ status: string }>>('POST', `${base}/accept`, kit.cast.freelancer, {
      termsSha256,
    });
    expect(accepted.body.result.status).toBe('active');

    const funding = await call<Committed<MilestoneRecord>>('POST', `${base}/milestones/m1/fund`, kit.cast.client, {
      requestId: newRequestId(),
    });
    expect(funding.body.result.status).toBe('funding');
    expect((await confirmPending(agreementId, funding.body.result)).status).toBe('funded');

    const submitted = await call<Committed<MilestoneRecord>>(
      'POST',
      `${base}/milestones/m1/deliverables`,
      kit.cast.freelancer,
      { artifactSha256, uri: 'https://models.example.com/defects/v1.safetensors', claimedMetrics: { accuracy: 0.91 } },
    );
    expect(submitted.body.result.status).toBe('submitted');

    const acceptedMilestone = await call<Committed<MilestoneRecord>>(
      'POST',
      `${base}/milestones/m1/accept`,
      kit.cast.client,
      {},
    );
    expect(acceptedMilestone.body.result.status).toBe('accepted');

    const released = await call<Committed<MilestoneRecord>>('POST', `${base}/milestones/m1/release`, kit.cast.client, {
      requestId: newRequestId(),
    });
    expect(released.body.result.status).toBe('released');
    const paid = await confirmPending(agreementId, released.body.result);
    expect(paid.status).toBe('paid');

    const final = await call<AgreementView>('GET', base, kit.cast.client);
    expect(final.body.completed).toBe(true);
    expect(final.body.milestones[0]?.instructions.map((instruction) => [instruction.kind, instruction.status])).toEqual(
      [
        ['fund-escrow', 'paid'],
        ['release', 'paid'],
      ],
    );
    expect(final.body.history.map((entry) => entry.status)).toEqual(['active', 'offered']);
  });

  it('runs the dispute path: reject, dispute, two arbitrators decide, both shares paid', async () => {
    const target = await kit.submitted();
    const base = `/v1/agreements/${target.agreementId}/milestones/m1`;
    const rejected = await call<Committed<MilestoneRecord>>('POST', `${base}/reject`, kit.cast.client, {
      reason: 'Accuracy below the threshold',
    });
    expect(rejected.body.result.status).toBe('rejected');
    const disputed = await call<Committed<MilestoneRecord>>('POST', `${base}/disputes`, kit.cast.freelancer, {
      requestId: newRequestId(),
      reason: 'The threshold was met on the agreed data set',
    });
    expect(disputed.body.result).toMatchObject({ status: 'disputed', dispute: { frozenStatus: 'rejected' } });

    const vote = { escrowAmount: '150000', clientShare: '30000', freelancerShare: '120000', reason: 'Mostly met' };
    const first = await call<Committed<MilestoneRecord>>(
      'POST',
      `${base}/dispute/votes`,
      kit.cast.arbitrators[0],
      vote,
    );
    expect(first.body.result.status).toBe('disputed');
    const second = await call<Committed<MilestoneRecord>>(
      'POST',
      `${base}/dispute/votes`,
      kit.cast.arbitrators[1],
      vote,
    );
    expect(second.body.result).toMatchObject({
      status: 'resolved',
      dispute: { decision: { clientShare: '30000', freelancerShare: '120000' } },
    });
    const settled = await confirmPending(target.agreementId, second.body.result);
    expect(settled.status).toBe('settled');
    expect((await kit.view(target.agreementId)).completed).toBe(true);
  });
});
