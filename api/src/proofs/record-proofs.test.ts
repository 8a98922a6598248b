import { provableKindNames, provableKinds, recordKeyOf, type ProvableKindName } from './record-proofs.js';

const write = (key: string, value: unknown) => ({
  namespace: 'gigledger',
  key,
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

describe('record proofs', () => {
  it('takes a milestone as <agreementId>/<milestoneId> and a payout as its instruction id, by the chaincode id rules', () => {
    expect(provableKinds.milestone.id.safeParse('A-1/m1').success).toBe(true);
    for (const bad of ['A-1', 'A-1/m1/x', '/m1', 'A 1/m1', 'A-1/']) {
      expect([bad, provableKinds.milestone.id.safeParse(bad).success]).toEqual([bad, false]);
    }
    for (const good of ['A-1/m1/fund-escrow-1', 'A-1/m1/release-2', 'A-1/m1/refund-10']) {
      expect([good, provableKinds.payout.id.safeParse(good).success]).toEqual([good, true]);
    }
    for (const bad of ['A-1/m1', 'A-1/m1/release', 'A-1/m1/release-0', 'A-1/m1/bonus-1', 'A-1/m1/release-1/x']) {
      expect([bad, provableKinds.payout.id.safeParse(bad).success]).toEqual([bad, false]);
    }
  });

  it('picks the write under the record’s own key, among writes of the same transaction whose values name its id', () => {
    const key = (objectType: string, ...attributes: string[]) =>
      `\u0000${objectType}\u0000${attributes.map((attribute) => `${attribute}\u0000`).join('')}`;
    // Each case: what one chaincode transaction writes, the record's own write last, after
    // index entries and related records that name the same id (the chaincode's key layouts).
    const cases: { kind: ProvableKindName; id: string; own: string; others: [string, unknown][] }[] = [
      {
        kind: 'work',
        id: 'W-1',
        own: key('ipWork', 'W-1'),
        others: [
          [key('ipOwnershipChange', 'W-1', 'C1'), { workId: 'W-1', changeId: 'C1' }],
          [key('ipWorkOwner', 'TalentOrgMSP', 'tara', 'W-1'), { workId: 'W-1' }],
          [key('ipWorkHash', 'ab'.repeat(32)), { workId: 'W-1' }],
        ],
      },
      {
        kind: 'agreement',
        id: 'A-1',
        own: key('agreement', 'A-1'),
        others: [
          [key('agreementParty', 'ClientOrgMSP', 'cara', 'client', 'A-1'), { agreementId: 'A-1' }],
          [key('milestone', 'A-1', 'm1'), { agreementId: 'A-1', milestoneId: 'm1' }],
        ],
      },
      {
        kind: 'milestone',
        id: 'A-1/m1',
        own: key('milestone', 'A-1', 'm1'),
        others: [
          [key('task', 'A-1', 'm1', 't1'), { agreementId: 'A-1', milestoneId: 'm1', taskId: 't1' }],
          [key('panelSeat', 'AuditOrgMSP', 'arb', 'A-1', 'm1'), { agreementId: 'A-1', milestoneId: 'm1' }],
        ],
      },
      {
        kind: 'payout',
        id: 'A-1/m1/release-1',
        own: key('milestone', 'A-1', 'm1'),
        others: [[key('task', 'A-1', 'm1', 't1'), { agreementId: 'A-1', milestoneId: 'm1', taskId: 't1' }]],
      },
      {
        kind: 'credential',
        id: 'C-1',
        own: key('credential', 'C-1'),
        others: [[key('credentialBySubject', 'TalentOrgMSP', 'tara', 'C-1'), { credentialId: 'C-1' }]],
      },
      {
        kind: 'proposal',
        id: 'P-1',
        own: key('proposal', 'P-1'),
        others: [[key('proposalVote', 'P-1', 'ClientOrgMSP'), { proposalId: 'P-1', mspId: 'ClientOrgMSP' }]],
      },
      {
        kind: 'licence-offer',
        id: 'O-1',
        own: key('licenceOffer', 'O-1'),
        others: [[key('licenceGrant', 'G-1'), { offerId: 'O-1', grantId: 'G-1' }]],
      },
      {
        kind: 'licence',
        id: 'G-1',
        own: key('licenceGrant', 'G-1'),
        others: [
          [key('licenceGrantByOffer', 'O-1', 'ClientOrgMSP', 'cara'), { grantId: 'G-1' }],
          [key('usageReport', 'G-1', '2026-11'), { grantId: 'G-1', periodId: '2026-11' }],
        ],
      },
      {
        kind: 'provenance-record',
        id: 'R-1',
        own: key('provenanceRecord', 'R-1'),
        others: [[key('provenanceHash', 'cd'.repeat(32)), { recordId: 'R-1' }]],
      },
      {
        kind: 'dataset-access-grant',
        id: 'DG-1',
        own: key('accessGrant', 'DG-1'),
        others: [
          [key('datasetGrant', 'R-1', 'DG-1'), { grantId: 'DG-1' }],
          [key('datasetAccess', 'R-1', 'DG-1', 'tx1'), { grantId: 'DG-1', datasetId: 'R-1' }],
        ],
      },
      {
        kind: 'audit-grant',
        id: 'AG-1',
        own: key('auditGrant', 'AG-1'),
        others: [
          [key('auditGrantByAuditor', 'AuditOrgMSP', 'AG-1'), { grantId: 'AG-1' }],
          [key('auditGrantByOrganisation', 'ClientOrgMSP', 'AG-1'), { grantId: 'AG-1' }],
        ],
      },
      {
        kind: 'parameter',
        id: 'platformFeeBps',
        own: key('parameter', 'platformFeeBps'),
        others: [[key('proposal', 'P-2'), { proposalId: 'P-2', name: 'platformFeeBps' }]],
      },
    ];
    // Every kind a proof can be asked for is covered.
    expect(new Set(cases.map((entry) => entry.kind))).toEqual(new Set(provableKindNames));
    for (const { kind, id, own, others } of cases) {
      const [agreementId, milestoneId] = id.split('/');
      const value =
        kind === 'payout'
          ? { agreementId, milestoneId, instructions: [{ instructionId: id }] }
          : { [kind === 'parameter' ? 'name' : 'id']: id };
      const writes = [...others.map(([otherKey, otherValue]) => write(otherKey, otherValue)), write(own, value)];
      expect([kind, recordKeyOf(writes, 'gigledger', kind, id)]).toEqual([kind, { namespace: 'gigledger', key: own }]);
      // Without the record's own write, no other write stands in for it.
      expect([kind, recordKeyOf(writes.slice(0, -1), 'gigledger', kind, id)]).toEqual([kind, undefined]);
      // Nor does its key in another namespace.
      expect([kind, recordKeyOf(writes, 'other', kind, id)]).toEqual([kind, undefined]);
    }
  });

  it('takes a payout’s milestone only when its written value lists the instruction', () => {
    const milestone = '\u0000milestone\u0000A-1\u0000m1\u0000';
    const writes = [write(milestone, { instructions: [{ instructionId: 'A-1/m1/release-1' }] })];
    expect(recordKeyOf(writes, 'gigledger', 'payout', 'A-1/m1/release-1')?.key).toBe(milestone);
    expect(recordKeyOf(writes, 'gigledger', 'payout', 'A-1/m1/release-2')).toBeUndefined();
    expect(recordKeyOf([write(milestone, 'not json')], 'gigledger', 'payout', 'A-1/m1/release-1')).toBeUndefined();
  });
});
