import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { AgreementContract } from './agreement-contract';
import { agreementTransactions } from '../model/agreement';
import { agreementEvents } from '../model/agreement-events';
import type { MilestoneRecord, TaskRecord } from '../model/agreement-records';
import { policyOrganisations } from '../ledger/endorsement';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import {
  admin,
  AgreementDriver,
  agreementId,
  agreementKey,
  arbitratorA,
  auditor,
  batchMilestone,
  client,
  clientAsFreelancer,
  clientParty,
  compositeKey,
  defaultReviewWindowSeconds,
  draftRequest,
  evaluator,
  feeBps,
  freelancer,
  freelancerParty,
  inputHash,
  milestoneKey,
  missingAgreement,
  noUserId,
  otherClient,
  otherFreelancer,
  reviewWindowSeconds,
  settlement,
  taskKey,
  terms,
  termsSha256,
} from '../test-support/agreement-fixtures';

const bothOrganisations = ['ClientOrgMSP', 'TalentOrgMSP'];
const termsKey = compositeKey('terms', agreementId);

describe('AgreementContract: spec', () => {
  it('exposes exactly the transactions of the model spec, each submitted or evaluated as specified', () => {
    const decorated = Reflect.getMetadata('fabric:transactions', AgreementContract.prototype) as {
      name: string;
      tag: string[];
    }[];
    const kinds = Object.fromEntries(
      decorated.map((tx) => [tx.name, tx.tag.includes('SUBMIT') ? 'submit' : 'evaluate']),
    );
    const specified = Object.fromEntries(
      Object.entries(agreementTransactions).map(([key, spec]) => {
        expect(spec.name).toBe(key);
        expect(spec.contract).toBe(new AgreementContract().getName());
        return [spec.name, spec.kind];
      }),
    );
    expect(kinds).toEqual(specified);
  });
});

