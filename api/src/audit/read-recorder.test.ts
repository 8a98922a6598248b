import { organisationsAndCount } from './read-recorder.js';

describe('what the read log counts of an answer', () => {
  it('counts a REST page by its items and a GraphQL connection by its edges, not as one record', () => {
    expect(organisationsAndCount({ totalCount: 0, items: [], indexedHeight: '9' })).toEqual({
      organisations: [],
      count: 0,
    });
    expect(
      organisationsAndCount({
        totalCount: 62,
        items: [{ creatorMspId: 'TalentOrgMSP' }, { creatorMspId: 'ClientOrgMSP' }],
      }),
    ).toEqual({ organisations: ['ClientOrgMSP', 'TalentOrgMSP'], count: 2 });
    expect(organisationsAndCount({ edges: [{ node: { client: { mspId: 'ClientOrgMSP' } } }] })).toEqual({
      organisations: ['ClientOrgMSP'],
      count: 1,
    });
  });

  it('names the organisations of a block explorer answer by the transactions it shows', () => {
    const block = {
      blockNumber: '5',
      transactions: [{ creatorMspId: 'AuditOrgMSP' }, { creatorMspId: 'AuditOrgMSP' }],
    };
    expect(organisationsAndCount(block)).toEqual({ organisations: ['AuditOrgMSP'], count: 1 });
  });
});
