import {
  ipOrganisationReaderRoles,
  ipReaderRoles,
  governedRoles,
  licensingOrganisationReaderRoles,
  licensingReaderRoles,
  provenanceAuditorRoles,
  roles,
  scopeOf,
  type AuditGrantRecord,
  type AuditRecordKind,
  type Role,
} from '@gigledger/chaincode/model';
import type { BlockContents } from '@gigledger/gateway';
import { kindsOf, organisationsAndCount } from '../audit/read-recorder.js';
import { scopesByRole, type Principal } from '../auth/principal.js';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { BlockIndexer } from './block-indexer.js';
import { auditIndexTables } from './index-schema.js';
import {
  IndexQueries,
  licenceFilterSchema,
  orderedRanges,
  pageSchema,
  royaltyPeriodFilterSchema,
  type Connection,
} from './index-queries.js';
import {
  blockNode,
  licenceNode,
  lineageEdgeNode,
  ownershipChangeNode,
  proposalNode,
  royaltyPeriodNode,
  workNode,
} from './index-nodes.js';
import {
  accessGrantRecord,
  accessLogEntry,
  compositeKey,
  datasetRecord,
  erasureReceipt,
  licenceGrantRecord,
  licenceOfferRecord,
  modelRecord,
  ownershipChangeRecord,
  proposalRecord,
  royaltyPeriodRecord,
  syntheticBlock,
  syntheticTransaction,
  voteRecord,
  workRecord,
} from './synthetic-blocks.js';

/*
 * The governance, IP, licensing and provenance indexers and their listings on a real
 * database (SQLite, and PostgreSQL when GIGLEDGER_TEST_DATABASE_URL names a server),
 * fed decoded blocks holding records as those contracts write them.
 */

const backends = storageBackends('gl-ixd');

const alice = { mspId: 'ClientOrgMSP', userId: 'alice' };
const carol = { mspId: 'ClientOrgMSP', userId: 'carol' };
const frank = { mspId: 'ClientOrgMSP', userId: 'frank' };
const bob = { mspId: 'TalentOrgMSP', userId: 'bob' };
const dave = { mspId: 'TalentOrgMSP', userId: 'dave' };
/** Of an organisation no record here names: its admin reads no licence or ownership change. */
const olga = { mspId: 'AuditOrgMSP', userId: 'olga' };
const governorOf = (mspId: string) => ({ mspId, userId: `governor-${mspId}` });

const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString();
const allRows = { ...pageSchema.parse({}), first: 100 };

/**
 * Reads every row: an auditor whose grants the queries are not given is a tool reading
 * the index as its operator (see `IndexQueries`).
 */
const operator = principal('auditor');

function principal(
  role: Role,
  who: { mspId: string; userId: string } = { mspId: 'AuditOrgMSP', userId: `${role}-1` },
): Principal {
  return {
    kind: 'person',
    id: who.userId,
    userId: who.userId,
    org: who.mspId.replace(/MSP$/, ''),
    mspId: who.mspId,
    role,
    scopes: scopesByRole[role],
    identityLabel: `person:${who.userId}`,
  };
}

const w1Owners = [
  { party: bob, shareBps: 6000 },
  { party: dave, shareBps: 4000 },
];
const w1OwnersAfter = [
  { party: bob, shareBps: 5000 },
  { party: carol, shareBps: 5000 },
];
const offerL1 = licenceOfferRecord({
  offerId: 'L-1',
  workId: 'W-1',
  owners: w1Owners,
  licensee: alice,
  fee: '500000',
  at: day(6),
  txId: 'tx-offer-1',
});
const grantG1 = licenceGrantRecord({
  grantId: 'G-1',
  offer: offerL1,
  licensee: alice,
  at: day(8),
  txId: 'tx-accept-1',
});
const grantAg1 = accessGrantRecord({
  grantId: 'AG-1',
  datasetId: 'DS-1',
  controller: carol,
  grantee: dave,
  at: day(12),
  txId: 'tx-grant-access',
});