describe('AgreementContract: drafting', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.setParameters();
  });

  const withBatch = (d: AgreementDriver) => {
    const request = draftRequest(d.ledger);
    return { ...request, milestones: [...(request.milestones as unknown[]), batchMilestone(d.ledger)] };
  };

  it('records the offer, its milestones and tasks, and emits AgreementDrafted', async () => {
    const details = await driver.draft(withBatch(driver));

    expect(details.agreement).toMatchObject({
      agreementId,
      status: 'offered',
      client: clientParty,
      freelancer: freelancerParty,
      termsSha256,
      milestoneIds: ['m1', 'm2', 'm3'],
      revisionLimit: 2,
      platformFeeBps: feeBps,
      createdTxId: driver.ledger.transactions.at(-1)!.txId,
    });
    expect(details.milestones.map((m) => [m.milestoneId, m.position, m.status, m.reviewWindowSeconds])).toEqual([
      ['m1', 1, 'unfunded', reviewWindowSeconds],
      ['m2', 2, 'unfunded', defaultReviewWindowSeconds],
      ['m3', 3, 'unfunded', reviewWindowSeconds],
    ]);
    expect(details.milestones[2]!.batch).toEqual({
      taskAmount: '1200',
      taskCount: 3,
      submitted: 0,
      accepted: 0,
      rejected: 0,
    });
    expect(driver.ledger.read(agreementKey())).toEqual(details.agreement);
    expect(driver.ledger.read(milestoneKey('m1'))).toEqual(details.milestones[0]);
    expect(driver.ledger.read(taskKey('m3', 't2'))).toMatchObject({
      taskId: 't2',
      position: 2,
      status: 'open',
      inputSha256: inputHash('t2'),
      submissions: [],
    } satisfies Partial<TaskRecord>);

    const event = driver.ledger.lastEvent!;
    expect(event.name).toBe('agreement.AgreementDrafted');
    expect(agreementEvents.agreementDrafted.payload.parse(event.payload)).toEqual({
      agreementId,
      at: details.agreement.createdAt,
      txId: details.agreement.createdTxId,
      actor: { mspId: 'ClientOrgMSP', userId: 'carol', role: 'client' },
      settlementRequests: [],
      heldPayouts: [],
      agreement: details.agreement,
      milestones: details.milestones,
    });
  });

  it('binds the agreement, milestone and task keys to both parties organisations', async () => {
    await driver.draft(withBatch(driver));

    const owned = [
      agreementKey(),
      milestoneKey('m1'),
      milestoneKey('m2'),
      milestoneKey('m3'),
      taskKey('m3', 't1'),
      taskKey('m3', 't2'),
      taskKey('m3', 't3'),
    ];
    for (const key of owned) {
      const policy = driver.ledger.committedValidationParameter(key);
      expect(policy).toBeDefined();
      expect(policyOrganisations(policy!)).toEqual(bothOrganisations);
    }
  });

  it('needs only the one organisation when both parties belong to it', async () => {
    const colleague = { mspId: 'ClientOrgMSP', userId: 'fiona' };
    await driver.draft(draftRequest(driver.ledger, { freelancer: colleague, evaluator: undefined }));

    expect(policyOrganisations(driver.ledger.committedValidationParameter(agreementKey())!)).toEqual(['ClientOrgMSP']);
    expect(policyOrganisations(driver.ledger.committedValidationParameter(milestoneKey('m2'))!)).toEqual([
      'ClientOrgMSP',
    ]);
  });

  it('keeps the confidential terms in the private collection and only their hash on the channel', async () => {
    await driver.draft();

    expect(driver.ledger.readPrivate('agreementTerms', termsKey)).toEqual(terms);
    const stored = driver.ledger.committedPrivate('agreementTerms', termsKey)!;
    expect(createHash('sha256').update(stored).digest('hex')).toBe(termsSha256);
    const channel = JSON.stringify([
      ...driver.ledger.keys().map((key) => driver.ledger.read(key)),
      driver.ledger.transactions.map((tx) => tx.event),
    ]);
    expect(channel).toContain(termsSha256);
    expect(channel).not.toContain('confidential scope text');
    expect(channel).not.toContain('Tara Example');
    expect(channel).not.toContain('9500');
  });

  it('lets the agreement allow fewer revisions than the consortium', async () => {
    const details = await driver.draft(draftRequest(driver.ledger, { maxRevisions: 0 }));
    expect(details.agreement.revisionLimit).toBe(0);
  });

  it('returns the stored result when a request id is repeated, writing nothing the second time', async () => {
    const request = draftRequest(driver.ledger);
    const first = await driver.draft(request);
    driver.ledger.advanceSeconds(30);

    const second = await driver.draft(request);

    expect(second).toEqual(first);
    const repeat = driver.ledger.transactions.at(-1)!;
    expect(repeat.writes).toEqual([]);
    expect(repeat.event).toEqual({
      name: 'request.Replayed',
      payload: { txId: driver.ledger.transactions.at(-2)!.txId },
    });
  });

  it('refuses a repeated request id carrying other terms', async () => {
    await driver.draft();
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), client, { ...terms, scope: 'Something else' }),
      /^REQUEST_ID_REUSED\[requestId\]: request id draft-0001 was already used for a different draftAgreement request$/,
    );
  });

  it('refuses a repeated request id carrying another request', async () => {
    await driver.draft();
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger, { title: 'Other' })),
      /^REQUEST_ID_REUSED\[requestId\]/,
    );
  });

  it('refuses an agreement id that is taken', async () => {
    await driver.draft();
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger, { requestId: 'draft-0002' })),
      'ALREADY_EXISTS[agreementId]: the agreement id A-17 is already taken; choose another id',
    );
  });

  it('refuses a caller who is not the client named in the draft', async () => {
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), freelancer),
      /^FORBIDDEN: only the client named in the draft may draft agreement A-17; the caller is TalentOrgMSP user tara with role freelancer$/,
    );
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), otherClient),
      /^FORBIDDEN: only the client named in the draft may draft agreement A-17; the caller is ClientOrgMSP user dave/,
    );
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), clientAsFreelancer),
      /^FORBIDDEN: only the client named in the draft/,
    );
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), noUserId),
      'IDENTITY_INCOMPLETE: draft agreement A-17 needs a certificate with a userId attribute',
    );
  });

  it('refuses a draft without terms in the transient map', async () => {
    await driver.expectRefusal(
      () => driver.call(client, (c, ctx) => c.draftAgreement(ctx, JSON.stringify(draftRequest(driver.ledger)))),
      'VALIDATION_FAILED[terms]: terms: must be given in the transient map under "terms"',
    );
  });

  it.each([
    ['blank scope', { ...terms, scope: '   ' }, /^VALIDATION_FAILED\[terms\.scope\]: terms\.scope: must not be blank$/],
    ['unknown field', { ...terms, salary: 1 }, /^VALIDATION_FAILED\[terms\]: /],
    [
      'rate in an unknown currency',
      { ...terms, rates: [{ description: 'x', amount: '1', currency: 'XXX', per: 'hour' }] },
      /^VALIDATION_FAILED\[terms\.rates\.0\.currency\]: .*active ISO 4217/,
    ],
    ['text that is not JSON', '{scope', /^VALIDATION_FAILED\[terms\]: terms: the transient value is not valid JSON$/],
    [
      'its scope left out',
      Object.fromEntries(Object.entries(terms).filter(([key]) => key !== 'scope')),
      /^VALIDATION_FAILED\[terms\.scope\]: terms\.scope: is required$/,
    ],
    // Unsalted terms would publish a hash anyone could confirm a guess of the terms against.
    [
      'no salt',
      Object.fromEntries(Object.entries(terms).filter(([key]) => key !== 'salt')),
      /^VALIDATION_FAILED\[terms\.salt\]: terms\.salt: is required$/,
    ],
    ['a short salt', { ...terms, salt: 'abc123' }, /^VALIDATION_FAILED\[terms\.salt\]: terms\.salt: must be 32 to 128/],
  ])('refuses terms with %s', async (_case, badTerms, expected) => {
    await driver.expectRefusal(() => driver.draft(draftRequest(driver.ledger), client, badTerms), expected);
  });

  it.each(['title', 'freelancer', 'milestones'])(
    'refuses a draft without its %s as a field that is required',
    async (field) => {
      const request = Object.fromEntries(Object.entries(draftRequest(driver.ledger)).filter(([key]) => key !== field));
      await driver.expectRefusal(() => driver.draft(request), `VALIDATION_FAILED[${field}]: ${field}: is required`);
    },
  );

  type Mutation = (request: Record<string, unknown>, d: AgreementDriver) => void;
  const milestone = (request: Record<string, unknown>, index: number): Record<string, unknown> =>
    (request.milestones as Record<string, unknown>[])[index]!;
  const addBatch: Mutation = (request, d) => {
    (request.milestones as unknown[]).push(batchMilestone(d.ledger));
  };

  it.each<[string, Mutation, string]>([
    ['a zero amount', (r) => (milestone(r, 0).amount = '0'), 'milestones.0.amount'],
    ['a fractional amount', (r) => (milestone(r, 0).amount = '1500.50'), 'milestones.0.amount'],
    ['an amount as a JSON number', (r) => (milestone(r, 0).amount = 150001), 'milestones.0.amount'],
    ['a negative amount', (r) => (milestone(r, 0).amount = '-5'), 'milestones.0.amount'],
    ['an amount with a leading zero', (r) => (milestone(r, 0).amount = '0150'), 'milestones.0.amount'],
    ['an amount of 19 digits', (r) => (milestone(r, 0).amount = '1'.repeat(19)), 'milestones.0.amount'],
    ['a lowercase currency', (r) => (milestone(r, 0).currency = 'eur'), 'milestones.0.currency'],
    ['an unknown currency', (r) => (milestone(r, 0).currency = 'ABC'), 'milestones.0.currency'],
    ['a withdrawn currency', (r) => (milestone(r, 1).currency = 'HRK'), 'milestones.1.currency'],
    ['a due date that is not an ISO instant', (r) => (milestone(r, 0).dueDate = '2026-02-01'), 'milestones.0.dueDate'],
    [
      'a review window under a minute',
      (r) => (milestone(r, 0).reviewWindowSeconds = 10),
      'milestones.0.reviewWindowSeconds',
    ],
    [
      'an unknown threshold operator',
      (r) =>
        ((milestone(r, 0).acceptanceCriteria as { thresholds: { operator: string }[] }).thresholds[0]!.operator = '=='),
      'milestones.0.acceptanceCriteria.thresholds.0.operator',
    ],
    [
      'a repeated threshold',
      (r) => {
        const criteria = milestone(r, 0).acceptanceCriteria as { thresholds: unknown[] };
        criteria.thresholds.push(criteria.thresholds[0]);
      },
      'milestones.0.acceptanceCriteria.thresholds.1',
    ],
    ['a repeated milestone id', (r) => (milestone(r, 1).milestoneId = 'm1'), 'milestones.1.milestoneId'],
    ['an unknown milestone kind', (r) => (milestone(r, 1).kind = 'epic'), 'milestones.1.kind'],
    ['no milestones', (r) => (r.milestones = []), 'milestones'],
    ['an empty title', (r) => (r.title = '  '), 'title'],
    ['a title of 201 characters', (r) => (r.title = 'x'.repeat(201)), 'title'],
    ['an agreement id with a slash', (r) => (r.agreementId = 'A/17'), 'agreementId'],
    ['a short request id', (r) => (r.requestId = 'r1'), 'requestId'],
    ['a malformed MSP id', (r) => (r.freelancer = { mspId: 'Talent Org', userId: 'tara' }), 'freelancer.mspId'],
    ['an uppercase user id', (r) => (r.freelancer = { mspId: 'TalentOrgMSP', userId: 'Tara' }), 'freelancer.userId'],
    ['the client as freelancer', (r) => (r.freelancer = clientParty), 'freelancer'],
    ['a party as evaluator', (r) => (r.evaluator = freelancerParty), 'evaluator'],
    ['more revisions than 20', (r) => (r.maxRevisions = 21), 'maxRevisions'],
    ['an unknown field', (r) => (r.discount = '10'), 'request'],
    [
      'a batch whose amount is not taskAmount × tasks',
      (r, d) => {
        addBatch(r, d);
        milestone(r, 2).amount = '3601';
      },
      'milestones.2.amount',
    ],
    [
      'a batch repeating a task id',
      (r, d) => {
        addBatch(r, d);
        const tasks = milestone(r, 2).tasks as { taskId: string }[];
        tasks[1]!.taskId = 't1';
      },
      'milestones.2.tasks.1.taskId',
    ],
    [
      'a task input hash in uppercase hex',
      (r, d) => {
        addBatch(r, d);
        (milestone(r, 2).tasks as { inputSha256: string }[])[0]!.inputSha256 = 'A'.repeat(64);
      },
      'milestones.2.tasks.0.inputSha256',
    ],
    [
      'a batch with thresholds',
      (r, d) => {
        addBatch(r, d);
        milestone(r, 2).acceptanceCriteria = { description: 'x', thresholds: [] };
      },
      'milestones.2.acceptanceCriteria',
    ],
  ])('refuses a draft with %s, naming the field', async (_case, mutate, field) => {
    const request = structuredClone(draftRequest(driver.ledger));
    mutate(request, driver);
    const escaped = field.replace(/\./g, '\\.');
    await driver.expectRefusal(
      () => driver.draft(request),
      new RegExp(`^VALIDATION_FAILED\\[${escaped}\\]: ${escaped}: `),
    );
  });

  it('refuses more than 1000 tasks across the batches of one agreement', async () => {
    const request = draftRequest(driver.ledger);
    const batches = ['b1', 'b2', 'b3'].map((milestoneId) => ({
      ...batchMilestone(driver.ledger, 500),
      milestoneId,
    }));
    await driver.expectRefusal(
      () => driver.draft({ ...request, milestones: [...(request.milestones as unknown[]), ...batches] }),
      'VALIDATION_FAILED[milestones]: milestones: must have at most 1000 tasks across all batches',
    );
  });

  it('refuses a due date that is not after the transaction time', async () => {
    const request = draftRequest(driver.ledger);
    (request.milestones as Record<string, unknown>[])[1]!.dueDate = new Date(
      driver.ledger.nowSeconds * 1000,
    ).toISOString();
    await driver.expectRefusal(
      () => driver.draft(request),
      /^VALIDATION_FAILED\[milestones\.1\.dueDate\]: milestones\.1\.dueDate: must be after the transaction time /,
    );
  });

  it('refuses a freelancer whose organisation cannot read the terms, naming the field', async () => {
    for (const mspId of ['NoSuchMSP', 'LabelOrgMSP', 'AuditOrgMSP']) {
      const request = draftRequest(driver.ledger);
      request.freelancer = { ...(request.freelancer as Record<string, unknown>), mspId };
      await driver.expectRefusal(
        () => driver.draft(request),
        new RegExp(
          `^VALIDATION_FAILED\\[freelancer\\.mspId\\]: freelancer\\.mspId: ${mspId} is not a member of private data collection agreementTerms`,
        ),
      );
    }
  });

  it('refuses more revisions than the consortium allows', async () => {
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger, { maxRevisions: 3 })),
      "VALIDATION_FAILED[maxRevisions]: maxRevisions: must be at most 2, the consortium's limit",
    );
  });

  it('refuses to draft while a consortium parameter is unset', async () => {
    const fresh = new AgreementDriver();
    await fresh.setParameter('defaultReviewWindowSeconds', defaultReviewWindowSeconds);
    await fresh.setParameter('maxRevisions', 2);
    await fresh.expectRefusal(
      () => fresh.draft(),
      'PARAMETER_INVALID: consortium parameter platformFeeBps has not been set',
    );
  });

  it('refuses an argument that is not JSON', async () => {
    await driver.expectRefusal(
      () => driver.call(client, (c, ctx) => c.draftAgreement(ctx, '{'), { terms }),
      'VALIDATION_FAILED[request]: the transaction argument is not valid JSON',
    );
  });
});

