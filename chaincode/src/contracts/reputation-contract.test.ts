import 'reflect-metadata';
import { ReputationContract } from './reputation-contract';
import { reputationEvents, reputationTransactions } from '../model/reputation';
import type { CompletionRecord } from '../model/reputation-records';
import { parseRefusal } from '../model/errors';
import {
  agreementId,
  arbitratorA,
  arbitratorB,
  auditor,
  batchMilestone,
  client,
  clientParty,
  compositeKey,
  draftRequest,
  evaluator,
  freelancer,
  freelancerParty,
  milestoneKey,
  missingAgreement,
  noUserId,
  otherClient,
} from '../test-support/agreement-fixtures';
import { anonymous } from '../test-support/credential-fixtures';
import { ReputationDriver, completionKey } from '../test-support/reputation-fixtures';

const day = 24 * 3600;

describe('ReputationContract: spec', () => {
  it('exposes exactly the transactions of the model spec, each submitted or evaluated as specified', () => {
    const decorated = Reflect.getMetadata('fabric:transactions', ReputationContract.prototype) as {
      name: string;
      tag: string[];
    }[];
    const kinds = Object.fromEntries(
      decorated.map((tx) => [tx.name, tx.tag.includes('SUBMIT') ? 'submit' : 'evaluate']),
    );
    const specified = Object.fromEntries(
      Object.entries(reputationTransactions).map(([key, spec]) => {
        expect(spec.name).toBe(key);
        expect(spec.contract).toBe(new ReputationContract().getName());
        return [spec.name, spec.kind];
      }),
    );
    expect(kinds).toEqual(specified);
  });
});