/** One transaction per write group, in the order the contracts make them. */
function chain(): BlockContents[] {
  let position = 0;
  const tx = (txId: string, records: [string, unknown][], fn: string, options: { validationCode?: number } = {}) =>
    syntheticTransaction(position++, txId, records, {
      fn,
      ...options,
      ...(options.validationCode === undefined ? {} : { validationName: 'MVCC_READ_CONFLICT' }),
    });
  const block0 = [
    tx(
      'tx-propose-1',
      [
        [
          compositeKey('proposal', ['P-1']),
          proposalRecord({ proposalId: 'P-1', proposer: governorOf('ClientOrgMSP'), at: day(1), txId: 'tx-propose-1' }),
        ],
      ],
      'governance:propose',
    ),
    tx(
      'tx-propose-2',
      [
        [
          compositeKey('proposal', ['P-2']),
          {
            ...proposalRecord({
              proposalId: 'P-2',
              proposer: governorOf('TalentOrgMSP'),
              at: day(2),
              txId: 'tx-propose-2',
            }),
            actions: [{ type: 'addArbitrator', arbitrator: dave, displayName: 'Dave' }],
          },
        ],
      ],
      'governance:propose',
    ),
    tx(
      'tx-vote-1',
      [
        [
          compositeKey('proposalVote', ['P-1', 'ClientOrgMSP']),
          voteRecord({
            proposalId: 'P-1',
            voter: governorOf('ClientOrgMSP'),
            choice: 'yes',
            at: day(2),
            txId: 'tx-vote-1',
          }),
        ],
      ],
      'governance:vote',
    ),
    tx(
      'tx-vote-2',
      [
        [
          compositeKey('proposalVote', ['P-1', 'TalentOrgMSP']),
          voteRecord({
            proposalId: 'P-1',
            voter: governorOf('TalentOrgMSP'),
            choice: 'no',
            at: day(2),
            txId: 'tx-vote-2',
          }),
        ],
      ],
      'governance:vote',
    ),
    // Conflicted: changes nothing.
    tx(
      'tx-propose-x',
      [
        [
          compositeKey('proposal', ['P-X']),
          proposalRecord({ proposalId: 'P-X', proposer: governorOf('ClientOrgMSP'), at: day(2), txId: 'tx-propose-x' }),
        ],
      ],
      'governance:propose',
      { validationCode: 11 },
    ),
    tx(
      'tx-work-1',
      [
        [compositeKey('ipWorkHash', ['h1']), { workId: 'W-1' }],
        [
          compositeKey('ipWork', ['W-1']),
          workRecord({ workId: 'W-1', owners: w1Owners, at: day(3), txId: 'tx-work-1' }),
        ],
      ],
      'ip:registerWork',
    ),
    tx(
      'tx-work-2',
      [
        [
          compositeKey('ipWork', ['W-2']),
          workRecord({ workId: 'W-2', owners: [{ party: alice, shareBps: 10_000 }], at: day(4), txId: 'tx-work-2' }),
        ],
      ],
      'ip:registerWork',
    ),
    tx(
      'tx-change-1',
      [
        [
          compositeKey('ipOwnershipChange', ['W-1', 'C1']),
          ownershipChangeRecord({
            workId: 'W-1',
            changeId: 'C1',
            proposer: bob,
            currentOwners: w1Owners,
            proposedOwners: w1OwnersAfter,
            at: day(5),
            txId: 'tx-change-1',
          }),
        ],
      ],
      'ip:proposeOwnershipChange',
    ),
    tx('tx-offer-1', [[compositeKey('licenceOffer', ['L-1']), offerL1]], 'licensing:offerLicence'),
    tx(
      'tx-offer-2',
      [
        [
          compositeKey('licenceOffer', ['L-2']),
          licenceOfferRecord({
            offerId: 'L-2',
            workId: 'W-2',
            owners: [{ party: alice, shareBps: 10_000 }],
            currency: 'USD',
            at: day(7),
            txId: 'tx-offer-2',
          }),
        ],
      ],
      'licensing:offerLicence',
    ),
    // The period is written before the grant in the transaction; the indexer applies the grant first.
    tx(
      'tx-accept-1',
      [
        [
          compositeKey('royaltyPeriod', ['G-1', 'fee']),
          royaltyPeriodRecord({
            grant: grantG1,
            periodId: 'fee',
            royalty: '500000',
            owners: w1Owners,
            at: day(8),
            txId: 'tx-accept-1',
          }),
        ],
        [compositeKey('licenceGrant', ['G-1']), grantG1],
        [
          compositeKey('licenceOffer', ['L-1']),
          { ...offerL1, status: 'accepted', updatedAt: day(8), updatedTxId: 'tx-accept-1' },
        ],
      ],
      'licensing:acceptOffer',
    ),
    tx(
      'tx-dataset-1',
      [
        [
          compositeKey('provenanceRecord', ['DS-1']),
          datasetRecord({ recordId: 'DS-1', controller: carol, subjectData: 'held', at: day(9), txId: 'tx-dataset-1' }),
        ],
      ],
      'provenance:registerDataset',
    ),
    tx(
      'tx-dataset-2',
      [
        [
          compositeKey('provenanceChild', ['DS-1', 'DS-2']),
          { relation: 'derivedFrom', transformation: { description: 'deduplicated', codeSha256: 'a'.repeat(64) } },
        ],
        [
          compositeKey('provenanceRecord', ['DS-2']),
          datasetRecord({ recordId: 'DS-2', controller: bob, parents: ['DS-1'], at: day(10), txId: 'tx-dataset-2' }),
        ],
      ],
      'provenance:registerDataset',
    ),
    tx(
      'tx-model-1',
      [
        [
          compositeKey('provenanceRecord', ['M-1']),
          modelRecord({ recordId: 'M-1', controller: bob, trainedOn: ['DS-2'], at: day(11), txId: 'tx-model-1' }),
        ],
        [compositeKey('provenanceChild', ['DS-2', 'M-1']), { relation: 'trainedOn' }],
      ],
      'provenance:registerModel',
    ),
    tx(
      'tx-grant-access',
      [
        [compositeKey('datasetGrant', ['DS-1', 'AG-1']), { grantId: 'AG-1' }],
        [compositeKey('accessGrant', ['AG-1']), grantAg1],
      ],
      'provenance:grantAccess',
    ),
    tx(
      'tx-access-1',
      [
        [
          compositeKey('datasetAccess', ['DS-1', 'AG-1', 'tx-access-1']),
          accessLogEntry({ grant: grantAg1, at: day(13), txId: 'tx-access-1' }),
        ],
      ],
      'provenance:recordAccess',
    ),
    tx(
      'tx-erase-1',
      [
        [
          compositeKey('erasureReceipt', ['R-1']),
          erasureReceipt({
            receiptId: 'R-1',
            datasetId: 'DS-1',
            requester: carol,
            dataSubject: frank,
            at: day(14),
            txId: 'tx-erase-1',
          }),
        ],
        [
          compositeKey('provenanceRecord', ['DS-1']),
          datasetRecord({
            recordId: 'DS-1',
            controller: carol,
            subjectData: 'erased',
            at: day(9),
            txId: 'tx-dataset-1',
          }),
        ],
      ],
      'provenance:requestErasure',
    ),
  ];
  position = 0;
  const block1 = [
    tx(
      'tx-approve-1',
      [
        [
          compositeKey('ipWork', ['W-1']),
          workRecord({
            workId: 'W-1',
            owners: w1OwnersAfter,
            registeredAt: day(3),
            version: 2,
            at: day(20),
            txId: 'tx-approve-1',
          }),
        ],
        [
          compositeKey('ipOwnershipChange', ['W-1', 'C1']),
          {
            ...ownershipChangeRecord({
              workId: 'W-1',
              changeId: 'C1',
              proposer: bob,
              currentOwners: w1Owners,
              proposedOwners: w1OwnersAfter,
              at: day(5),
              txId: 'tx-change-1',
            }),
            status: 'applied',
            updatedAt: day(20),
            updatedTxId: 'tx-approve-1',
          },
        ],
      ],
      'ip:approveOwnershipChange',
    ),
    tx(
      'tx-close-1',
      [
        [
          compositeKey('royaltyPeriod', ['G-1', '2026-01']),
          royaltyPeriodRecord({
            grant: grantG1,
            periodId: '2026-01',
            royalty: '12345',
            owners: w1OwnersAfter,
            at: day(40),
            txId: 'tx-close-1',
          }),
        ],
      ],
      'licensing:closeRoyaltyPeriod',
    ),
  ];
  return [syntheticBlock(0n, block0), syntheticBlock(1n, block1)];
}