describe('AgreementContract: accepting and declining the offer', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.setParameters();
    await driver.draft();
  });

  it('lets the freelancer accept the offer for the terms they read', async () => {
    driver.ledger.advanceSeconds(3600);
    const accepted = await driver.accept();

    expect(accepted).toMatchObject({
      status: 'active',
      acceptedAt: new Date(driver.ledger.nowSeconds * 1000).toISOString(),
    });
    expect(driver.ledger.read(agreementKey())).toEqual(accepted);
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.AgreementAccepted',
      payload: {
        agreementId,
        agreement: accepted,
        actor: { userId: 'tara', role: 'freelancer' },
        settlementRequests: [],
      },
    });
  });

  it('refuses acceptance by anyone but the freelancer', async () => {
    await driver.expectRefusal(
      () => driver.accept(client),
      /^FORBIDDEN: only the freelancer may accept agreement A-17; the caller is ClientOrgMSP user carol with role client$/,
    );
    // Nobody else may read the agreement, so each is answered as if it did not exist:
    // another freelancer, the freelancer's userId under another organisation, and an
    // identity without userId (which could not be a party).
    await driver.expectRefusal(() => driver.accept(otherFreelancer), missingAgreement());
    await driver.expectRefusal(() => driver.accept({ ...freelancer, mspId: 'ClientOrgMSP' }), missingAgreement());
    await driver.expectRefusal(
      () => driver.accept({ mspId: 'TalentOrgMSP', name: 'tara', attributes: { role: 'freelancer' } }),
      missingAgreement(),
    );
    // An auditor reads through audit grants, and no action on an agreement is an auditor's:
    // refused as if it did not exist, before any look at its grants.
    await driver.expectRefusal(
      () => driver.accept({ mspId: 'AuditOrgMSP', name: 'anon-auditor', attributes: { role: 'auditor' } }),
      missingAgreement(),
    );
    await driver.expectRefusal(() => driver.accept(auditor), missingAgreement());
    // An overseer without userId who may read it is told what its certificate lacks.
    await driver.expectRefusal(
      () => driver.accept({ mspId: 'ClientOrgMSP', name: 'anon-admin', attributes: { role: 'admin' } }),
      /^IDENTITY_INCOMPLETE: accept agreement A-17 needs a certificate with a userId attribute$/,
    );
  });

  it('refuses acceptance of terms other than the recorded ones', async () => {
    await driver.expectRefusal(
      () => driver.accept(freelancer, 'f'.repeat(64)),
      `TERMS_MISMATCH[termsSha256]: the terms accepted (${'f'.repeat(64)}) are not the terms of agreement A-17 (${termsSha256})`,
    );
  });

  it('refuses a malformed terms hash and an unknown agreement', async () => {
    await driver.expectRefusal(() => driver.accept(freelancer, 'XYZ'), /^VALIDATION_FAILED\[termsSha256\]: /);
    await driver.expectRefusal(
      () => driver.accept(freelancer, termsSha256, 'A-404'),
      'NOT_FOUND[agreementId]: agreement A-404 does not exist',
    );
  });

  it('refuses accepting twice', async () => {
    await driver.accept();
    await driver.expectRefusal(
      () => driver.accept(),
      'INVALID_STATE[agreementId]: agreement A-17 is active, not offered, so it cannot be accepted',
    );
  });

  it('lets the freelancer decline, closing every milestone', async () => {
    const declined = await driver.call(freelancer, (c, ctx) =>
      c.declineAgreement(ctx, JSON.stringify({ agreementId, reason: 'Rate too low' })),
    );

    expect(declined).toMatchObject({ status: 'declined', declined: { reason: 'Rate too low' } });
    expect((driver.ledger.read(milestoneKey('m1')) as MilestoneRecord).status).toBe('cancelled');
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.AgreementDeclined',
      payload: { reason: 'Rate too low', agreement: { status: 'declined' } },
    });
    await driver.expectRefusal(
      () => driver.accept(),
      'INVALID_STATE[agreementId]: agreement A-17 is declined, not offered, so it cannot be accepted',
    );
  });

  it('refuses a decline by the client, after acceptance, or without a reason', async () => {
    const decline = (as = freelancer, reason = 'No') =>
      driver.call(as, (c, ctx) => c.declineAgreement(ctx, JSON.stringify({ agreementId, reason })));
    await driver.expectRefusal(() => decline(client), /^FORBIDDEN: only the freelancer may decline agreement A-17/);
    await driver.expectRefusal(
      () => decline(freelancer, ' '),
      /^VALIDATION_FAILED\[reason\]: reason: must not be empty$/,
    );
    await driver.accept();
    await driver.expectRefusal(
      () => decline(),
      'INVALID_STATE[agreementId]: agreement A-17 is active, not offered, so it cannot be declined',
    );
  });
});