describe('ReputationContract: completions', () => {
  let driver: ReputationDriver;

  beforeEach(async () => {
    driver = new ReputationDriver();
    await driver.agreements.active();
    await driver.agreements.funded('m1');
  });

  it('records the client rating with timeliness, dispute outcome and subject read from the ledger', async () => {
    const submitted = await driver.agreements.submit('m1');
    driver.ledger.advanceSeconds(3600);
    const accepted = await driver.agreements.acceptMilestone('m1');
    driver.ledger.advanceSeconds(day);

    const completion = await driver.rate(agreementId, 'm1', 4);
    const tx = driver.ledger.transactions.at(-1)!;
    const at = new Date(tx.timestampSeconds * 1000).toISOString();

    expect(completion).toEqual({
      subject: freelancerParty,
      client: clientParty,
      agreementId,
      milestoneId: 'm1',
      milestoneKind: 'deliverable',
      milestoneStatus: 'accepted',
      rating: 4,
      dueDate: accepted.dueDate,
      deliveredAt: submitted.submissions[0]!.submittedAt,
      onTime: true,
      disputeOutcome: 'none',
      completedAt: accepted.acceptance!.at,
      recordedAt: at,
      txId: tx.txId,
    } satisfies CompletionRecord);
    const key = completionKey(freelancerParty, agreementId, 'm1');
    driver.expectSoleWrite(key, completion);
    expect(driver.ledger.lastEvent!.name).toBe('reputation.CompletionRecorded');
    driver.expectLastEvent(
      reputationEvents.completionRecorded,
      { mspId: 'ClientOrgMSP', userId: 'carol', role: 'client' },
      { completion },
    );
  });

  it('marks work delivered after the due date as late', async () => {
    driver.ledger.advanceSeconds(15 * day);
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');

    expect(await driver.rate(agreementId, 'm1', 3)).toMatchObject({ onTime: false, disputeOutcome: 'none' });
  });

  it('rates released and paid milestones', async () => {
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');
    const released = await driver.agreements.release('m1');
    await driver.agreements.confirm('m1', released.instructions.at(-1)!.instructionId);

    expect(await driver.rate(agreementId, 'm1', 5)).toMatchObject({ milestoneStatus: 'paid', onTime: true });
  });

  it.each([
    ['lost', '150001', '0'],
    ['won', '0', '150001'],
    ['split', '50001', '100000'],
  ])('derives a %s dispute from the arbitrators decision', async (outcome, clientShare, freelancerShare) => {
    await driver.agreements.submit('m1');
    await driver.agreements.reject('m1');
    await driver.agreements.dispute('m1');
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm1', 2),
      /^INVALID_STATE\[milestoneId\]: milestone m1 of agreement A-17 is disputed; only work that is accepted, released, paid, resolved, settled can be rated$/,
    );
    await driver.agreements.vote('m1', arbitratorA, clientShare, freelancerShare);
    const decided = await driver.agreements.vote('m1', arbitratorB, clientShare, freelancerShare);

    const completion = await driver.rate(agreementId, 'm1', 2);
    expect(completion).toMatchObject({
      milestoneStatus: 'resolved',
      disputeOutcome: outcome,
      completedAt: decided.dispute!.decision!.at,
      onTime: true,
    });
  });

  it('uses the acceptance time of a batch of tasks for timeliness', async () => {
    const batchDriver = new ReputationDriver();
    const request = draftRequest(batchDriver.ledger);
    await batchDriver.agreements.active({
      ...request,
      milestones: [...(request.milestones as unknown[]), batchMilestone(batchDriver.ledger, 2)],
    });
    await batchDriver.agreements.funded('m3');
    await batchDriver.agreements.submitTasks('m3', ['t1', 't2']);
    const reviewed = await batchDriver.agreements.reviewTasks('m3', ['t1', 't2']);

    expect(await batchDriver.rate(agreementId, 'm3', 5)).toMatchObject({
      milestoneKind: 'batch',
      deliveredAt: reviewed.milestone.acceptance!.at,
      onTime: true,
    });
  });

  it('returns the stored result for a repeated request id, and refuses rating the milestone again', async () => {
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');
    const first = await driver.rate(agreementId, 'm1', 4, client, 'rate-A-17-m1');

    expect(await driver.rate(agreementId, 'm1', 4, client, 'rate-A-17-m1')).toEqual(first);
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm1', 5),
      'ALREADY_EXISTS[milestoneId]: milestone m1 of agreement A-17 has already been rated',
    );
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm1', 5, client, 'rate-A-17-m1'),
      /^REQUEST_ID_REUSED\[requestId\]: /,
    );
  });

  it('refuses work that is not finished', async () => {
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm1', 4),
      /^INVALID_STATE\[milestoneId\]: milestone m1 of agreement A-17 is funded; only work that is /,
    );
    await driver.agreements.submit('m1');
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm1', 4),
      /^INVALID_STATE\[milestoneId\]: .* is submitted; /,
    );
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm2', 4),
      /^INVALID_STATE\[milestoneId\]: .* is unfunded; /,
    );
  });

  it.each([
    [
      'the freelancer',
      freelancer,
      /^FORBIDDEN: only client may rate milestone m1 of agreement A-17; the caller has role freelancer$/,
    ],
    // Another client may not read the agreement: answered as if it did not exist.
    ['another client', otherClient, missingAgreement()],
    ['the evaluator', evaluator, /^FORBIDDEN: only client may rate /],
    ['an auditor', auditor, /^FORBIDDEN: only client may rate /],
    // Refused before any record is read, so the same whether or not the agreement exists.
    [
      'an identity without userId',
      noUserId,
      /^IDENTITY_INCOMPLETE: rate milestone m1 of agreement A-17 needs a certificate with a userId attribute$/,
    ],
  ])('refuses %s rating, writing nothing', async (_, identity, message) => {
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');
    await driver.expectRefusal(() => driver.rate(agreementId, 'm1', 4, identity), message);
  });

  it('refuses an unknown agreement or milestone, naming the field', async () => {
    await driver.expectRefusal(
      () => driver.rate('A-404', 'm1', 4),
      'NOT_FOUND[agreementId]: agreement A-404 does not exist',
    );
    await driver.expectRefusal(
      () => driver.rate(agreementId, 'm9', 4),
      'NOT_FOUND[milestoneId]: agreement A-17 has no milestone m9',
    );
  });

  it.each([
    [{ rating: 0 }, 'rating', 'must be 1 to 5'],
    [{ rating: 6 }, 'rating', 'must be 1 to 5'],
    [{ rating: 4.5 }, 'rating', 'must be a whole number'],
    [{ rating: '5' }, 'rating', ''],
    [{ agreementId: '' }, 'agreementId', ''],
    [{ milestoneId: undefined }, 'milestoneId', ''],
    [{ subject: freelancerParty }, 'request', ''],
  ])('refuses an invalid request %j, naming the field', async (overrides, field, message) => {
    const request = { requestId: 'rate-0000001', agreementId, milestoneId: 'm1', rating: 4, ...overrides };
    await driver.expectRefusal(
      () => driver.ledger.invoke(client, (ctx) => driver.contract.recordCompletion(ctx, JSON.stringify(request))),
      new RegExp(`^VALIDATION_FAILED\\[${field}\\]: ${field}: .*${message}`),
    );
  });

  it('lists completions and scores them for any caller, naming the records and transactions', async () => {
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');
    const completion = await driver.rate(agreementId, 'm1', 5);

    const listed = await driver.ledger.invoke(anonymous, (ctx) =>
      driver.contract.listCompletions(ctx, JSON.stringify(freelancerParty)),
    );
    expect(listed).toEqual({ items: [completion], bookmark: '' });
    const reputation = await driver.reputationOf(freelancerParty, anonymous);
    expect(reputation).toMatchObject({
      subject: freelancerParty,
      score: 56.67,
      components: { completions: { count: 1, meanRating: 5 }, onTime: { onTime: 1, late: 0 } },
    });
    expect(reputation.basis.map((entry) => [entry.kind, entry.txId])).toEqual([['completion', completion.txId]]);

    driver.ledger.advanceSeconds(365 * day);
    const later = await driver.reputationOf(freelancerParty);
    expect(later.basis[0]!.recency).toBe(0.5);
    expect(later.score).toBeLessThan(reputation.score);
    expect(later.asOf).toBe(new Date(driver.ledger.nowSeconds * 1000).toISOString());
  });
});

