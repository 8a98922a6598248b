import { suiteServer } from '../test-support/suite-server.js';
import { nestedRecordsPerRequest } from '../graphql/ledger-list-fields.js';
import { BlockIndexer } from './block-indexer.js';
import { compositeKey, proposalRecord, syntheticBlock, syntheticTransaction, voteRecord } from './synthetic-blocks.js';

/*
 * The lists inside index nodes that have no page of their own (a block's transactions, a
 * transaction's keys, a proposal's votes): read for a whole page at once, and bounded per
 * request, since a page of a hundred blocks could otherwise read every key of every one.
 */

const fullBlocks = 21;
const perBlock = 500;
const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString();
const governor = (mspId: string) => ({ mspId, userId: `governor-${mspId}` });

interface GraphqlAnswer<Data> {
  data?: Data | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

type BlocksAnswer = GraphqlAnswer<{
  indexedBlocks: { edges: { node: { blockNumber: string; transactions: { transactionId: string }[] } }[] };
}>;

describe('nested lists of the audit index over GraphQL', () => {
  const server = suiteServer();
  let token = '';

  beforeAll(async () => {
    const indexer = new BlockIndexer(server().db, { chaincode: 'gigledger' });
    for (let block = 0; block < fullBlocks; block++) {
      const transactions = Array.from({ length: perBlock }, (_, position) => {
        const id = `tx-${String(block)}-${String(position)}`;
        return syntheticTransaction(position, id, [[compositeKey('note', [id]), { id }]], { fn: 'note:write' });
      });
      await indexer.index(syntheticBlock(BigInt(block), transactions));
    }
    const proposal = (proposalId: string, by: string) =>
      syntheticTransaction(
        0,
        `tx-propose-${proposalId}`,
        [
          [
            compositeKey('proposal', [proposalId]),
            proposalRecord({ proposalId, proposer: governor(by), at: day(1), txId: `tx-propose-${proposalId}` }),
          ],
        ],
        { fn: 'governance:propose' },
      );
    const vote = (position: number, proposalId: string, mspId: string, choice: 'yes' | 'no' | 'abstain') =>
      syntheticTransaction(
        position,
        `tx-vote-${proposalId}-${mspId}`,
        [
          [
            compositeKey('proposalVote', [proposalId, mspId]),
            voteRecord({
              proposalId,
              voter: governor(mspId),
              choice,
              at: day(2),
              txId: `tx-vote-${proposalId}-${mspId}`,
            }),
          ],
        ],
        { fn: 'governance:vote' },
      );
    await indexer.index(
      syntheticBlock(BigInt(fullBlocks), [
        { ...proposal('P-1', 'ClientOrgMSP'), position: 0 },
        { ...proposal('P-2', 'TalentOrgMSP'), position: 1 },
        vote(2, 'P-1', 'TalentOrgMSP', 'no'),
        vote(3, 'P-1', 'ClientOrgMSP', 'yes'),
        vote(4, 'P-2', 'AuditOrgMSP', 'abstain'),
      ]),
    );
    // An admin's explorer shows its own organisation's transactions, which every synthetic one is.
    token = (await server().person('nested-lists-admin', 'ClientOrg', 'admin')).token;
  });

  const ask = async <Answer>(query: string): Promise<Answer> => {
    const answer = await server().request('POST', '/graphql', { token, body: { query } });
    expect(answer.status).toBe(200);
    return answer.body as Answer;
  };
  const blocks = (from: number, to: number, fields = 'transactionId') =>
    `indexedBlocks(filter: { fromBlock: ${String(from)}, toBlock: ${String(to)} }, first: 100) { edges { node { blockNumber transactions { ${fields} } } } }`;

  it("answers each block's transactions, in block order, up to the request's bound on nested records", async () => {
    expect((fullBlocks - 1) * perBlock).toBe(nestedRecordsPerRequest);
    const answer = await ask<BlocksAnswer>(`{ ${blocks(0, fullBlocks - 2)} }`);
    expect(answer.errors).toBeUndefined();
    const edges = answer.data?.indexedBlocks.edges ?? [];
    expect(edges).toHaveLength(fullBlocks - 1);
    for (const [block, { node }] of edges.entries()) {
      expect(node.blockNumber).toBe(String(block));
      expect(node.transactions.map((tx) => tx.transactionId)).toEqual(
        Array.from({ length: perBlock }, (_, position) => `tx-${String(block)}-${String(position)}`),
      );
    }
  });

  it('refuses a request whose nested lists hold more, naming the list, over aliases too', async () => {
    const refusal = (answer: GraphqlAnswer<unknown>) =>
      answer.errors?.find((error) => error.extensions?.code === 'VALIDATION_FAILED');
    const one = await ask<BlocksAnswer>(`{ ${blocks(0, fullBlocks - 1)} }`);
    expect(refusal(one)).toMatchObject({
      message: expect.stringMatching(
        /^transactions: the nested lists of one request may hold 10000 records together/,
      ) as unknown,
      extensions: { field: 'transactions' },
    });
    const aliases = await ask<BlocksAnswer>(`{ a: ${blocks(0, 9)} b: ${blocks(10, 19)} c: ${blocks(20, 20)} }`);
    expect(refusal(aliases)).toMatchObject({ extensions: { field: 'transactions' } });
    // The same lists again under another alias count again, though read once.
    const repeated = await ask<BlocksAnswer>(`{ a: ${blocks(0, 10)} b: ${blocks(0, 10)} }`);
    expect(refusal(repeated)).toMatchObject({ extensions: { field: 'transactions' } });
    const once = await ask<BlocksAnswer>(`{ a: ${blocks(0, 9)} b: ${blocks(0, 9)} }`);
    expect(once.errors).toBeUndefined();
    // The keys of every transaction of a page of blocks count too: 5,500 transactions fit, their keys with them do not.
    const keys = await ask<BlocksAnswer>(`{ ${blocks(0, 10, 'transactionId keys { key }')} }`);
    expect(refusal(keys)).toMatchObject({ extensions: { field: 'keys' } });
  });

  it("answers every transaction's own keys, read for the whole page at once", async () => {
    const answer = await ask<
      GraphqlAnswer<{
        indexedTransactions: { edges: { node: { transactionId: string; keys: { key: string; access: string }[] } }[] };
      }>
    >(
      `{ indexedTransactions(filter: { fromBlock: 3, toBlock: 3 }, first: 100) { edges { node { transactionId keys { key access } } } } }`,
    );
    expect(answer.errors).toBeUndefined();
    const edges = answer.data?.indexedTransactions.edges ?? [];
    expect(edges).toHaveLength(100);
    for (const { node } of edges) {
      expect(node.keys).toEqual([{ key: compositeKey('note', [node.transactionId]), access: 'write' }]);
    }
  });

  it("answers each proposal's own votes, by organisation", async () => {
    const answer = await ask<
      GraphqlAnswer<{
        indexedProposals: { edges: { node: { proposalId: string; votes: { mspId: string; choice: string }[] } }[] };
      }>
    >(`{ indexedProposals(sort: PROPOSED_AT) { edges { node { proposalId votes { mspId choice } } } } }`);
    expect(answer.errors).toBeUndefined();
    const votes = Object.fromEntries(
      (answer.data?.indexedProposals.edges ?? []).map(({ node }) => [node.proposalId, node.votes]),
    );
    expect(votes).toEqual({
      'P-1': [
        { mspId: 'ClientOrgMSP', choice: 'yes' },
        { mspId: 'TalentOrgMSP', choice: 'no' },
      ],
      'P-2': [{ mspId: 'AuditOrgMSP', choice: 'abstain' }],
    });
  });
});
