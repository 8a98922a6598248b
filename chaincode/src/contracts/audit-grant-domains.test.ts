import type { AuditRecordKind } from '../model/audit';
import { AgreementDriver, auditor, client, freelancer, otherFreelancer } from '../test-support/agreement-fixtures';
import { datasetRegistration, licenceOfferFields, workRegistration } from '../test-support/domain-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { IpContract } from './ip-contract';
import { LicensingContract } from './licensing-contract';
import { ProvenanceContract } from './provenance-contract';
import { ReputationContract } from './reputation-contract';
import { GovernanceContract } from './governance-contract';

const clientAdmin = testIdentity('ClientOrgMSP', 'ops', 'admin');
const talentAdmin = testIdentity('TalentOrgMSP', 'talent-ops', 'admin');
const auditAdmin = testIdentity('AuditOrgMSP', 'audit-ops', 'admin');
const hour = 3600;
const tara = { mspId: 'TalentOrgMSP', userId: 'tara' };
const tom = { mspId: 'TalentOrgMSP', userId: 'tom' };
const carol = { mspId: 'ClientOrgMSP', userId: 'carol' };

/**
 * The audit-grant rule for the domains beyond agreements and credentials: one record of
 * each kind, read by an auditor under every way a grant can fail to cover it, then under
 * one that does.
 */