const ids = (page: Connection<Record<string, unknown>>, ...columns: string[]) =>
  page.edges.map((edge) => columns.map((column) => String(edge.node[column])).join('/'));

const newTables = auditIndexTables.filter(
  (table) =>
    ![
      'ix_tx_keys',
      'ix_transactions',
      'ix_blocks',
      'ix_payouts',
      'ix_milestones',
      'ix_agreements',
      'ix_credentials',
      'ix_reputation',
    ].includes(table),
);

describe.each(backends)('governance, IP, licensing and provenance in the audit index on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;
  let indexer: BlockIndexer;
  let queries: IndexQueries;

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    queries = new IndexQueries(db);
    for (const block of chain()) await indexer.index(block);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  const snapshot = async () =>
    Object.fromEntries(
      await Promise.all(
        newTables.map(
          async (table) =>
            [
              table,
              (await db.selectFrom(table).selectAll().execute()).map((row) => JSON.stringify(row)).sort(),
            ] as const,
        ),
      ),
    );

  it('indexes proposals and their votes from valid transactions only', async () => {
    const auditor = principal('auditor');
    const page = await queries.proposals(auditor, { sort: 'PROPOSED_AT' }, allRows);
    expect(page.edges.map((edge) => proposalNode(edge.node))).toEqual([
      expect.objectContaining({
        proposalId: 'P-1',
        status: 'open',
        proposer: governorOf('ClientOrgMSP'),
        actionTypes: ['setParameter'],
        updatedBlock: '0',
      }),
      expect.objectContaining({ proposalId: 'P-2', actionTypes: ['addArbitrator'] }),
    ]);
    expect(page.indexedHeight).toBe('2');
    const votes = await queries.proposalVotes(auditor, 'P-1');
    expect(votes.map((vote) => [vote.msp_id, vote.choice, vote.tx_id])).toEqual([
      ['ClientOrgMSP', 'yes', 'tx-vote-1'],
      ['TalentOrgMSP', 'no', 'tx-vote-2'],
    ]);
    expect(
      ids(await queries.proposals(auditor, { sort: 'PROPOSED_AT', org: 'TalentOrgMSP' }, allRows), 'proposal_id'),
    ).toEqual(['P-2']);
    expect(
      ids(
        await queries.proposals(auditor, { sort: 'PROPOSED_AT', actionType: 'setParameter' }, allRows),
        'proposal_id',
      ),
    ).toEqual(['P-1']);
    expect(
      ids(await queries.proposals(auditor, { sort: 'PROPOSED_AT', from: day(2), to: day(3) }, allRows), 'proposal_id'),
    ).toEqual(['P-2']);
  });

  it('keeps a work with its owners now and its ownership changes, following an applied change', async () => {
    const hr = principal('hr', alice);
    const works = await queries.works(hr, { sort: 'WORK_ID' }, allRows);
    expect(works.edges.map((edge) => workNode(edge.node))).toEqual([
      expect.objectContaining({
        workId: 'W-1',
        ownershipVersion: 2,
        owners: w1OwnersAfter,
        registeredAt: day(3),
        updatedTxId: 'tx-approve-1',
        updatedBlock: '1',
      }),
      expect.objectContaining({ workId: 'W-2', owners: [{ party: alice, shareBps: 10_000 }] }),
    ]);
    // Dave sold his share: his works are none; TalentOrg still owns part of W-1 through bob.
    expect(ids(await queries.works(hr, { sort: 'WORK_ID', owner: dave }, allRows), 'work_id')).toEqual([]);
    expect(ids(await queries.works(hr, { sort: 'WORK_ID', org: 'TalentOrgMSP' }, allRows), 'work_id')).toEqual(['W-1']);
    const changes = await queries.ownershipChanges(operator, { sort: 'PROPOSED_AT' }, allRows);
    expect(ids(changes, 'work_id', 'change_id', 'status', 'updated_tx_id')).toEqual(['W-1/C1/applied/tx-approve-1']);
  });

  it('keeps offers, licences and royalty periods with their money in minor units, filtered by licensor and licensee organisation, amount and time', async () => {
    expect(ids(await queries.licenceOffers(operator, { sort: 'OFFERED_AT' }, allRows), 'offer_id', 'status')).toEqual([
      'L-1/accepted',
      'L-2/open',
    ]);
    const licences = await queries.licences(
      operator,
      {
        sort: 'ACCEPTED_AT',
        licensorOrg: 'ClientOrgMSP',
        licenseeOrg: 'ClientOrgMSP',
        currency: 'EUR',
        minAmount: '500000',
        maxAmount: '500000',
      },
      allRows,
    );
    expect(licences.edges.map((edge) => licenceNode(edge.node))).toEqual([
      expect.objectContaining({
        grantId: 'G-1',
        workId: 'W-1',
        licensee: alice,
        feeAmount: '500000',
        currency: 'EUR',
        acceptedAt: day(8),
      }),
    ]);
    expect(ids(await queries.licences(operator, { sort: 'FEE', minAmount: '500001' }, allRows), 'grant_id')).toEqual(
      [],
    );
    // W-1 has no owner in AuditOrg.
    expect(
      ids(await queries.licences(operator, { sort: 'ACCEPTED_AT', licensorOrg: 'AuditOrgMSP' }, allRows), 'grant_id'),
    ).toEqual([]);
    const periods = await queries.royaltyPeriods(operator, { sort: 'AMOUNT' }, allRows);
    expect(ids(periods, 'period_id', 'royalty', 'licensee_user', 'licence_accepted_at')).toEqual([
      `2026-01/12345/alice/${day(8)}`,
      `fee/500000/alice/${day(8)}`,
    ]);
    expect(
      ids(await queries.royaltyPeriods(operator, { sort: 'CLOSED_AT', from: day(30) }, allRows), 'period_id'),
    ).toEqual(['2026-01']);
    const reversed = royaltyPeriodFilterSchema.superRefine(orderedRanges).safeParse({ minAmount: '5', maxAmount: '1' });
    expect(reversed.error?.issues).toEqual([
      expect.objectContaining({ path: ['maxAmount'], message: 'must not be below minAmount' }),
    ]);
    const reversedTime = licenceFilterSchema.superRefine(orderedRanges).safeParse({ from: day(5), to: day(1) });
    expect(reversedTime.error?.issues).toEqual([expect.objectContaining({ path: ['to'] })]);
  });

  it('keeps dataset and model records with their lineage, access grants, uses and erasure receipts, with no subject data', async () => {
    const auditor = principal('auditor');
    const records = await queries.provenanceRecords(auditor, { sort: 'REGISTERED_AT' }, allRows);
    expect(ids(records, 'record_id', 'kind', 'subject_data_status', 'updated_tx_id')).toEqual([
      'DS-1/dataset/erased/tx-erase-1',
      'DS-2/dataset/null/tx-dataset-2',
      'M-1/model/null/tx-model-1',
    ]);
    expect(
      ids(await queries.provenanceRecords(auditor, { sort: 'REGISTERED_AT', kind: 'model' }, allRows), 'record_id'),
    ).toEqual(['M-1']);
    expect(
      ids(await queries.lineage(auditor, { sort: 'PARENT' }, allRows), 'parent_id', 'child_id', 'relation'),
    ).toEqual(['DS-1/DS-2/derivedFrom', 'DS-2/M-1/trainedOn']);
    expect(
      ids(
        await queries.datasetAccessGrants(auditor, { sort: 'GRANTED_AT', org: 'TalentOrgMSP' }, allRows),
        'grant_id',
        'controller_user',
        'dataset_registered_at',
      ),
    ).toEqual([`AG-1/carol/${day(9)}`]);
    expect(
      ids(
        await queries.datasetAccessLog(auditor, { sort: 'AT', datasetId: 'DS-1' }, allRows),
        'access_id',
        'accessor_user',
      ),
    ).toEqual(['tx-access-1/dave']);
    expect(
      ids(
        await queries.erasureReceipts(auditor, { sort: 'AT', targetKind: 'datasetSubjectData' }, allRows),
        'receipt_id',
        'target_id',
        'controller_user',
        'subject_user',
      ),
    ).toEqual(['R-1/DS-1/carol/frank']);
  });

  it('pages on from a cursor of every time-sorted listing: the instants and as many tiebreaks as the index keeps are what its cursors accept', async () => {
    const auditor = principal('auditor');
    const listings: [string, (after?: string) => Promise<{ pageInfo: { endCursor: string | null } }>][] = [
      ['proposals', (after) => queries.proposals(auditor, { sort: 'PROPOSED_AT' }, { ...allRows, first: 1, after })],
      ['works', (after) => queries.works(operator, { sort: 'REGISTERED_AT' }, { ...allRows, first: 1, after })],
      [
        'changes',
        (after) => queries.ownershipChanges(operator, { sort: 'PROPOSED_AT' }, { ...allRows, first: 1, after }),
      ],
      ['offers', (after) => queries.licenceOffers(operator, { sort: 'OFFERED_AT' }, { ...allRows, first: 1, after })],
      ['licences', (after) => queries.licences(operator, { sort: 'ACCEPTED_AT' }, { ...allRows, first: 1, after })],
      ['periods', (after) => queries.royaltyPeriods(operator, { sort: 'CLOSED_AT' }, { ...allRows, first: 1, after })],
      // Sorted by fee, a listing holds only rows that charge one: no cursor carries a missing fee.
      ['offers by fee', (after) => queries.licenceOffers(operator, { sort: 'FEE' }, { ...allRows, first: 1, after })],
      ['licences by fee', (after) => queries.licences(operator, { sort: 'FEE' }, { ...allRows, first: 1, after })],
      [
        'records',
        (after) => queries.provenanceRecords(auditor, { sort: 'REGISTERED_AT' }, { ...allRows, first: 1, after }),
      ],
      [
        'grants',
        (after) => queries.datasetAccessGrants(auditor, { sort: 'GRANTED_AT' }, { ...allRows, first: 1, after }),
      ],
      ['uses', (after) => queries.datasetAccessLog(auditor, { sort: 'AT' }, { ...allRows, first: 1, after })],
      ['erasures', (after) => queries.erasureReceipts(auditor, { sort: 'AT' }, { ...allRows, first: 1, after })],
    ];
    for (const [name, page] of listings) {
      const first = await page();
      expect([name, first.pageInfo.endCursor]).not.toEqual([name, null]);
      const next = await page(first.pageInfo.endCursor ?? undefined).then(
        () => 'paged on',
        (error: unknown) => String(error),
      );
      expect([name, next]).toEqual([name, 'paged on']);
    }
  });

  it("names in the read log the organisations a listing's rows concern beyond their record: a work's owners now, a block's transaction creators, a lineage edge's record controllers", async () => {
    const ownersOf = async (workId: string) =>
      (await db.selectFrom('ix_work_owners').select('owner_msp').where('work_id', '=', workId).execute()).map(
        (row) => row.owner_msp,
      );
    const pages = [
      [await queries.licences(operator, { sort: 'ACCEPTED_AT' }, allRows), licenceNode],
      [await queries.royaltyPeriods(operator, { sort: 'CLOSED_AT' }, allRows), royaltyPeriodNode],
      [await queries.ownershipChanges(operator, { sort: 'PROPOSED_AT' }, allRows), ownershipChangeNode],
    ] as const;
    for (const [page, node] of pages) {
      expect(page.edges.length).toBeGreaterThan(0);
      for (const { node: row } of page.edges) {
        const owners = await ownersOf(String(row.work_id));
        expect(owners.length).toBeGreaterThan(0);
        const logged = organisationsAndCount({ edges: [{ node: node(row) }] }).organisations;
        expect(owners.filter((owner) => !logged.includes(owner))).toEqual([]);
      }
    }
    const blocks = await queries.blocks(operator, { sort: 'NUMBER' }, allRows);
    const creators = new Set(
      (await db.selectFrom('ix_transactions').select('creator_msp').execute()).map((row) => row.creator_msp),
    );
    const logged = organisationsAndCount({ edges: blocks.edges.map(({ node: row }) => ({ node: blockNode(row) })) });
    expect(logged.organisations).toEqual([...creators].sort());
    // A lineage edge's record names only dataset ids: the controllers of both records it joins.
    const controllerOf = async (recordId: string) =>
      (
        await db
          .selectFrom('ix_provenance_records')
          .select('controller_msp')
          .where('record_id', '=', recordId)
          .executeTakeFirstOrThrow()
      ).controller_msp;
    const edges = await queries.lineage(operator, { sort: 'PARENT' }, allRows);
    expect(edges.edges.length).toBeGreaterThan(0);
    for (const { node: row } of edges.edges) {
      const controllers = [await controllerOf(String(row.parent_id)), await controllerOf(String(row.child_id))];
      expect(organisationsAndCount({ edges: [{ node: lineageEdgeNode(row) }] }).organisations).toEqual(
        [...new Set(controllers)].sort(),
      );
    }
  });

  it('answers every role exactly what the chaincode lets it read', async () => {
    const people = { alice, carol, bob, dave, frank, olga };
    for (const role of roles) {
      for (const [name, who] of Object.entries(people)) {
        const caller = principal(role, who);
        const named = (...parties: { mspId: string; userId: string }[]) =>
          parties.some((party) => party.mspId === who.mspId && party.userId === who.userId);
        // An admin reads licences and ownership changes naming a person of its organisation.
        const ofOrganisation = (readers: readonly Role[], ...parties: { mspId: string; userId: string }[]) =>
          readers.includes(role) && parties.some((party) => party.mspId === who.mspId);
        const listing = async (
          scope: string,
          run: () => Promise<Connection<Record<string, unknown>>>,
          ...columns: string[]
        ) => {
          if (!caller.scopes.includes(scope as never)) {
            await expect(run()).rejects.toMatchObject({ status: 403 });
            return undefined;
          }
          return ids(await run(), ...columns);
        };
        const seen = {
          proposals: await listing(
            'governance:read',
            () => queries.proposals(caller, { sort: 'PROPOSAL_ID' }, allRows),
            'proposal_id',
          ),
          works: await listing('ip:read', () => queries.works(caller, { sort: 'WORK_ID' }, allRows), 'work_id'),
          changes: await listing(
            'ip:read',
            () => queries.ownershipChanges(caller, { sort: 'PROPOSED_AT' }, allRows),
            'change_id',
          ),
          offers: await listing(
            'licensing:read',
            () => queries.licenceOffers(caller, { sort: 'OFFERED_AT' }, allRows),
            'offer_id',
          ),
          licences: await listing(
            'licensing:read',
            () => queries.licences(caller, { sort: 'ACCEPTED_AT' }, allRows),
            'grant_id',
          ),
          periods: await listing(
            'licensing:read',
            () => queries.royaltyPeriods(caller, { sort: 'CLOSED_AT' }, allRows),
            'period_id',
          ),
          records: await listing(
            'provenance:read',
            () => queries.provenanceRecords(caller, { sort: 'RECORD_ID' }, allRows),
            'record_id',
          ),
          grants: await listing(
            'provenance:read',
            () => queries.datasetAccessGrants(caller, { sort: 'GRANTED_AT' }, allRows),
            'grant_id',
          ),
          uses: await listing(
            'provenance:read',
            () => queries.datasetAccessLog(caller, { sort: 'AT' }, allRows),
            'access_id',
          ),
          receipts: await listing(
            'provenance:read',
            () => queries.erasureReceipts(caller, { sort: 'AT' }, allRows),
            'receipt_id',
          ),
        };
        const when = (scope: string, value: string[]) => (caller.scopes.includes(scope as never) ? value : undefined);
        const ipReader = ipReaderRoles.includes(role);
        // The settlement role's wider reach needs a governance decision the index does not
        // know (`Caller.governed`): it reads licences it is not named in through the chaincode.
        const licensingReader =
          licensingReaderRoles.includes(role) && !(governedRoles as readonly string[]).includes(role);
        const provenanceReader = provenanceAuditorRoles.includes(role);
        const licenceReader =
          licensingReader ||
          named(alice, bob, carol) ||
          ofOrganisation(licensingOrganisationReaderRoles, alice, bob, carol);
        expect([role, name, seen]).toEqual([
          role,
          name,
          {
            proposals: when('governance:read', ['P-1', 'P-2']),
            works: when('ip:read', ['W-1', 'W-2']),
            // C1 was proposed to bob and dave, proposes bob and carol; W-1 is bob's and carol's now.
            changes: when(
              'ip:read',
              ipReader || named(bob, dave, carol) || ofOrganisation(ipOrganisationReaderRoles, bob, dave, carol)
                ? ['C1']
                : [],
            ),
            // L-2 is open to anyone while open.
            offers: when(
              'licensing:read',
              licensingReader ||
                named(bob, dave, alice) ||
                ofOrganisation(licensingOrganisationReaderRoles, bob, dave, alice)
                ? ['L-1', 'L-2']
                : ['L-2'],
            ),
            // G-1 is alice's; W-1's owners now are bob and carol (dave no longer).
            licences: when('licensing:read', licenceReader ? ['G-1'] : []),
            periods: when('licensing:read', licenceReader ? ['fee', '2026-01'] : []),
            records: when('provenance:read', ['DS-1', 'DS-2', 'M-1']),
            grants: when('provenance:read', provenanceReader || named(carol, dave) ? ['AG-1'] : []),
            uses: when('provenance:read', provenanceReader || named(carol) ? ['tx-access-1'] : []),
            receipts: when('provenance:read', provenanceReader || named(carol, frank) ? ['R-1'] : []),
          },
        ]);
      }
    }
  });

  it("opens an auditor's reads of licences, ownership changes and dataset access only under a live grant of the kind, from an organisation concerned, covering the record's time", async () => {
    const auditor = principal('auditor');
    const grant = (
      grantId: string,
      organisation: string,
      kinds: AuditRecordKind[],
      range: { from?: string; to?: string; expiresAt?: string } = {},
    ): AuditGrantRecord => ({
      grantId,
      organisation,
      auditor: { mspId: auditor.mspId },
      kinds,
      ...(range.from === undefined ? {} : { from: range.from }),
      ...(range.to === undefined ? {} : { to: range.to }),
      expiresAt: range.expiresAt ?? day(400),
      purpose: 'Statutory audit',
      grantedBy: { mspId: organisation, userId: 'admin-1' },
      grantedAt: day(0),
      txId: `tx-${grantId}`,
      status: 'active',
      updatedAt: day(0),
      updatedTxId: `tx-${grantId}`,
    });
    // The scope as the chaincode's getAuditScope makes it: live grants naming the auditor, at day 100.
    const under = (...grants: AuditGrantRecord[]) =>
      new IndexQueries(db, () =>
        Promise.resolve(scopeOf({ mspId: auditor.mspId, userId: auditor.userId }, day(100), grants)),
      );
    const seen = async (lookup: IndexQueries) => ({
      changes: ids(await lookup.ownershipChanges(auditor, { sort: 'PROPOSED_AT' }, allRows), 'change_id'),
      offers: ids(await lookup.licenceOffers(auditor, { sort: 'OFFERED_AT' }, allRows), 'offer_id'),
      licences: ids(await lookup.licences(auditor, { sort: 'ACCEPTED_AT' }, allRows), 'grant_id'),
      periods: ids(await lookup.royaltyPeriods(auditor, { sort: 'CLOSED_AT' }, allRows), 'period_id'),
      grants: ids(await lookup.datasetAccessGrants(auditor, { sort: 'GRANTED_AT' }, allRows), 'grant_id'),
      uses: ids(await lookup.datasetAccessLog(auditor, { sort: 'AT' }, allRows), 'access_id'),
      receipts: ids(await lookup.erasureReceipts(auditor, { sort: 'AT' }, allRows), 'receipt_id'),
      // Public on the channel: no grant needed.
      works: ids(await lookup.works(auditor, { sort: 'WORK_ID' }, allRows), 'work_id'),
    });
    const nothing = {
      changes: [],
      offers: ['L-2'],
      licences: [],
      periods: [],
      grants: [],
      uses: [],
      receipts: [],
      works: ['W-1', 'W-2'],
    };

    expect(await seen(under())).toEqual(nothing);
    // Another kind, another organisation, an expired grant: nothing more.
    expect(await seen(under(grant('G-kind', 'TalentOrgMSP', ['agreement', 'credential', 'governance'])))).toEqual(
      nothing,
    );
    expect(await seen(under(grant('G-org', 'AuditOrgMSP', ['ip', 'licensing', 'provenance'])))).toEqual(nothing);
    expect(
      await seen(under(grant('G-expired', 'TalentOrgMSP', ['ip', 'licensing', 'provenance'], { expiresAt: day(99) }))),
    ).toEqual(nothing);

    // TalentOrg owned W-1 when it was offered and licensed (bob still does), and was offered C1.
    expect(await seen(under(grant('G-talent', 'TalentOrgMSP', ['ip', 'licensing', 'provenance'])))).toEqual({
      ...nothing,
      changes: ['C1'],
      offers: ['L-1', 'L-2'],
      licences: ['G-1'],
      periods: ['fee', '2026-01'],
    });
    // A range covering the offer (day 6) but ending before the licence's acceptance (day 8):
    // the licence and its periods, dated by the acceptance, stay closed.
    expect(await seen(under(grant('G-early', 'TalentOrgMSP', ['licensing'], { from: day(6), to: day(7) })))).toEqual({
      ...nothing,
      offers: ['L-1', 'L-2'],
    });
    // ClientOrg: alice licenses W-1 and carol owns part of it now and controls DS-1.
    expect(
      await seen(
        under(grant('G-client', 'ClientOrgMSP', ['ip', 'licensing', 'provenance'], { from: day(0), to: day(30) })),
      ),
    ).toEqual({
      ...nothing,
      changes: ['C1'],
      offers: ['L-1', 'L-2'],
      licences: ['G-1'],
      periods: ['fee', '2026-01'],
      grants: ['AG-1'],
      uses: ['tx-access-1'],
      receipts: ['R-1'],
    });
    // DS-1 was registered on day 9: a range ending before it opens none of its access records.
    expect(await seen(under(grant('G-before', 'ClientOrgMSP', ['provenance'], { to: day(9) })))).toEqual(nothing);
  });

  it('empties for a rebuild and indexes the same blocks again into the same rows; a block with a bad record leaves nothing', async () => {
    const before = await snapshot();
    expect(before.ix_licences).toHaveLength(1);
    await indexer.clear();
    for (const table of newTables) expect(await db.selectFrom(table).selectAll().execute()).toEqual([]);
    // A restart between blocks: a new indexer resumes from the checkpoint.
    const [block0, block1] = chain();
    await new BlockIndexer(db, { chaincode: 'gigledger' }).index(block0!);
    await new BlockIndexer(db, { chaincode: 'gigledger' }).index(block1!);
    expect(await snapshot()).toEqual(before);

    const broken = syntheticBlock(2n, [
      syntheticTransaction(0, 'tx-work-3', [
        [
          compositeKey('ipWork', ['W-3']),
          workRecord({ workId: 'W-3', owners: [{ party: bob, shareBps: 10_000 }], at: day(50), txId: 'tx-work-3' }),
        ],
      ]),
      syntheticTransaction(1, 'tx-orphan', [
        [
          compositeKey('accessGrant', ['AG-9']),
          accessGrantRecord({
            grantId: 'AG-9',
            datasetId: 'DS-unknown',
            controller: bob,
            grantee: alice,
            at: day(50),
            txId: 'tx-orphan',
          }),
        ],
      ]),
    ]);
    await expect(indexer.index(broken)).rejects.toThrow('access grant AG-9 written before its dataset DS-unknown');
    expect(await indexer.height()).toBe(2n);
    expect(await snapshot()).toEqual(before);
  });
});

describe('reads of the new listings in the read log', () => {
  it.each([
    ['indexedAgreements', 'agreement'],
    ['indexedMilestones', 'agreement'],
    ['indexedPayouts', 'agreement'],
    ['payouts', 'agreement'],
    ['indexedProposals', 'governance'],
    ['indexedWorks', 'ip'],
    ['indexedOwnershipChanges', 'ip'],
    ['indexedLicenceOffers', 'licensing'],
    ['indexedLicences', 'licensing'],
    ['indexedRoyaltyPeriods', 'licensing'],
    ['indexedProvenanceRecords', 'provenance'],
    ['indexedLineageEdges', 'provenance'],
    ['indexedDatasetAccessGrants', 'provenance'],
    ['indexedDatasetAccessLog', 'provenance'],
    ['indexedErasureReceipts', 'provenance'],
    ['proposals', 'governance'],
    ['works', 'ip'],
    ['licences', 'licensing'],
    ['royalty-periods', 'licensing'],
    ['provenance-records', 'provenance'],
    ['dataset-access-grants', 'provenance'],
  ])('%s (a GraphQL root field or a REST path segment after /v1/index) is logged as a %s read', (name, kind) => {
    expect(kindsOf(['index', name])).toEqual([kind]);
  });
});