describe('AgreementContract: cancellation', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.setParameters();
    await driver.draft();
  });

  it('lets the client withdraw an offer alone', async () => {
    const details = await driver.cancel(client);

    expect(details.agreement).toMatchObject({
      status: 'cancelled',
      cancellation: { agreedBy: ['client'], reason: 'Project stopped' },
    });
    expect(details.milestones.map((m) => m.status)).toEqual(['cancelled', 'cancelled']);
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.AgreementCancelled',
      payload: { settlementRequests: [] },
    });
    expect((await driver.getAgreement()).completed).toBe(true);
  });

  it('lets either party cancel an active agreement alone before any escrow is funded', async () => {
    await driver.accept();
    const details = await driver.cancel(freelancer);
    expect(details.agreement.cancellation?.agreedBy).toEqual(['freelancer']);
  });

  it('needs both parties after funding, and refunds the escrow still held', async () => {
    await driver.accept();
    await driver.funded('m1');

    const requested = await driver.cancel(client, 'Budget cut');
    expect(requested.agreement).toMatchObject({
      status: 'active',
      cancellationRequest: { by: 'client', reason: 'Budget cut' },
    });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.CancellationRequested',
      payload: { requestedBy: 'client', reason: 'Budget cut' },
    });
    await driver.expectRefusal(
      () => driver.cancel(client),
      'INVALID_STATE[agreementId]: the client has already asked to cancel agreement A-17; escrow has been funded, so the freelancer must agree',
    );

    const cancelled = await driver.cancel(freelancer, 'Agreed');

    expect(cancelled.agreement).toMatchObject({
      status: 'cancelled',
      cancellation: { agreedBy: ['client', 'freelancer'], reason: 'Agreed' },
    });
    const [m1, m2] = cancelled.milestones;
    expect(m1!.status).toBe('refunding');
    expect(m2!.status).toBe('cancelled');
    const refund = m1!.instructions.at(-1)!;
    expect(refund).toMatchObject({
      instructionId: 'A-17/m1/refund-1',
      kind: 'refund',
      cause: 'cancellation',
      payer: clientParty,
      payee: freelancerParty,
      // Whichever way money moves, the payer and payee are the parties; the refund goes to the client.
      recipient: clientParty,
      amount: '150001',
      platformFee: '0',
      currency: 'EUR',
      status: 'pending',
    });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.AgreementCancelled',
      payload: { settlementRequests: [refund] },
    });

    const refunded = await driver.confirm('m1', 'A-17/m1/refund-1');
    expect(refunded.status).toBe('refunded');
    expect((await driver.getAgreement()).completed).toBe(true);
  });

  it('leaves paid milestones alone and issues no refund when no escrow is held', async () => {
    await driver.accept();
    await driver.funded('m1');
    await driver.submit('m1');
    await driver.acceptMilestone('m1');
    await driver.release('m1');
    await driver.confirm('m1', 'A-17/m1/release-1');

    await driver.cancel(freelancer, 'Second phase not needed');
    const cancelled = await driver.cancel(client, 'Agreed');

    expect(cancelled.agreement.cancellation?.agreedBy).toEqual(['freelancer', 'client']);
    expect(cancelled.milestones.map((m) => m.status)).toEqual(['paid', 'cancelled']);
    const tx = driver.ledger.transactions.at(-1)!;
    expect(tx.writes).not.toContain(milestoneKey('m1'));
    expect(tx.event).toMatchObject({ name: 'agreement.AgreementCancelled', payload: { settlementRequests: [] } });
  });

  it('refuses cancelling a complete agreement, which stays active', async () => {
    await driver.accept();
    for (const milestoneId of ['m1', 'm2']) {
      await driver.funded(milestoneId);
      await driver.submit(milestoneId);
      await driver.acceptMilestone(milestoneId);
      await driver.release(milestoneId);
      await driver.confirm(milestoneId, `A-17/${milestoneId}/release-1`);
    }
    expect(await driver.getAgreement()).toMatchObject({ agreement: { status: 'active' }, completed: true });
    for (const party of [client, freelancer]) {
      await driver.expectRefusal(
        () => driver.cancel(party),
        'INVALID_STATE[agreementId]: every milestone of agreement A-17 is paid: it is complete, and there is nothing left to cancel',
      );
    }
    expect(await driver.getAgreement()).toMatchObject({ agreement: { status: 'active' }, completed: true });
  });

  it('refuses cancellation while escrow awaits confirmation, a dispute is open or an acceptance is unreleased', async () => {
    await driver.accept();
    await driver.fund('m1');
    await driver.expectRefusal(
      () => driver.cancel(client),
      'INVALID_STATE[agreementId]: escrow of milestone m1 of agreement A-17 awaits settlement confirmation; cancel after it is confirmed or failed',
    );
    await driver.confirm('m1', 'A-17/m1/fund-escrow-1');
    await driver.submit('m1');
    await driver.dispute('m1', client);
    await driver.expectRefusal(
      () => driver.cancel(freelancer),
      'INVALID_STATE[agreementId]: milestone m1 of agreement A-17 is disputed; cancel after the arbitrators decide',
    );
  });

  it('refuses cancellation while an accepted milestone is unreleased', async () => {
    await driver.accept();
    await driver.funded('m2');
    await driver.submit('m2');
    await driver.acceptMilestone('m2');
    await driver.expectRefusal(
      () => driver.cancel(client),
      'INVALID_STATE[agreementId]: milestone m2 of agreement A-17 is accepted; release it before cancelling the agreement',
    );
  });

  it('refuses cancellation by anyone but a party, and of an agreement that is over', async () => {
    await driver.expectRefusal(() => driver.cancel(otherClient), missingAgreement());
    await driver.expectRefusal(
      () => driver.cancel(admin),
      /^FORBIDDEN: only the client or the freelancer may cancel agreement A-17; the caller is ClientOrgMSP user ops with role admin$/,
    );
    await driver.cancel(client);
    await driver.expectRefusal(
      () => driver.cancel(freelancer),
      'INVALID_STATE[agreementId]: agreement A-17 is cancelled, not offered or active, so it cannot be cancelled',
    );
  });
});