describe('audit grants across domains', () => {
  let driver: AgreementDriver;
  let grants = 0;
  const ip = new IpContract();
  const licensing = new LicensingContract();
  const provenance = new ProvenanceContract();

  const invoke = <Result>(contract: object, as: TestIdentity, name: string, request?: unknown): Promise<Result> =>
    driver.ledger.transact(as, contract, name, request);
  const at = (seconds: number) => new Date((driver.ledger.nowSeconds + seconds) * 1000).toISOString();
  const grant = async (
    by: TestIdentity,
    kinds: readonly AuditRecordKind[],
    bounds: { from?: string; to?: string; expiresAt?: string } = {},
  ): Promise<string> => {
    grants += 1;
    const grantId = `AG-${String(grants)}`;
    await invoke(driver.audit, by, 'grantAuditAccess', {
      grantId,
      auditor: { mspId: auditor.mspId, userId: 'audrey' },
      kinds,
      expiresAt: bounds.expiresAt ?? at(30 * 24 * hour),
      purpose: 'annual audit',
      ...(bounds.from === undefined ? {} : { from: bounds.from }),
      ...(bounds.to === undefined ? {} : { to: bounds.to }),
    });
    return grantId;
  };

  const registerWork = (workId: string, owners: { party: typeof tara; shareBps: number }[]) =>
    invoke(ip, freelancer, 'registerWork', { requestId: `register-${workId}`, ...workRegistration(workId, owners) });

  const registerDataset = () =>
    invoke(provenance, freelancer, 'registerDataset', { requestId: 'dataset-1', ...datasetRegistration('DS-1') });

  beforeEach(async () => {
    driver = new AgreementDriver();
    grants = 0;
    await driver.setParameters();
  });

  /**
   * Each domain's record: how to create it (returns the organisation that may grant, and
   * the kind), and the auditor's read of it. A list whose records concern different
   * organisations leaves out what no grant covers; one whose records all concern the same
   * organisations as the record (`listRefused`) is refused as the record is. `refusal` is
   * how the record's read is refused: as for an id naming nothing, or, for a dataset every
   * member may see, NO_AUDIT_GRANT naming the kind and the organisations.
   */
  const domains: {
    name: string;
    kind: AuditRecordKind;
    grantor: TestIdentity;
    setUp: () => Promise<void>;
    read: () => Promise<unknown>;
    list: () => Promise<unknown[]>;
    listRefused?: true;
    refusal: RegExp;
  }[] = [
    {
      name: 'an IP ownership change',
      kind: 'ip',
      grantor: talentAdmin,
      setUp: async () => {
        await registerWork('W-1', [{ party: tara, shareBps: 10_000 }]);
        await invoke(ip, freelancer, 'proposeOwnershipChange', {
          requestId: 'req-propose-1',
          workId: 'W-1',
          changeId: 'C1',
          owners: [
            { party: tara, shareBps: 5_000 },
            { party: tom, shareBps: 5_000 },
          ],
        });
      },
      read: () => invoke(ip, auditor, 'getOwnershipChange', { workId: 'W-1', changeId: 'C1' }),
      list: async () =>
        (await invoke<{ items: unknown[] }>(ip, auditor, 'listOwnershipChanges', { workId: 'W-1' })).items,
      refusal: /^NOT_FOUND\[changeId\]: work W-1 has no ownership change C1$/,
    },
    {
      name: 'a licence grant',
      kind: 'licensing',
      grantor: clientAdmin,
      setUp: async () => {
        await registerWork('W-1', [{ party: tara, shareBps: 10_000 }]);
        const terms = { text: 'non-exclusive, fraud detection only', salt: 'b'.repeat(32) };
        await driver.ledger.transact(
          freelancer,
          licensing,
          'offerLicence',
          { requestId: 'req-offer-1', ...licenceOfferFields('L-1', 'W-1', { licensee: carol }) },
          { terms },
        );
        const offer = await invoke<{ termsSha256: string }>(licensing, freelancer, 'getOffer', { offerId: 'L-1' });
        await invoke(licensing, client, 'acceptOffer', {
          requestId: 'req-accept-1',
          offerId: 'L-1',
          grantId: 'G-1',
          termsSha256: offer.termsSha256,
        });
      },
      read: () => invoke(licensing, auditor, 'getGrant', { grantId: 'G-1' }),
      list: async () => {
        const listed = await invoke<{ offers: unknown[]; grants: unknown[] }>(licensing, auditor, 'listWorkLicences', {
          workId: 'W-1',
        });
        return [...listed.offers, ...listed.grants];
      },
      refusal: /^NOT_FOUND\[grantId\]: licence grant G-1 does not exist$/,
    },
    {
      name: "a dataset's access log",
      kind: 'provenance',
      grantor: talentAdmin,
      setUp: async () => {
        await registerDataset();
        await invoke(provenance, freelancer, 'grantAccess', {
          requestId: 'req-access-1',
          grantId: 'G-1',
          datasetId: 'DS-1',
          grantee: carol,
          purpose: 'model training',
          scope: ['read'],
          expiresAt: at(90 * 24 * hour),
        });
      },
      read: () => invoke(provenance, auditor, 'listAccessLog', { datasetId: 'DS-1' }),
      list: async () =>
        (await invoke<{ items: unknown[] }>(provenance, auditor, 'listAccessGrants', { datasetId: 'DS-1' })).items,
      listRefused: true,
      refusal: /^NO_AUDIT_GRANT: .* read provenance records of /,
    },
  ];

  describe.each(domains)('$name', ({ kind, grantor, setUp, read, list, listRefused, refusal }) => {
    let recordTime: string;

    beforeEach(async () => {
      recordTime = at(0);
      await setUp();
      driver.ledger.advanceSeconds(hour);
    });

    const refused = async () => {
      await expect(read()).rejects.toThrow(refusal);
      if (listRefused === true) await expect(list()).rejects.toThrow(refusal);
      else expect(await list()).toEqual([]);
    };

    it('is refused without a grant', async () => {
      await refused();
    });

    it('is refused under a grant naming other kinds', async () => {
      await grant(grantor, kind === 'ip' ? ['agreement', 'licensing'] : ['agreement', 'ip']);
      await refused();
    });

    it('is refused under a grant from an organisation the record does not concern', async () => {
      await grant(auditAdmin, [kind]);
      await refused();
    });

    it('is refused once the grant has expired', async () => {
      await grant(grantor, [kind], { expiresAt: at(hour) });
      await expect(read()).resolves.toBeDefined();
      driver.ledger.advanceSeconds(2 * hour);
      await refused();
    });

    it("is refused when the record's time is outside the grant's range", async () => {
      await grant(grantor, [kind], { to: recordTime });
      await grant(grantor, [kind], { from: new Date(Date.parse(recordTime) + 1).toISOString() });
      await refused();
    });

    it('is refused once the grant is revoked', async () => {
      const grantId = await grant(grantor, [kind]);
      await invoke(driver.audit, grantor, 'revokeAuditAccess', { grantId, reason: 'audit closed' });
      await refused();
    });

    it('is read under a live grant from an organisation it concerns, naming its kind, with its time in range', async () => {
      await grant(grantor, [kind], { from: recordTime, to: at(hour) });
      await expect(read()).resolves.toBeDefined();
      expect((await list()).length).toBeGreaterThan(0);
    });
  });

  describe('consortium-public records', () => {
    it('lets an auditor without any grant read works, provenance records and lineage, reputation and proposals', async () => {
      await registerWork('W-1', [{ party: tara, shareBps: 10_000 }]);
      await registerDataset();
      expect(await invoke(ip, auditor, 'getWork', { workId: 'W-1' })).toMatchObject({ workId: 'W-1' });
      expect(await invoke(provenance, auditor, 'getRecord', { recordId: 'DS-1' })).toMatchObject({ recordId: 'DS-1' });
      expect(
        await invoke(provenance, auditor, 'getLineage', { recordId: 'DS-1', direction: 'ancestors' }),
      ).toBeDefined();
      expect(await invoke(new ReputationContract(), auditor, 'listCompletions', otherFreelancerParty)).toEqual({
        items: [],
        bookmark: '',
      });
      expect(await invoke(new GovernanceContract(), auditor, 'listProposals', {})).toEqual({ items: [], bookmark: '' });
    });
  });
});

const otherFreelancerParty = { mspId: otherFreelancer.mspId, userId: 'tom' };