describe('ReputationContract: whose score is answered', () => {
  const members = ['ClientOrgMSP', 'AuditOrgMSP'];

  it('refuses a score for a person of no member organisation who holds no records, naming mspId', async () => {
    const driver = new ReputationDriver();
    await driver.agreements.setParameters();
    await driver.agreements.applyGenesis(
      members.map((mspId) => ({ type: 'setMemberRights' as const, mspId, voting: true, veto: false })),
    );
    const ghost = { mspId: 'GhostOrgMSP', userId: 'gus' };
    const error = await driver.reputationOf(ghost).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(parseRefusal(error?.message ?? '')).toMatchObject({ code: 'VALIDATION_FAILED', field: 'mspId' });
    expect(error?.message).toContain('GhostOrgMSP is no member organisation of the consortium');
    // A member's newcomer scores the prior, with no record behind it.
    const newcomer = await driver.reputationOf({ mspId: 'ClientOrgMSP', userId: 'new-hire' });
    expect(newcomer.basis).toEqual([]);
  });

  it('keeps the score of a person with records after their organisation stops being a member', async () => {
    const driver = new ReputationDriver();
    await driver.agreements.active();
    await driver.agreements.funded('m1');
    await driver.agreements.submit('m1');
    await driver.agreements.acceptMilestone('m1');
    await driver.rate(agreementId, 'm1', 4);
    // TalentOrg, the freelancer's organisation, is not among the members any more.
    await driver.agreements.applyGenesis(
      members.map((mspId) => ({ type: 'setMemberRights' as const, mspId, voting: true, veto: false })),
    );
    const reputation = await driver.reputationOf(freelancerParty, anonymous);
    expect(reputation.components.completions).toMatchObject({ count: 1, meanRating: 4 });
  });
});

describe('ReputationContract: completions under load', () => {
  it('writes 100 completions for one freelancer to disjoint keys, none reading a key another writes', async () => {
    const driver = new ReputationDriver();
    await driver.agreements.setParameters();
    const ids = Array.from({ length: 100 }, (_, index) => `A-${String(index + 1).padStart(3, '0')}`);
    for (const id of ids) {
      await driver.activeAgreement(id);
      await driver.completed(id);
    }
    const start = driver.ledger.transactions.length;
    for (const [index, id] of ids.entries()) await driver.rate(id, 'm1', 1 + (index % 5));
    const completions = driver.ledger.transactions.slice(start);

    expect(completions).toHaveLength(100);
    const writers = new Map<string, string>();
    for (const tx of completions) {
      expect(tx.rangeReads).toEqual([]);
      expect(tx.event?.name).toBe('reputation.CompletionRecorded');
      for (const key of tx.writes) {
        expect(writers.get(key)).toBeUndefined();
        writers.set(key, tx.txId);
      }
    }
    for (const tx of completions) {
      for (const key of tx.reads) {
        const writer = writers.get(key);
        // A transaction may read the keys it writes itself (its own completion and request keys), never another's.
        if (writer !== undefined) expect(writer).toBe(tx.txId);
      }
    }
    // Each one read its own agreement and milestone, by key.
    completions.forEach((tx, index) => {
      expect(tx.reads).toEqual(
        expect.arrayContaining([compositeKey('agreement', ids[index]!), milestoneKey('m1', ids[index])]),
      );
      expect(tx.reads.every((key) => !key.includes(ids[(index + 1) % ids.length]!))).toBe(true);
    });

    const reputation = await driver.reputationOf(freelancerParty);
    expect(reputation.components.completions).toMatchObject({ count: 100, meanRating: 3 });
    expect(new Set(reputation.basis.map((entry) => entry.txId))).toEqual(new Set(completions.map((tx) => tx.txId)));
  });
});
