import { policyOrganisations } from '../ledger/endorsement';
import type { OwnershipChangeView, WorkRecord } from '../model/ip';
import {
  AgreementDriver,
  agreementId,
  arbitratorA,
  arbitratorB,
  client,
  clientParty,
  draftRequest,
  freelancer,
  freelancerParty,
  otherFreelancer,
  settlement,
} from '../test-support/agreement-fixtures';
import type { TestIdentity } from '../test-support/in-memory-ledger';
import { IpContract } from './ip-contract';
import { LicensingContract } from './licensing-contract';
import { licenceOfferFields } from '../test-support/domain-fixtures';

const workKey = (workId: string): string => `\u0000ipWork\u0000${workId}\u0000`;
const modelHash = 'd'.repeat(64);

describe('work for hire', () => {
  let driver: AgreementDriver;
  const ip = new IpContract();

  const callIp = <Result>(as: TestIdentity, name: string, request: unknown): Promise<Result> =>
    driver.ledger.invoke(as, (ctx) =>
      (ip as unknown as Record<string, (ctx: unknown, json: string) => Promise<Result>>)[name]!.call(
        ip,
        ctx,
        JSON.stringify(request),
      ),
    );
  const registerWork = (as: TestIdentity, workId: string, contentHash: string, owners?: unknown) =>
    callIp<WorkRecord>(as, 'registerWork', {
      requestId: `register-${workId}`,
      workId,
      kind: 'model',
      contentHash,
      title: 'Defect classifier weights',
      uri: 'hf://tara/defects',
      creators: [freelancerParty],
      ...(owners === undefined ? {} : { owners }),
    });
  const getWork = (workId = 'W-1') => callIp<WorkRecord>(client, 'getWork', { workId });

  /** The standard agreement with m2 drafted as work for hire. */
  async function activeWithAssignment(): Promise<void> {
    const request = draftRequest(driver.ledger);
    const milestones = request.milestones as Record<string, unknown>[];
    milestones[1] = { ...milestones[1], ipAssignment: 'client' };
    await driver.active(request);
  }

  beforeEach(async () => {
    driver = new AgreementDriver();
    await activeWithAssignment();
    await registerWork(freelancer, 'W-1', modelHash);
  });

  it('records the assignment on the milestone and defaults to none', async () => {
    const view = await driver.getAgreement();
    const byId = Object.fromEntries(view.milestones.map((milestone) => [milestone.milestoneId, milestone]));
    expect(byId.m2?.ipAssignment).toBe('client');
    expect(byId.m1?.ipAssignment).toBeUndefined();
  });

  it('moves the delivered work to the client in the transaction that records the payment', async () => {
    await driver.funded('m2');
    const submitted = await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    expect(submitted.submissions.at(-1)?.workId).toBe('W-1');
    expect((await getWork()).pledge).toEqual({
      agreementId,
      milestoneId: 'm2',
      txId: submitted.updatedTxId,
    });
    // Until payment the freelancer owns it, and cannot give it away meanwhile.
    await expect(
      callIp(freelancer, 'proposeOwnershipChange', {
        requestId: 'give-away-1',
        workId: 'W-1',
        changeId: 'C1',
        owners: [{ party: { mspId: 'TalentOrgMSP', userId: 'tom' }, shareBps: 10_000 }],
      }),
    ).rejects.toThrow(/^INVALID_STATE\[workId\]: work W-1 is delivered under milestone m2 of agreement A-17/);

    await driver.acceptMilestone('m2');
    const released = await driver.release('m2');
    expect((await getWork()).owners).toEqual([{ party: freelancerParty, shareBps: 10_000 }]);
    const paid = await driver.confirm('m2', released.instructions.at(-1)!.instructionId, 'paid', settlement);
    expect(paid.status).toBe('paid');
    const payingTx = driver.ledger.transactions.at(-1)!;
    expect(payingTx.writes).toContain(workKey('W-1'));

    const work = await getWork();
    expect(work.owners).toEqual([{ party: clientParty, shareBps: 10_000 }]);
    expect(work.pledge).toBeUndefined();
    expect(work.assignment).toEqual({
      agreementId,
      milestoneId: 'm2',
      txId: payingTx.txId,
      at: paid.updatedAt,
      from: [{ party: freelancerParty, shareBps: 10_000 }],
    });
    expect(work.ownershipVersion).toBe(2);
    expect(policyOrganisations(driver.ledger.committedValidationParameter(workKey('W-1'))!)).toEqual(['ClientOrgMSP']);
    const clientsWorks = await callIp<{ items: WorkRecord[] }>(client, 'listWorksByOwner', { owner: clientParty });
    expect(clientsWorks.items.map((owned) => owned.workId)).toEqual(['W-1']);
  });

  it('leaves the work with the freelancer when the payment fails', async () => {
    await driver.funded('m2');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    await driver.acceptMilestone('m2');
    const released = await driver.release('m2');
    await driver.confirm('m2', released.instructions.at(-1)!.instructionId, 'failed', settlement);
    expect((await getWork()).owners).toEqual([{ party: freelancerParty, shareBps: 10_000 }]);
  });

  it('releases the work to the freelancer when a dispute split settles the milestone instead of a payment', async () => {
    await driver.funded('m2');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    await driver.reject('m2');
    await driver.dispute('m2');
    await driver.vote('m2', arbitratorA, '20000', '30000');
    const decided = await driver.vote('m2', arbitratorB, '20000', '30000');
    expect(decided.status).toBe('resolved');
    for (const instruction of decided.instructions.filter((candidate) => candidate.status === 'pending')) {
      await driver.confirm('m2', instruction.instructionId, 'paid', settlement);
    }
    const work = await getWork();
    expect(work.pledge).toBeUndefined();
    expect(work.owners).toEqual([{ party: freelancerParty, shareBps: 10_000 }]);
    expect(work.assignment).toBeUndefined();
  });

  it('keeps a pledged work from being licensed until its milestone ends, so the client receives it unencumbered', async () => {
    const licensing = new LicensingContract();
    const terms = { text: 'Exclusive commercial licence.', salt: 'd'.repeat(32) };
    const offerLicence = () =>
      driver.ledger.transact(
        freelancer,
        licensing,
        'offerLicence',
        {
          requestId: 'offer-pledged-1',
          ...licenceOfferFields('L-pledged', 'W-1', {
            licensee: clientParty,
            fieldsOfUse: ['any'],
            territories: ['WORLD'],
            exclusive: true,
            termEnd: '2030-01-01T00:00:00.000Z',
          }),
        },
        { terms },
      );
    await driver.funded('m2');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    await expect(offerLicence()).rejects.toThrow(/^INVALID_STATE\[workId\]: work W-1 is delivered for hire/);
  });

  it('needs a work on a work-for-hire delivery and refuses one elsewhere', async () => {
    await driver.funded('m1');
    await driver.funded('m2');
    await driver.expectRefusal(
      () => driver.submit('m2', modelHash),
      /^VALIDATION_FAILED\[workId\]: workId: milestone m2 of agreement A-17 assigns its deliverable's IP to the client/,
    );
    await driver.expectRefusal(
      () => driver.submit('m1', modelHash, freelancer, { workId: 'W-1' }),
      /^VALIDATION_FAILED\[workId\]: workId: milestone m1 of agreement A-17 does not assign its deliverable's IP/,
    );
    await driver.expectRefusal(
      () => driver.submit('m2', modelHash, freelancer, { workId: 'W-404' }),
      'NOT_FOUND[workId]: work W-404 is not registered',
    );
  });

  it('refuses a work the freelancer does not own in full', async () => {
    await registerWork(otherFreelancer, 'W-2', 'e'.repeat(64));
    await registerWork(freelancer, 'W-3', 'f'.repeat(64), [
      { party: freelancerParty, shareBps: 9000 },
      { party: { mspId: 'TalentOrgMSP', userId: 'tom' }, shareBps: 1000 },
    ]);
    await driver.funded('m2');
    await driver.expectRefusal(
      () => driver.submit('m2', modelHash, freelancer, { workId: 'W-2' }),
      /^FORBIDDEN: work W-2 is owned by TalentOrgMSP\/tom \(10000 bps\); only a work the freelancer TalentOrgMSP\/tara owns in full/,
    );
    await driver.expectRefusal(
      () => driver.submit('m2', modelHash, freelancer, { workId: 'W-3' }),
      /^FORBIDDEN: work W-3 is owned by TalentOrgMSP\/tara \(9000 bps\), TalentOrgMSP\/tom \(1000 bps\)/,
    );
  });

  it('releases the pledge of a rejected delivery when a revision names another work', async () => {
    await registerWork(freelancer, 'W-2', 'e'.repeat(64));
    await driver.funded('m2');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    await driver.reject('m2');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-2' });
    expect((await getWork('W-1')).pledge).toBeUndefined();
    expect((await getWork('W-2')).pledge?.milestoneId).toBe('m2');
    const change = await callIp<OwnershipChangeView>(freelancer, 'proposeOwnershipChange', {
      requestId: 'after-release-1',
      workId: 'W-1',
      changeId: 'C1',
      owners: [{ party: { mspId: 'TalentOrgMSP', userId: 'tom' }, shareBps: 10_000 }],
    });
    expect(change.change.status).toBe('applied');
  });

  it('refuses a work already pledged to another milestone', async () => {
    const request = draftRequest(driver.ledger, { requestId: 'draft-0002', agreementId: 'A-18' });
    const milestones = request.milestones as Record<string, unknown>[];
    milestones[1] = { ...milestones[1], ipAssignment: 'client' };
    await driver.draft(request);
    await driver.accept(freelancer, undefined, 'A-18');
    await driver.funded('m2');
    await driver.funded('m2', 'A-18');
    await driver.submit('m2', modelHash, freelancer, { workId: 'W-1' });
    await driver.expectRefusal(
      () => driver.submit('m2', modelHash, freelancer, { workId: 'W-1' }, 'A-18'),
      'INVALID_STATE[workId]: work W-1 is already delivered under milestone m2 of agreement A-17',
    );
  });
});
