import { parseRefusal } from '../model/errors';
import type { Party } from '../model/party';
import { AgreementDriver, admin, draftRequest, freelancer, freelancerParty } from '../test-support/agreement-fixtures';
import { CredentialDriver, registrarParty } from '../test-support/credential-fixtures';
import { datasetRegistration, licenceOfferFields, workRegistration } from '../test-support/domain-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { IpContract } from './ip-contract';
import { LicensingContract } from './licensing-contract';
import { ProvenanceContract } from './provenance-contract';

/**
 * Every role a request names another party in is refused, under that party's field, when
 * the party's organisation is no member of the consortium: nobody of it could ever act
 * on the record. The agreement's freelancer is checked against the terms collection in
 * the agreement's own tests, the audit grant's auditor in the audit contract's.
 */
const ghost: Party = { mspId: 'GhostOrgMSP', userId: 'gus' };
const members = ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'];
const governor = testIdentity('ClientOrgMSP', 'gov-clara', 'governor');
const talentOwner = { party: freelancerParty, shareBps: 10_000 };

describe('parties of organisations outside the consortium', () => {
  let driver: AgreementDriver;
  const ip = new IpContract();
  const licensing = new LicensingContract();
  const provenance = new ProvenanceContract();
  const transact = (
    as: TestIdentity,
    contract: IpContract | LicensingContract | ProvenanceContract,
    name: string,
    request: Record<string, unknown>,
    transient?: Record<string, unknown>,
  ) => driver.ledger.transact(as, contract, name, { requestId: driver.nextRequestId(), ...request }, transient);
  const registerWork = (workId: string, overrides: Record<string, unknown> = {}) =>
    transact(freelancer, ip, 'registerWork', workRegistration(workId, [talentOwner], overrides));
  const registerDataset = (recordId: string) =>
    transact(freelancer, provenance, 'registerDataset', datasetRegistration(recordId, { piiClass: 'personal' }), {
      subjectData: { contact: 'dpo@example.org', salt: 'a'.repeat(32) },
    });

  /** Proposals are taken once genesis is sealed. */
  const propose = async (action: Record<string, unknown>) => {
    await driver.ledger.transact(admin, driver.governance, 'sealGenesis');
    return driver.ledger.transact(governor, driver.governance, 'propose', {
      proposalId: 'P-1',
      title: 'A new rule',
      text: 'Why the consortium should do this.',
      actions: [action],
      votingSeconds: 7_200,
      timelockSeconds: 3_600,
    });
  };

  /** The refusal's code and field, or undefined when the call went through. */
  const refusalOf = async (call: () => Promise<unknown>) => {
    const error = await call().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof Error)) return undefined;
    const refusal = parseRefusal(error.message);
    if (refusal === undefined) return { unparsed: error.message };
    const { code, field, message } = refusal;
    return { code, field, names: message.includes('GhostOrgMSP is no member organisation of the consortium') };
  };

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.setParameters();
    await driver.applyGenesis(
      members.map((mspId) => ({ type: 'setMemberRights' as const, mspId, voting: true, veto: false })),
    );
  });

  it.each<[string, string, () => Promise<unknown>]>([
    [
      'an agreement’s evaluator',
      'evaluator.mspId',
      () => driver.draft(draftRequest(driver.ledger, { evaluator: ghost })),
    ],
    [
      'a credential’s subject',
      'subject.mspId',
      async () => {
        const credentials = new CredentialDriver(driver.ledger);
        await credentials.registerIssuer(registrarParty, ['Certification']);
        return credentials.issue(credentials.issueRequest({ subject: ghost }));
      },
    ],
    [
      'a work’s owner',
      'owners.1.party.mspId',
      () =>
        registerWork('W-owner', {
          owners: [
            { party: freelancerParty, shareBps: 5_000 },
            { party: ghost, shareBps: 5_000 },
          ],
        }),
    ],
    ['a work’s creator', 'creators.0.mspId', () => registerWork('W-creator', { creators: [ghost] })],
    [
      'an owner an ownership change proposes',
      'owners.0.party.mspId',
      async () => {
        await registerWork('W-change');
        return transact(freelancer, ip, 'proposeOwnershipChange', {
          workId: 'W-change',
          changeId: 'C1',
          owners: [
            { party: ghost, shareBps: 5_000 },
            { party: freelancerParty, shareBps: 5_000 },
          ],
        });
      },
    ],
    [
      'a licence offer’s licensee',
      'licensee.mspId',
      async () => {
        await registerWork('W-licence');
        return transact(
          freelancer,
          licensing,
          'offerLicence',
          licenceOfferFields('O-1', 'W-licence', { licensee: ghost }),
          {
            terms: { text: 'Evaluation only.', salt: 'c'.repeat(32) },
          },
        );
      },
    ],
    [
      'a dataset access grant’s grantee',
      'grantee.mspId',
      async () => {
        await registerDataset('DS-grant');
        return transact(freelancer, provenance, 'grantAccess', {
          grantId: 'G-1',
          datasetId: 'DS-grant',
          grantee: ghost,
          purpose: 'Evaluate the defect classifier',
          scope: ['read'],
          expiresAt: new Date((driver.ledger.nowSeconds + 86_400) * 1000).toISOString(),
        });
      },
    ],
    [
      'an erasure’s data subject',
      'dataSubject.mspId',
      async () => {
        await registerDataset('DS-erase');
        return transact(freelancer, provenance, 'requestErasure', {
          receiptId: 'ER-1',
          target: { kind: 'datasetSubjectData', datasetId: 'DS-erase' },
          dataSubject: ghost,
          ground: 'a',
        });
      },
    ],
    [
      'an issuer a proposal registers',
      'actions.0.issuer.mspId',
      () => propose({ type: 'registerIssuer', issuer: ghost, displayName: 'Ghost KYC', credentialTypes: ['KYC'] }),
    ],
    [
      'an arbitrator a proposal adds',
      'actions.0.arbitrator.mspId',
      () => propose({ type: 'addArbitrator', arbitrator: ghost, displayName: 'Gus' }),
    ],
  ])('refuses %s of an unknown organisation under %s', async (_role, field, call) => {
    expect(await refusalOf(call)).toEqual({ code: 'VALIDATION_FAILED', field, names: true });
  });

  it('lets the same parties through once their organisation is a member', async () => {
    await driver.applyGenesis([{ type: 'setMemberRights', mspId: 'GhostOrgMSP', voting: false, veto: true }]);
    expect(await refusalOf(() => driver.draft(draftRequest(driver.ledger, { evaluator: ghost })))).toBeUndefined();
    expect(await refusalOf(() => registerWork('W-creator', { creators: [ghost] }))).toBeUndefined();
  });

  it('does not count an organisation whose rights were taken away', async () => {
    await driver.applyGenesis([{ type: 'setMemberRights', mspId: 'GhostOrgMSP', voting: true, veto: false }]);
    await driver.applyGenesis([{ type: 'setMemberRights', mspId: 'GhostOrgMSP', voting: false, veto: false }]);
    expect(await refusalOf(() => driver.draft(draftRequest(driver.ledger, { evaluator: ghost })))).toMatchObject({
      field: 'evaluator.mspId',
    });
  });
});