describe('AgreementContract: queries', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.active();
    // Auditors read under a grant; the audit contract's suite covers reads without one.
    await driver.grantAudit(['agreement']);
  });

  it('returns an agreement with its milestones and the history of its record', async () => {
    const view = await driver.getAgreement(auditor);

    expect(view.agreement.status).toBe('active');
    expect(view.milestones.map((m) => m.milestoneId)).toEqual(['m1', 'm2']);
    expect(view.completed).toBe(false);
    const [acceptTx, draftTx] = driver.ledger.transactions.filter((tx) => tx.writes.includes(agreementKey())).reverse();
    expect(view.history).toEqual([
      { txId: acceptTx!.txId, at: view.agreement.acceptedAt, isDelete: false, status: 'active' },
      { txId: draftTx!.txId, at: view.agreement.createdAt, isDelete: false, status: 'offered' },
    ]);
  });

  it('lets parties, the evaluator and overseeing roles read an agreement, and nobody else', async () => {
    for (const reader of [client, freelancer, evaluator, auditor, admin, settlement]) {
      await expect(driver.getAgreement(reader)).resolves.toMatchObject({ agreement: { agreementId } });
    }
    // Everyone else is answered exactly as for an agreement that does not exist: a
    // governed arbitrator too, until a dispute over it draws them (the disputes' suite).
    await expect(driver.getAgreement(arbitratorA)).rejects.toThrow(missingAgreement());
    await expect(driver.getAgreement(otherClient)).rejects.toThrow(missingAgreement());
    await expect(driver.getAgreement(otherFreelancer)).rejects.toThrow(missingAgreement());
    await expect(driver.getAgreement(noUserId)).rejects.toThrow(missingAgreement());
    await expect(driver.getAgreement(client, 'A-404')).rejects.toThrow(missingAgreement('A-404'));
  });

  /** B-9: between two ClientOrg people only. */
  const draftInHouse = () =>
    driver.draft(
      draftRequest(driver.ledger, {
        requestId: 'draft-inhouse',
        agreementId: 'B-9',
        evaluator: undefined,
        freelancer: { mspId: 'ClientOrgMSP', userId: 'carol-2' },
      }),
    );

  it("lets an admin read only agreements naming a person of the admin's own organisation", async () => {
    const talentAdmin: TestIdentity = {
      mspId: 'TalentOrgMSP',
      name: 'talent-ops',
      attributes: { role: 'admin', userId: 'talent-ops' },
    };
    const auditAdmin: TestIdentity = {
      mspId: 'AuditOrgMSP',
      name: 'audit-ops',
      attributes: { role: 'admin', userId: 'audit-ops' },
    };
    // A-17 names a ClientOrg client and a TalentOrg freelancer; B-9 only ClientOrg people.
    await draftInHouse();
    for (const reader of [admin, talentAdmin]) {
      await expect(driver.getAgreement(reader)).resolves.toMatchObject({ agreement: { agreementId } });
    }
    await expect(driver.getAgreement(admin, 'B-9')).resolves.toMatchObject({ agreement: { agreementId: 'B-9' } });
    // Another organisation's admin is answered exactly as for an agreement that does not exist.
    await expect(driver.getAgreement(talentAdmin, 'B-9')).rejects.toThrow(missingAgreement('B-9'));
    await expect(driver.getAgreement(auditAdmin)).rejects.toThrow(missingAgreement());
    const list = async (as: TestIdentity) =>
      (
        await driver.call(as, (c, ctx) =>
          c.listAgreementsByParty(ctx, JSON.stringify({ ...clientParty, role: 'client' })),
        )
      ).items;
    expect((await list(admin)).map((entry) => entry.agreement.agreementId)).toEqual(['A-17', 'B-9']);
    expect((await list(talentAdmin)).map((entry) => entry.agreement.agreementId)).toEqual(['A-17']);
    expect(await list(auditAdmin)).toEqual([]);
  });

  it('lets an arbitrator or settlement identity read beyond its organisation only with the consortium decision behind it', async () => {
    await draftInHouse();
    // Any TalentOrg admin could give these roles; the consortium governs neither.
    const selfMadeArbitrator = testIdentity('TalentOrgMSP', 'tarb', 'arbitrator');
    const selfMadeSettlement = testIdentity('TalentOrgMSP', 'tsettle', 'settlement');
    for (const reader of [selfMadeArbitrator, selfMadeSettlement]) {
      await expect(driver.getAgreement(reader, 'B-9')).rejects.toThrow(missingAgreement('B-9'));
    }
    // An agreement naming a person of their own organisation stays readable to the settlement
    // identity, as for its admin; an arbitrator, a neutral, reads none of its own organisation's.
    await expect(driver.getAgreement(selfMadeSettlement)).resolves.toMatchObject({ agreement: { agreementId } });
    await expect(driver.getAgreement(selfMadeArbitrator)).rejects.toThrow(missingAgreement());
    await driver.applyGenesis([
      { type: 'addArbitrator', arbitrator: { mspId: 'TalentOrgMSP', userId: 'tarb' }, displayName: 'Tarb' },
    ]);
    await expect(driver.getAgreement(selfMadeArbitrator)).rejects.toThrow(missingAgreement());
    // The settlement organisation's identity reads it; a governed arbitrator, only the
    // agreements with a dispute whose panel holds them, and B-9 has none.
    await expect(driver.getAgreement(settlement, 'B-9')).resolves.toMatchObject({ agreement: { agreementId: 'B-9' } });
    await expect(driver.getAgreement(arbitratorA, 'B-9')).rejects.toThrow(missingAgreement('B-9'));
  });

  it('lists agreements by party from the composite-key index', async () => {
    await driver.draft(
      draftRequest(driver.ledger, { requestId: 'draft-0002', agreementId: 'B-9', evaluator: undefined }),
    );
    const list = async (as: typeof client, query: Record<string, unknown>) =>
      (await driver.call(as, (c, ctx) => c.listAgreementsByParty(ctx, JSON.stringify(query)))).items;

    const mine = await list(freelancer, { ...freelancerParty });
    expect(mine.map((entry) => [entry.role, entry.agreement.agreementId, entry.agreement.status])).toEqual([
      ['freelancer', 'A-17', 'active'],
      ['freelancer', 'B-9', 'offered'],
    ]);
    expect((await list(client, { ...clientParty, role: 'freelancer' })).length).toBe(0);
    expect((await list(evaluator, { mspId: 'ClientOrgMSP', userId: 'eval-harness' })).map((e) => e.role)).toEqual([
      'evaluator',
    ]);
    expect((await list(auditor, { ...clientParty, role: 'client' })).length).toBe(2);
    // An HR system sees its own organisation's people's agreements, another organisation's HR none of them.
    const hrSystem = { mspId: 'TalentOrgMSP', name: 'hr-sync', attributes: { role: 'hr', userId: 'hr-sync' } };
    expect((await list(hrSystem, { ...freelancerParty, role: 'freelancer' })).length).toBe(mine.length);
    const otherHr = { mspId: 'AuditOrgMSP', name: 'hr-audit', attributes: { role: 'hr', userId: 'hr-audit' } };
    expect(await list(otherHr, { ...freelancerParty, role: 'freelancer' })).toEqual([]);
    await expect(list(otherClient, { ...clientParty })).rejects.toThrow(
      /^FORBIDDEN: only ClientOrgMSP user carol, an auditor, an HR system or an admin may list that user's agreements/,
    );
    await expect(list(client, { ...clientParty, role: 'arbitrator' })).rejects.toThrow(/^VALIDATION_FAILED\[role\]/);
  });

  it('lists the completed agreements of a party, or the open ones, in the same evaluation', async () => {
    for (const id of ['C-1', 'C-2', 'C-3']) {
      await driver.draft(
        draftRequest(driver.ledger, { requestId: `draft-${id}`, agreementId: id, evaluator: undefined }),
      );
    }
    // Withdrawn offers: every milestone cancelled, so completed.
    await driver.cancel(client, 'Project stopped', 'C-1');
    await driver.cancel(client, 'Project stopped', 'C-3');
    const ids = async (as: typeof client, query: Record<string, unknown>) =>
      (
        await driver.call(as, (c, ctx) => c.listAgreementsByParty(ctx, JSON.stringify({ ...clientParty, ...query })))
      ).items.map((entry) => entry.agreement.agreementId);
    expect(await ids(client, { completed: true })).toEqual(['C-1', 'C-3']);
    expect(await ids(client, { completed: false })).toEqual(['A-17', 'C-2']);
    expect(await ids(client, {})).toEqual(['A-17', 'C-1', 'C-2', 'C-3']);
    // A page reads on past the agreements the filter leaves out, and the next starts after it.
    const page = (bookmark?: string) =>
      driver.call(client, (c, ctx) =>
        c.listAgreementsByParty(
          ctx,
          JSON.stringify({
            ...clientParty,
            completed: true,
            pageSize: 1,
            ...(bookmark === undefined ? {} : { bookmark }),
          }),
        ),
      );
    const first = await page();
    expect(first.items.map((entry) => entry.agreement.agreementId)).toEqual(['C-1']);
    const second = await page(first.bookmark);
    expect(second.items.map((entry) => entry.agreement.agreementId)).toEqual(['C-3']);
    expect(second.bookmark).toBe('');
    // It keeps the visibility rules: the auditor reads under its grant, a stranger nothing.
    expect(await ids(auditor, { completed: true })).toEqual(['C-1', 'C-3']);
    await expect(ids(otherClient, { completed: true })).rejects.toThrow(/^FORBIDDEN/);
    await expect(ids(client, { completed: 'yes' })).rejects.toThrow(/^VALIDATION_FAILED\[completed\]/);
  });

  it('lists agreements by party one page at a time, each agreement once, up to the page size', async () => {
    const ids = ['B-01', 'B-02', 'B-03', 'B-04', 'B-05'];
    for (const [index, id] of ids.entries()) {
      await driver.draft(
        draftRequest(driver.ledger, { requestId: `draft-page-${index}`, agreementId: id, evaluator: undefined }),
      );
    }
    const page = (as: typeof client, query: Record<string, unknown>) =>
      driver.call(as, (c, ctx) => c.listAgreementsByParty(ctx, JSON.stringify({ ...clientParty, ...query })));
    const seen: string[] = [];
    const pageLengths: number[] = [];
    let bookmark = '';
    do {
      const answer = await page(client, { role: 'client', pageSize: 2, ...(bookmark === '' ? {} : { bookmark }) });
      pageLengths.push(answer.items.length);
      seen.push(...answer.items.map((entry) => entry.agreement.agreementId));
      bookmark = answer.bookmark;
    } while (bookmark !== '');
    expect(seen).toEqual(['A-17', ...ids]);
    expect(pageLengths).toEqual([2, 2, 2]);
    // With no page size a page holds the default, here everything.
    expect((await page(client, { role: 'client' })).items).toHaveLength(6);
    expect((await page(client, { role: 'client' })).bookmark).toBe('');

    await expect(page(client, { pageSize: 0 })).rejects.toThrow(
      /^VALIDATION_FAILED\[pageSize\]: pageSize: must be at least 1/,
    );
    await expect(page(client, { pageSize: 501 })).rejects.toThrow(
      /^VALIDATION_FAILED\[pageSize\]: pageSize: must be at most 500/,
    );
    await expect(page(client, { pageSize: 1.5 })).rejects.toThrow(/^VALIDATION_FAILED\[pageSize\]/);
    // A bookmark starts the peer's range read, so one from outside this list would read
    // other people's index entries: it is refused, whoever sends it.
    const freelancersBookmark = (
      await driver.call(freelancer, (c, ctx) =>
        c.listAgreementsByParty(ctx, JSON.stringify({ ...freelancerParty, pageSize: 1 })),
      )
    ).bookmark;
    expect(freelancersBookmark).not.toBe('');
    for (const bookmarkFromElsewhere of [freelancersBookmark, 'A-17', '\u0000']) {
      await expect(page(client, { role: 'client', bookmark: bookmarkFromElsewhere })).rejects.toThrow(
        /^VALIDATION_FAILED\[bookmark\]: bookmark: is not one this list answered with/,
      );
    }
  });

  it('gives the confidential terms to the parties only', async () => {
    const getTerms = (as: typeof client) =>
      driver.call(as, (c, ctx) => c.getTerms(ctx, JSON.stringify({ agreementId })));

    expect(await getTerms(client)).toEqual({ status: 'held', agreementId, termsSha256, terms });
    expect(await getTerms(freelancer)).toEqual({ status: 'held', agreementId, termsSha256, terms });
    // Readers of the agreement who are not parties (the auditor under its grant) are told
    // why; others learn nothing.
    for (const reader of [auditor, evaluator]) {
      await expect(getTerms(reader)).rejects.toThrow(
        /^FORBIDDEN: only the client or the freelancer may read the terms of agreement A-17/,
      );
    }
    await expect(getTerms(otherClient)).rejects.toThrow(missingAgreement());
  });

  it('tells a party when the peer answering holds no copy of the terms', async () => {
    // A peer of an organisation outside the collection keeps only the hash.
    await driver.ledger.invoke(admin, async (ctx) => {
      await ctx.stub.deletePrivateData('agreementTerms', termsKey);
    });
    await expect(driver.call(client, (c, ctx) => c.getTerms(ctx, JSON.stringify({ agreementId })))).rejects.toThrow(
      "NOT_FOUND[agreementId]: this peer holds no terms of agreement A-17; ask a peer of a party's organisation",
    );
  });

  it('verifies a terms document against the hash on the agreement and the collection', async () => {
    const verify = (document: unknown, as = auditor) =>
      driver.call(as, (c, ctx) => c.verifyTerms(ctx, JSON.stringify({ agreementId, terms: document })));

    expect(await verify(terms)).toEqual({
      agreementId,
      termsSha256,
      documentSha256: termsSha256,
      matches: true,
      privateDataHashMatches: true,
    });
    // Key order does not matter: the hash is over canonical JSON.
    const reordered = { salt: terms.salt, personalData: terms.personalData, rates: terms.rates, scope: terms.scope };
    expect((await verify(reordered)).matches).toBe(true);
    // Without the salt the very same terms do not match: a guess cannot be confirmed by anyone who lacks it.
    const { salt: _salt, ...unsalted } = terms;
    expect(await verify(unsalted)).toMatchObject({ matches: false, privateDataHashMatches: false });
    const altered = await verify({ ...terms, scope: `${terms.scope} Plus support.` });
    expect(altered).toMatchObject({ matches: false, privateDataHashMatches: false });
    expect(altered.documentSha256).not.toBe(termsSha256);
    await expect(verify(terms, otherClient)).rejects.toThrow(missingAgreement());
    await expect(verify({ scope: '' })).rejects.toThrow(/^VALIDATION_FAILED\[terms\.scope\]/);
  });

  it('returns every version of a milestone from the ledger history, newest first', async () => {
    await driver.funded('m1');
    const history = await driver.call(auditor, (c, ctx) =>
      c.getMilestoneHistory(ctx, JSON.stringify({ agreementId, milestoneId: 'm1' })),
    );
    expect(history.map((entry) => entry.milestone?.status)).toEqual(['funded', 'funding', 'unfunded']);
    expect(history.map((entry) => entry.txId)).toEqual(
      driver.ledger.transactions
        .filter((tx) => tx.writes.includes(milestoneKey('m1')))
        .map((tx) => tx.txId)
        .reverse(),
    );
    await expect(
      driver.call(auditor, (c, ctx) => c.getMilestoneHistory(ctx, JSON.stringify({ agreementId, milestoneId: 'm9' }))),
    ).rejects.toThrow('NOT_FOUND[milestoneId]: agreement A-17 has no milestone m9');
    await expect(
      driver.call(otherClient, (c, ctx) =>
        c.getMilestoneHistory(ctx, JSON.stringify({ agreementId, milestoneId: 'm1' })),
      ),
    ).rejects.toThrow(missingAgreement());
  });
});

