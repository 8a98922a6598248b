import { subjectsOfRead } from './read-subjects.js';

describe('subjectsOfRead', () => {
  it('takes record ids from REST paths, decoded, and organisations from party paths', () => {
    expect(subjectsOfRead({ path: '/v1/agreements/A%2017/milestones/m1/history' })).toEqual({
      organisations: [],
      targets: [{ kind: 'agreement', id: 'A 17' }],
    });
    expect(subjectsOfRead({ path: '/v1/licensing/grants/G-1/periods/2026-01' }).targets).toEqual([
      { kind: 'licenceGrant', id: 'G-1' },
    ]);
    expect(subjectsOfRead({ path: '/v1/provenance/datasets/DS-1/access-log' }).targets).toEqual([
      { kind: 'dataset', id: 'DS-1' },
    ]);
    expect(subjectsOfRead({ path: '/v1/reputation/TalentOrgMSP/tara' })).toEqual({
      organisations: ['TalentOrgMSP'],
      targets: [],
    });
    // Verification is no credential id.
    expect(subjectsOfRead({ path: '/v1/credentials/verify' })).toEqual({ organisations: [], targets: [] });
  });

  it('takes record ids and organisations from arguments at any depth, without repeats', () => {
    expect(
      subjectsOfRead({
        arguments: [
          {
            agreementId: 'A-1',
            filter: { clientMsp: 'ClientOrgMSP', party: { mspId: 'TalentOrgMSP', userId: 'tara' } },
          },
          { agreementId: 'A-1', organisations: ['AuditOrgMSP'] },
          { workId: 'W-1', first: 10, status: 'active' },
        ],
      }),
    ).toEqual({
      organisations: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
      targets: [
        { kind: 'agreement', id: 'A-1' },
        { kind: 'work', id: 'W-1' },
      ],
    });
  });

  it('finds nothing in a read that names no record and no organisation', () => {
    expect(subjectsOfRead({ path: '/v1/index/agreements', arguments: { first: '20', status: 'active' } })).toEqual({
      organisations: [],
      targets: [],
    });
  });
});
