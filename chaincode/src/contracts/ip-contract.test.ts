import { policyOrganisations } from '../ledger/endorsement';
import { ipCommandRoles } from '../model/access-roles';
import { roles } from '../model/identity';
import { ipEvents, type OwnershipChangeView, type WorkRecord } from '../model/ip';
import { InMemoryLedger, testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { AuditContract } from './audit-contract';
import { IpContract } from './ip-contract';
import { ParameterContract } from './parameter-contract';

const alice = testIdentity('TalentOrgMSP', 'alice', 'freelancer');
const bob = testIdentity('ClientOrgMSP', 'bob', 'client');
const carol = testIdentity('ClientOrgMSP', 'carol', 'client');
const dave = testIdentity('AuditOrgMSP', 'dave', 'freelancer');
const auditor = testIdentity('AuditOrgMSP', 'audrey', 'auditor');
const aliceParty = { mspId: 'TalentOrgMSP', userId: 'alice' };
const bobParty = { mspId: 'ClientOrgMSP', userId: 'bob' };
const carolParty = { mspId: 'ClientOrgMSP', userId: 'carol' };
const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);

const workKey = (workId: string): string => `\u0000ipWork\u0000${workId}\u0000`;

describe('IpContract', () => {
  let ledger: InMemoryLedger;
  const contract = new IpContract();
  let requests = 0;

  const call = <Result>(as: TestIdentity, name: string, request: unknown): Promise<Result> =>
    ledger.transact(as, contract, name, request);

  const register = (as: TestIdentity, overrides: Record<string, unknown> = {}) => {
    requests += 1;
    return call<WorkRecord>(as, 'registerWork', {
      requestId: `register-${requests}`,
      workId: 'W-1',
      kind: 'model',
      contentHash: hashA,
      title: 'Churn model v3',
      uri: 'https://models.example.com/churn-v3',
      creators: [aliceParty],
      ...overrides,
    });
  };
  const propose = (as: TestIdentity, owners: unknown, overrides: Record<string, unknown> = {}) => {
    requests += 1;
    return call<OwnershipChangeView>(as, 'proposeOwnershipChange', {
      requestId: `propose-${requests}`,
      workId: 'W-1',
      changeId: 'C1',
      owners,
      ...overrides,
    });
  };
  const approve = (as: TestIdentity, changeId = 'C1') =>
    call<OwnershipChangeView>(as, 'approveOwnershipChange', { workId: 'W-1', changeId });
  const getWork = (workId = 'W-1') => call<WorkRecord>(dave, 'getWork', { workId });

  const coOwned = [
    { party: aliceParty, shareBps: 6000 },
    { party: bobParty, shareBps: 4000 },
  ];

  beforeEach(() => {
    ledger = new InMemoryLedger();
    requests = 0;
  });

  describe('registerWork', () => {
    it('registers the registrant as sole owner with the transaction time as priority date', async () => {
      const work = await register(alice);
      expect(work).toMatchObject({
        workId: 'W-1',
        owners: [{ party: aliceParty, shareBps: 10_000 }],
        registeredAt: new Date(ledger.nowSeconds * 1000).toISOString(),
        registrationTxId: ledger.transactions.at(-1)?.txId,
        ownershipVersion: 1,
      });
      expect(ledger.lastEvent?.name).toBe(ipEvents.workRegistered.name);
      expect(policyOrganisations(ledger.committedValidationParameter(workKey('W-1'))!)).toEqual(['TalentOrgMSP']);
      await expect(getWork()).resolves.toEqual(work);
    });

    it('records co-owners and requires every owner organisation to endorse changes', async () => {
      await register(alice, { owners: coOwned });
      expect(policyOrganisations(ledger.committedValidationParameter(workKey('W-1'))!)).toEqual([
        'ClientOrgMSP',
        'TalentOrgMSP',
      ]);
      const listed = await call<{ items: WorkRecord[] }>(dave, 'listWorksByOwner', { owner: bobParty });
      expect(listed.items.map((work) => work.workId)).toEqual(['W-1']);
    });

    it('refuses a second registration of the same content hash, naming the first', async () => {
      const first = await register(alice);
      ledger.advanceSeconds(60);
      await expect(register(bob, { workId: 'W-2', creators: [bobParty] })).rejects.toThrow(
        `ALREADY_REGISTERED[contentHash]: content hash ${hashA} is already registered as work W-1, owned by TalentOrgMSP/alice (10000 bps), in transaction ${first.registrationTxId} at ${first.registeredAt}`,
      );
      const found = await call<WorkRecord>(bob, 'findWorkByContentHash', { contentHash: hashA });
      expect(found.owners[0]?.party).toEqual(aliceParty);
    });

    it('refuses a taken work id', async () => {
      await register(alice);
      await expect(register(alice, { contentHash: hashB })).rejects.toThrow(/^ALREADY_EXISTS\[workId\]/);
    });

    it.each([
      {
        what: 'whose shares do not sum to 10 000, naming the field',
        owners: [
          { party: aliceParty, shareBps: 6000 },
          { party: bobParty, shareBps: 3000 },
        ],
        refusal: 'VALIDATION_FAILED[owners]: owners: shares must sum to 10000 basis points, not 9000',
      },
      {
        what: 'that name one owner twice, naming the later entry',
        owners: [
          { party: aliceParty, shareBps: 5000 },
          { party: aliceParty, shareBps: 5000 },
        ],
        refusal: 'VALIDATION_FAILED[owners.1.party]: owners.1.party: names the same owner as entry 0',
      },
      {
        what: 'that leave out the registrant',
        owners: [{ party: bobParty, shareBps: 10_000 }],
        refusal: /^VALIDATION_FAILED\[owners\]: owners: must include the registrant TalentOrgMSP\/alice/,
      },
    ])('refuses owners $what', async ({ owners, refusal }) => {
      await expect(register(alice, { owners })).rejects.toThrow(refusal);
    });

    it('refuses a hash that is not 64 lowercase hex characters', async () => {
      await expect(register(alice, { contentHash: 'A'.repeat(64) })).rejects.toThrow(
        'VALIDATION_FAILED[contentHash]: contentHash: must be 64 lowercase hex characters (SHA-256)',
      );
    });

    it('answers a repeated request id with the first result and refuses it for another request', async () => {
      const request = {
        requestId: 'same-request',
        workId: 'W-9',
        kind: 'code',
        contentHash: hashB,
        title: 'Tokenizer',
        uri: 'https://git.example.com/tok',
        creators: [aliceParty],
      };
      const first = await call<WorkRecord>(alice, 'registerWork', request);
      expect(await call<WorkRecord>(alice, 'registerWork', request)).toEqual(first);
      await expect(call(alice, 'registerWork', { ...request, workId: 'W-10', contentHash: hashA })).rejects.toThrow(
        /^REQUEST_ID_REUSED/,
      );
    });

    it.each(roles.filter((role) => !ipCommandRoles.registerWork.includes(role as 'client')))(
      'refuses role %s',
      async (role) => {
        await expect(register(testIdentity('TalentOrgMSP', 'alice', role))).rejects.toThrow(
          /^FORBIDDEN: only client or freelancer may register a work/,
        );
      },
    );

    it('refuses a certificate without userId', async () => {
      await expect(
        register({ mspId: 'TalentOrgMSP', name: 'anon', attributes: { role: 'freelancer' } }),
      ).rejects.toThrow(/^IDENTITY_INCOMPLETE/);
    });

    it('answers NOT_FOUND for an unknown work or hash', async () => {
      await expect(getWork('W-404')).rejects.toThrow('NOT_FOUND[workId]: work W-404 is not registered');
      await expect(call(dave, 'findWorkByContentHash', { contentHash: hashB })).rejects.toThrow(
        /^NOT_FOUND\[contentHash\]/,
      );
    });
  });

  describe('ownership changes', () => {
    it('applies a sole owner’s transfer at once and moves the endorsement policy and index', async () => {
      await register(alice);
      const view = await propose(alice, [{ party: bobParty, shareBps: 10_000 }]);
      expect(view.change.status).toBe('applied');
      expect(view.work.owners).toEqual([{ party: bobParty, shareBps: 10_000 }]);
      expect(view.work.ownershipVersion).toBe(2);
      expect(policyOrganisations(ledger.committedValidationParameter(workKey('W-1'))!)).toEqual(['ClientOrgMSP']);
      await expect(call(dave, 'getWorkEndorsement', { workId: 'W-1' })).resolves.toEqual({
        workId: 'W-1',
        organisations: ['ClientOrgMSP'],
      });
      expect(await call(dave, 'listWorksByOwner', { owner: aliceParty })).toEqual({ items: [], bookmark: '' });
      expect((await call<{ items: WorkRecord[] }>(dave, 'listWorksByOwner', { owner: bobParty })).items).toHaveLength(
        1,
      );
    });

    it('needs every co-owner’s approval: one is not enough, the last one applies it', async () => {
      await register(alice, { owners: coOwned });
      const proposed = await propose(alice, [
        { party: aliceParty, shareBps: 5000 },
        { party: carolParty, shareBps: 5000 },
      ]);
      expect(proposed.change.status).toBe('open');
      expect(proposed.awaiting).toEqual([bobParty]);
      expect(ledger.lastEvent?.name).toBe(ipEvents.ownershipChangeProposed.name);
      expect((await getWork()).owners).toEqual(coOwned);

      const applied = await approve(bob);
      expect(applied.change.status).toBe('applied');
      expect(applied.awaiting).toEqual([]);
      expect(ledger.lastEvent?.name).toBe(ipEvents.ownershipChangeApproved.name);
      const work = await getWork();
      expect(work.owners).toEqual([
        { party: aliceParty, shareBps: 5000 },
        { party: carolParty, shareBps: 5000 },
      ]);
      expect(work.ownershipVersion).toBe(2);
      expect(policyOrganisations(ledger.committedValidationParameter(workKey('W-1'))!)).toEqual([
        'ClientOrgMSP',
        'TalentOrgMSP',
      ]);
    });

    it('refuses a proposal or approval by someone who is not an owner', async () => {
      await register(alice, { owners: coOwned });
      await expect(propose(carol, [{ party: carolParty, shareBps: 10_000 }])).rejects.toThrow(
        /^FORBIDDEN: only an owner of work W-1 may propose a change of its owners/,
      );
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      // The change names neither carol nor anyone she may read for: answered as for a
      // missing change, never naming whom it was proposed to.
      await expect(approve(carol)).rejects.toThrow('NOT_FOUND[changeId]: work W-1 has no ownership change C1');
    });

    it('answers someone the change does not name exactly as for a change that does not exist', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      const before = ledger.transactions.length;
      const asks: ((changeId: string) => Promise<unknown>)[] = [
        (changeId) => approve(carol, changeId),
        (changeId) => call(carol, 'declineOwnershipChange', { workId: 'W-1', changeId, reason: 'probe' }),
        (changeId) => call(carol, 'withdrawOwnershipChange', { workId: 'W-1', changeId }),
        (changeId) => call(carol, 'getOwnershipChange', { workId: 'W-1', changeId }),
      ];
      const refusalOf = (answer: Promise<unknown>) =>
        answer.then(
          () => 'answered',
          (error: unknown) => (error as Error).message,
        );
      for (const ask of asks) {
        expect(await refusalOf(ask('C404'))).toBe('NOT_FOUND[changeId]: work W-1 has no ownership change C404');
        expect(await refusalOf(ask('C1'))).toBe('NOT_FOUND[changeId]: work W-1 has no ownership change C1');
      }
      expect(ledger.transactions.length).toBe(before);
    });

    it('refuses a second approval by the same owner', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      await expect(approve(alice)).rejects.toThrow(
        /^ALREADY_APPROVED\[changeId\]: TalentOrgMSP\/alice already approved/,
      );
    });

    it('refuses approving a stale change once another one changed the owners', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }], { changeId: 'C1' });
      await propose(bob, [{ party: bobParty, shareBps: 10_000 }], { changeId: 'C2' });
      expect((await approve(bob, 'C1')).change.status).toBe('applied');
      const c2 = await call<OwnershipChangeView>(alice, 'getOwnershipChange', { workId: 'W-1', changeId: 'C2' });
      expect(c2.stale).toBe(true);
      await expect(approve(alice, 'C2')).rejects.toThrow(/^OWNERSHIP_CHANGE_STALE\[changeId\]/);
      expect((await getWork()).owners).toEqual([{ party: aliceParty, shareBps: 10_000 }]);
    });

    it('refuses shares not summing to 10 000 and a change to the same owners', async () => {
      await register(alice, { owners: coOwned });
      await expect(propose(alice, [{ party: aliceParty, shareBps: 9999 }])).rejects.toThrow(
        'VALIDATION_FAILED[owners]: owners: shares must sum to 10000 basis points, not 9999',
      );
      await expect(propose(alice, [...coOwned].reverse())).rejects.toThrow(
        /^VALIDATION_FAILED\[owners\]: owners: are the work/,
      );
      await expect(
        propose(alice, [
          { party: bobParty, shareBps: 5000 },
          { party: bobParty, shareBps: 5000 },
        ]),
      ).rejects.toThrow(/^VALIDATION_FAILED\[owners.1.party\]/);
    });

    it('lets a co-owner decline and the proposer withdraw; neither can then be approved', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }], { changeId: 'C1' });
      await expect(
        call(alice, 'declineOwnershipChange', { workId: 'W-1', changeId: 'C1', reason: 'mine' }),
      ).rejects.toThrow(/^FORBIDDEN: the proposer of ownership change C1 withdraws it/);
      const declined = await call<OwnershipChangeView>(bob, 'declineOwnershipChange', {
        workId: 'W-1',
        changeId: 'C1',
        reason: 'not agreed',
      });
      expect(declined.change).toMatchObject({ status: 'declined', decision: { by: bobParty, reason: 'not agreed' } });
      await expect(approve(bob)).rejects.toThrow(
        'INVALID_STATE[changeId]: ownership change C1 of work W-1 is declined, not open',
      );

      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }], { changeId: 'C2' });
      await expect(call(bob, 'withdrawOwnershipChange', { workId: 'W-1', changeId: 'C2' })).rejects.toThrow(
        /^FORBIDDEN: only the proposer TalentOrgMSP\/alice may withdraw/,
      );
      const withdrawn = await call<OwnershipChangeView>(alice, 'withdrawOwnershipChange', {
        workId: 'W-1',
        changeId: 'C2',
      });
      expect(withdrawn.change.status).toBe('withdrawn');
      expect(ledger.lastEvent?.name).toBe(ipEvents.ownershipChangeWithdrawn.name);
      await expect(approve(bob, 'C2')).rejects.toThrow(/^INVALID_STATE\[changeId\]: .* is withdrawn, not open/);
      await expect(call(alice, 'withdrawOwnershipChange', { workId: 'W-1', changeId: 'C2' })).rejects.toThrow(
        /^INVALID_STATE/,
      );
      expect((await getWork()).owners).toEqual(coOwned);
    });

    it('refuses a taken change id and changes of unknown works or changes', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      await expect(propose(bob, [{ party: bobParty, shareBps: 10_000 }])).rejects.toThrow(
        /^ALREADY_EXISTS\[changeId\]/,
      );
      await expect(propose(alice, [{ party: bobParty, shareBps: 10_000 }], { workId: 'W-404' })).rejects.toThrow(
        /^NOT_FOUND\[workId\]/,
      );
      await expect(approve(bob, 'C404')).rejects.toThrow('NOT_FOUND[changeId]: work W-1 has no ownership change C404');
    });

    it('reads an auditor’s grants before refusing a missing change, as before refusing a present one', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      /** The key ranges a refused read iterated: what a refusal costs beyond point reads. */
      const rangesRead = (changeId: string) =>
        ledger.invoke(auditor, async (ctx) => {
          await contract.getOwnershipChange(ctx, JSON.stringify({ workId: 'W-1', changeId })).then(
            () => {
              expect('answered').toBe('refused');
            },
            (error: unknown) => {
              expect((error as Error).message).toMatch(/^NOT_FOUND\[changeId\]/);
            },
          );
          return (ctx.stub as unknown as { rangeReads: { start: string }[] }).rangeReads.map((range) => range.start);
        });
      const onMissing = await rangesRead('C404');
      expect(onMissing).toEqual(expect.arrayContaining([expect.stringContaining('auditGrantByAuditor')]));
      expect(await rangesRead('C1')).toEqual(onMissing);
    });

    it('shows a change to its owners and auditors only', async () => {
      await register(alice, { owners: coOwned });
      await propose(alice, [{ party: aliceParty, shareBps: 10_000 }]);
      const ref = { workId: 'W-1', changeId: 'C1' };
      await expect(call(bob, 'getOwnershipChange', ref)).resolves.toMatchObject({ awaiting: [bobParty] });
      // Without an audit grant, as for a change that does not exist.
      await expect(call(auditor, 'getOwnershipChange', ref)).rejects.toThrow(
        /^NOT_FOUND\[changeId\]: work W-1 has no ownership change C1$/,
      );
      const clientOps = testIdentity('ClientOrgMSP', 'ops', 'admin');
      await ledger.invoke(clientOps, (ctx) =>
        new ParameterContract().setParameter(ctx, JSON.stringify({ name: 'auditGrantMaxSeconds', value: 31_622_400 })),
      );
      await ledger.invoke(clientOps, (ctx) =>
        new AuditContract().grantAuditAccess(
          ctx,
          JSON.stringify({
            grantId: 'AG-1',
            auditor: { mspId: 'AuditOrgMSP' },
            kinds: ['ip'],
            expiresAt: new Date((ledger.nowSeconds + 86_400) * 1000).toISOString(),
            purpose: 'ownership audit',
          }),
        ),
      );
      await expect(call(auditor, 'getOwnershipChange', ref)).resolves.toMatchObject({ stale: false });
      await expect(call(dave, 'getOwnershipChange', ref)).rejects.toThrow(/^NOT_FOUND\[changeId\]/);
      expect(await call(dave, 'listOwnershipChanges', { workId: 'W-1' })).toEqual({ items: [], bookmark: '' });
      expect((await call<{ items: unknown[] }>(bob, 'listOwnershipChanges', { workId: 'W-1' })).items).toHaveLength(1);
      // An admin reads the changes naming a person of its organisation, not every change.
      await expect(call(clientOps, 'getOwnershipChange', ref)).resolves.toMatchObject({ stale: false });
      const auditOps = testIdentity('AuditOrgMSP', 'aops', 'admin');
      await expect(call(auditOps, 'getOwnershipChange', ref)).rejects.toThrow(
        /^NOT_FOUND\[changeId\]: work W-1 has no ownership change C1$/,
      );
      expect(await call(auditOps, 'listOwnershipChanges', { workId: 'W-1' })).toEqual({ items: [], bookmark: '' });
    });

    it.each(['auditor', 'hr', 'admin', 'settlement'])('refuses role %s', async (role) => {
      await register(alice);
      await expect(
        propose(testIdentity('TalentOrgMSP', 'alice', role), [{ party: bobParty, shareBps: 10_000 }]),
      ).rejects.toThrow(/^FORBIDDEN: only client or freelancer may propose/);
    });
  });
});