describe('AgreementContract: no hot keys', () => {
  it('never lets work on one agreement read or write a key that work on another agreement writes', async () => {
    const driver = new AgreementDriver();
    await driver.setParameters();
    const parameterTransactions = driver.ledger.transactions.length;
    await driver.draft();
    await driver.draft(draftRequest(driver.ledger, { requestId: 'draft-0002', agreementId: 'B-9' }));
    for (const id of [agreementId, 'B-9']) await driver.accept(freelancer, termsSha256, id);
    // Interleave the two agreements the way concurrent users would.
    for (const id of [agreementId, 'B-9']) await driver.fund('m1', client, id);
    for (const id of [agreementId, 'B-9']) {
      const milestone = driver.ledger.read(milestoneKey('m1', id)) as MilestoneRecord;
      await driver.confirm('m1', milestone.instructions[0]!.instructionId, 'paid', settlement, id);
    }
    for (const id of [agreementId, 'B-9']) await driver.submit('m1', 'a'.repeat(64), freelancer, {}, id);
    for (const id of [agreementId, 'B-9']) await driver.acceptMilestone('m1', client, id);
    for (const id of [agreementId, 'B-9']) await driver.release('m1', client, id);
    for (const id of [agreementId, 'B-9']) await driver.cancel(client, 'done', id);

    const work = driver.ledger.transactions.slice(parameterTransactions).map((tx) => ({
      ...tx,
      agreementId: (tx.event?.payload as { agreementId: string }).agreementId,
    }));
    expect(new Set(work.map((tx) => tx.agreementId))).toEqual(new Set([agreementId, 'B-9']));
    for (const a of work) {
      for (const b of work) {
        if (a.agreementId === b.agreementId) continue;
        const touched = new Set([...a.reads, ...a.writes]);
        expect(b.writes.filter((key) => touched.has(key))).toEqual([]);
        for (const range of a.rangeReads) {
          expect(b.writes.filter((key) => key >= range.start && key < range.end)).toEqual([]);
        }
      }
    }
  });
});
