import {
  agreementOrganisationReaderRoles,
  agreementReaderRoles,
  credentialOrganisationReaderRoles,
  credentialReaderRoles,
  governedRoles,
  grantCovers,
  roles,
  type AuditGrantRecord,
  type AuditRecordKind,
  type AuditScope,
  type Role,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, type RawBuilder, type SqlBool } from 'kysely';
import { scopesByRole, type Principal } from '../auth/principal.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { grantKit } from '../test-support/synthetic-grants.js';
import { openDatabase, reloadPlannerStatistics, sqliteHandleOf, type DatabaseSchema, type Db } from '../db/database.js';
import { ApiError } from '../errors/api-error.js';
import type { BlockContents } from '@gigledger/gateway';
import { BlockIndexer } from './block-indexer.js';
import { backfillAgreementDates, backfillSettlingOrganisations, refundPayeesToClients } from './index-schema.js';
import { keyAccessNode, payoutNode } from './index-nodes.js';
import { indexVisibility } from './index-visibility.js';
import { IndexQueries, pageSchema, totalsCache, transactionFilterSchema } from './index-queries.js';
import {
  agreementWrites,
  completionRecord,
  compositeKey,
  credentialRecord,
  milestoneRecord,
  syntheticBlock,
  syntheticTransaction,
  workRecord,
  type SyntheticAgreement,
} from './synthetic-blocks.js';

/*
 * The indexer and the queries on a real database (SQLite, and PostgreSQL when
 * GIGLEDGER_TEST_DATABASE_URL names a server), fed decoded blocks. The audit-index
 * end-to-end suite feeds it the real network's blocks.
 */

const backends = storageBackends('gl-ix');

const alice = { mspId: 'ClientOrgMSP', userId: 'alice' };
const carol = { mspId: 'ClientOrgMSP', userId: 'carol' };
const bob = { mspId: 'TalentOrgMSP', userId: 'bob' };
const dave = { mspId: 'TalentOrgMSP', userId: 'dave' };
const eve = { mspId: 'ClientOrgMSP', userId: 'eve.evaluator' };
const issuer = { mspId: 'AuditOrgMSP', userId: 'university' };
/** Every synthetic agreement names a ClientOrg client, so ClientOrg's HR system reads them all. */
const clientOrgHr = { mspId: 'ClientOrgMSP', userId: 'hr-1' };

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

const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString();
const firstPage = pageSchema.parse({});

/** 30 agreements: alice–bob (even) and carol–dave (odd); every third in USD; amounts rise by 1000. */
const agreements: SyntheticAgreement[] = Array.from({ length: 30 }, (_, index) => ({
  agreementId: `A-${String(index).padStart(2, '0')}`,
  client: index % 2 === 0 ? alice : carol,
  freelancer: index % 2 === 0 ? bob : dave,
  ...(index === 1 ? { evaluator: eve } : {}),
  amount: String(1000 * (index + 1)),
  currency: index % 3 === 0 ? 'USD' : 'EUR',
  at: day(index),
  txId: `tx-draft-${String(index)}`,
}));

/**
 * Block 0: the drafts (one per transaction) and an invalid transaction that must change
 * nothing; block 1: payouts on the first ten, a credential per freelancer, a completion.
 */
function chain(): BlockContents[] {
  return [
    syntheticBlock(0n, [
      ...agreements.map((spec, position) => syntheticTransaction(position, spec.txId, agreementWrites(spec))),
      syntheticTransaction(
        agreements.length,
        'tx-conflicted',
        agreementWrites({ ...agreements[0]!, status: 'cancelled', txId: 'tx-conflicted' }),
        { validationCode: 11, validationName: 'MVCC_READ_CONFLICT' },
      ),
    ]),
    syntheticBlock(1n, [
      ...agreements.slice(0, 10).map((spec, position) =>
        syntheticTransaction(
          position,
          `tx-release-${spec.agreementId}`,
          [
            [
              compositeKey('milestone', [spec.agreementId, 'm1']),
              milestoneRecord({
                ...spec,
                milestoneStatus: 'released',
                payout: position < 5 ? 'paid' : 'pending',
                // The last two as issued before the ledger named a settling organisation.
                ...(position < 8 ? { settlingOrganisation: position % 2 === 0 ? 'ClientOrgMSP' : 'TalentOrgMSP' } : {}),
                at: day(40 + position),
                txId: `tx-release-${spec.agreementId}`,
              }),
            ],
          ],
          { fn: 'agreement:releaseMilestone' },
        ),
      ),
      syntheticTransaction(10, 'tx-cred-bob', [
        [
          compositeKey('credential', ['C-bob']),
          credentialRecord({
            credentialId: 'C-bob',
            issuer,
            subject: bob,
            type: 'KYC',
            at: day(50),
            txId: 'tx-cred-bob',
          }),
        ],
      ]),
      syntheticTransaction(11, 'tx-cred-dave', [
        [
          compositeKey('credential', ['C-dave']),
          credentialRecord({ credentialId: 'C-dave', issuer, subject: dave, at: day(51), txId: 'tx-cred-dave' }),
        ],
      ]),
      syntheticTransaction(12, 'tx-rate', [
        [
          compositeKey('completion', [bob.mspId, bob.userId, 'A-00', 'm1']),
          completionRecord({ ...agreements[0]!, rating: 5, at: day(60), txId: 'tx-rate' }),
        ],
      ]),
    ]),
  ];
}

describe.each(backends)('audit index on $name', (backend) => {
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

  it('indexes every block and transaction, with the keys written, and records only from valid transactions', async () => {
    expect(await indexer.height()).toBe(2n);
    const transactions = await queries.transactions(
      principal('auditor'),
      { sort: 'BLOCK', validation: 'INVALID' },
      firstPage,
    );
    expect(transactions.edges.map((edge) => [edge.node.tx_id, edge.node.validation_name])).toEqual([
      ['tx-conflicted', 'MVCC_READ_CONFLICT'],
    ]);
    const agreement = await queries.agreements(
      principal('auditor'),
      { sort: 'CREATED_AT' },
      { ...firstPage, first: 1 },
    );
    expect(agreement.edges[0]?.node).toMatchObject({
      agreement_id: 'A-00',
      status: 'active',
      updated_tx_id: 'tx-draft-0',
    });
    const keys = await queries.transactionKeys(principal('auditor'), 0, 0);
    expect(keys.map((row) => keyAccessNode(row))).toEqual([
      expect.objectContaining({
        key: compositeKey('agreement', ['A-00']),
        keyParts: ['agreement', 'A-00'],
        access: 'write',
      }),
      expect.objectContaining({
        key: compositeKey('milestone', ['A-00', 'm1']),
        keyParts: ['milestone', 'A-00', 'm1'],
        access: 'write',
      }),
    ]);
    expect(
      await queries.blocks(principal('admin'), { sort: 'NUMBER' }, firstPage).then((page) => page.totalCount()),
    ).toBe(2);
  });

  it('reads the keys of several transactions, and the transactions of several blocks, in chain order up to a limit', async () => {
    const auditor = principal('auditor');
    const [first, second] = [
      await queries.transactionKeys(auditor, 0, 0),
      await queries.transactionKeys(auditor, 0, 1),
    ];
    const lastOfBlock0 = { blockNumber: 0, position: agreements.length - 1 };
    const both = await queries.keysOfTransactions(auditor, [
      lastOfBlock0,
      { blockNumber: 0, position: 1 },
      { blockNumber: 0, position: 0 },
    ]);
    expect(both.slice(0, 4)).toEqual([...first, ...second]);
    expect(both).toHaveLength(6);
    expect(
      await queries.keysOfTransactions(
        auditor,
        [
          { blockNumber: 0, position: 1 },
          { blockNumber: 0, position: 0 },
        ],
        3,
      ),
    ).toEqual([...first, ...second.slice(0, 1)]);
    expect(await queries.keysOfTransactions(auditor, [])).toEqual([]);
    const transactions = await queries.transactionsOfBlocks(auditor, [1, 0]);
    const order = transactions.map((row) => [Number(row.block_number), Number(row.position)]);
    expect(order).toEqual([...order].sort(([a, b], [c, d]) => (a ?? 0) - (c ?? 0) || (b ?? 0) - (d ?? 0)));
    expect(order.filter(([block]) => block === 0)).toHaveLength(agreements.length + 1);
    expect(await queries.transactionsOfBlocks(auditor, [1, 0], 2)).toEqual(transactions.slice(0, 2));
  });

  it('indexes only the next block: one already indexed is skipped, one beyond is refused, and a bad record leaves nothing', async () => {
    expect(await indexer.index(syntheticBlock(1n, []))).toBe('already-indexed');
    await expect(indexer.index(syntheticBlock(5n, []))).rejects.toThrow(
      'block 5 is not the next one: the index holds 2 blocks',
    );
    const broken = syntheticBlock(2n, [
      syntheticTransaction(0, 'tx-new', agreementWrites({ ...agreements[0]!, agreementId: 'A-new', txId: 'tx-new' })),
      syntheticTransaction(1, 'tx-broken', [[compositeKey('credential', ['C-broken']), { credentialId: 'C-broken' }]]),
    ]);
    await expect(indexer.index(broken)).rejects.toThrow();
    expect(await indexer.height()).toBe(2n);
    const after = await queries.agreements(principal('auditor'), { sort: 'CREATED_AT' }, firstPage);
    expect(await after.totalCount()).toBe(30);
    expect(
      await queries
        .blocks(principal('auditor'), { sort: 'NUMBER', fromBlock: 2 }, firstPage)
        .then((page) => page.edges),
    ).toEqual([]);
  });

  it('pages through a filtered listing by cursor, each row once, with the total and the indexed height', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await queries.agreements(
        principal('auditor'),
        { sort: 'CREATED_AT', currency: 'EUR' },
        { first: 7, direction: 'DESC', ...(after === undefined ? {} : { after }) },
      );
      expect(page.indexedHeight).toBe('2');
      expect(await page.totalCount()).toBe(20);
      seen.push(...page.edges.map((edge) => String(edge.node.agreement_id)));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? undefined;
    }
    const expected = agreements
      .filter((spec) => spec.currency === 'EUR')
      .map((spec) => spec.agreementId)
      .reverse();
    expect(seen).toEqual(expected);
  });

  it('filters payouts by status, currency and amount range in minor units, sorted by amount', async () => {
    const page = await queries.payouts(
      principal('auditor'),
      { sort: 'AMOUNT', currency: 'EUR', minAmount: '3000', maxAmount: '9000' },
      firstPage,
    );
    expect(page.edges.map((edge) => [edge.node.instruction_id, edge.node.amount, edge.node.status])).toEqual([
      ['A-02/m1/release-1', '3000', 'paid'],
      ['A-04/m1/release-1', '5000', 'paid'],
      ['A-05/m1/release-1', '6000', 'pending'],
      ['A-07/m1/release-1', '8000', 'pending'],
      ['A-08/m1/release-1', '9000', 'pending'],
    ]);
    const paidInUsd = await queries.payouts(
      principal('auditor'),
      { sort: 'AMOUNT', status: 'paid', currency: 'USD' },
      firstPage,
    );
    expect(paidInUsd.edges.map((edge) => edge.node.instruction_id)).toEqual(['A-00/m1/release-1', 'A-03/m1/release-1']);
    const byTime = await queries.milestones(
      principal('auditor'),
      { sort: 'DUE_DATE', from: day(13), to: day(15) },
      firstPage,
    );
    expect(byTime.edges.map((edge) => edge.node.agreement_id)).toEqual(['A-13', 'A-14']);
  });

  it('refuses a cursor it did not give, naming the field', async () => {
    await expect(
      queries.agreements(
        principal('auditor'),
        { sort: 'CREATED_AT' },
        { ...firstPage, after: 'bm90IGEgY3Vyc29y' },
        'query',
      ),
    ).rejects.toMatchObject({ status: 422, field: 'query.after' });
    // A real cursor of another listing, of another sort or direction of the same listing, and a forged one.
    const payoutCursor = (
      await queries.payouts(principal('hr', clientOrgHr), { sort: 'AMOUNT' }, { ...firstPage, first: 1 })
    ).pageInfo.endCursor;
    const byIdCursor = (
      await queries.agreements(principal('hr', clientOrgHr), { sort: 'AGREEMENT_ID' }, { ...firstPage, first: 1 })
    ).pageInfo.endCursor;
    const forged = Buffer.from(
      JSON.stringify([`ix_payouts/AMOUNT/${firstPage.direction}`, 'not a number', 'x']),
    ).toString('base64url');
    const reversed = firstPage.direction === 'ASC' ? 'DESC' : 'ASC';
    for (const [after, sort, direction] of [
      [payoutCursor, 'CREATED_AT', firstPage.direction],
      [byIdCursor, 'CREATED_AT', firstPage.direction],
      [byIdCursor, 'AGREEMENT_ID', reversed],
    ] as const) {
      const refused = queries.agreements(
        principal('hr', clientOrgHr),
        { sort },
        { ...firstPage, direction, after: after ?? '' },
        'query',
      );
      await expect(refused).rejects.toMatchObject({ status: 422, field: 'query.after' });
      await expect(refused).rejects.toThrow(/cursor of this listing, sort and direction/);
    }
    await expect(
      queries.payouts(principal('hr', clientOrgHr), { sort: 'AMOUNT' }, { ...firstPage, after: forged }, 'query'),
    ).rejects.toMatchObject({ status: 422, field: 'query.after' });
    // A cursor of the same listing and order asked under other filter values: paging from
    // it would answer a page of another listing (often an empty one, as if it had ended).
    const eurCursor = (
      await queries.agreements(
        principal('hr', clientOrgHr),
        { sort: 'CREATED_AT', currency: 'EUR' },
        { ...firstPage, first: 1 },
      )
    ).pageInfo.endCursor;
    expect(eurCursor).not.toBeNull();
    for (const [filter, field] of [
      [{ sort: 'CREATED_AT', currency: 'USD' }, 'query'],
      [{ sort: 'CREATED_AT' }, ''],
      [{ sort: 'CREATED_AT', currency: 'EUR', status: 'active' }, 'query'],
    ] as const) {
      const refused = queries.agreements(
        principal('hr', clientOrgHr),
        filter,
        { ...firstPage, after: eurCursor ?? '' },
        field,
      );
      const named = field === '' ? 'after' : 'query.after';
      await expect(refused).rejects.toMatchObject({ status: 422, code: 'VALIDATION_FAILED', field: named });
      await expect(refused).rejects.toThrow(/was given for other filter values/);
    }
    const next = await queries.agreements(
      principal('hr', clientOrgHr),
      { sort: 'CREATED_AT', currency: 'EUR' },
      { ...firstPage, after: eurCursor ?? '' },
      'query',
    );
    expect(next.edges.length).toBeGreaterThan(0);
    expect(transactionFilterSchema.safeParse({ sort: 'BLOCK', validation: 'NOPE' }).success).toBe(false);
    expect(transactionFilterSchema.safeParse({ sort: 'BLOCK', validation: 'MVCC_READ_CONFLICT' }).success).toBe(true);
  });

  it("refuses a cursor whose key values are not of their columns' types, rather than paging from the start", async () => {
    const decode = (cursor: string | null): unknown[] =>
      JSON.parse(Buffer.from(cursor ?? '', 'base64url').toString('utf8')) as unknown[];
    const encode = (values: readonly unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
    const created = await queries.agreements(
      principal('hr', clientOrgHr),
      { sort: 'CREATED_AT' },
      { ...firstPage, first: 3 },
    );
    const [tag, createdAt, agreementId] = decode(created.pageInfo.endCursor);
    const byAmount = await queries.payouts(
      principal('hr', clientOrgHr),
      { sort: 'AMOUNT' },
      { ...firstPage, first: 1 },
    );
    const [payoutTag, , instructionId] = decode(byAmount.pageInfo.endCursor);
    const blocks = await queries.transactions(principal('auditor'), { sort: 'BLOCK' }, { ...firstPage, first: 1 });
    const [blockTag, blockNumber] = decode(blocks.pageInfo.endCursor);
    const refusals: [string, () => Promise<unknown>][] = [
      // A number where the time belongs: SQL ranks it before every text, so the first row came back.
      [
        'time as number',
        () =>
          queries.agreements(
            principal('hr', clientOrgHr),
            { sort: 'CREATED_AT' },
            { ...firstPage, after: encode([tag, 0, agreementId]) },
            'query',
          ),
      ],
      // Text that is no instant: it sorts among real times and would page from where no row is.
      [
        'impossible time',
        () =>
          queries.agreements(
            principal('hr', clientOrgHr),
            { sort: 'CREATED_AT' },
            { ...firstPage, after: encode([tag, '2026-13-45T99:99:99Z', agreementId]) },
            'query',
          ),
      ],
      [
        'tiebreak as number',
        () =>
          queries.agreements(
            principal('hr', clientOrgHr),
            { sort: 'CREATED_AT' },
            { ...firstPage, after: encode([tag, createdAt, 7]) },
            'query',
          ),
      ],
      [
        'amount out of int64',
        () =>
          queries.payouts(
            principal('hr', clientOrgHr),
            { sort: 'AMOUNT' },
            { ...firstPage, after: encode([payoutTag, '99999999999999999999', instructionId]) },
            'query',
          ),
      ],
      // Another spelling of an amount the index never writes: a sign, leading zeros.
      [
        'negative amount',
        () =>
          queries.payouts(
            principal('hr', clientOrgHr),
            { sort: 'AMOUNT' },
            { ...firstPage, after: encode([payoutTag, '-5', instructionId]) },
            'query',
          ),
      ],
      [
        'amount with leading zeros',
        () =>
          queries.payouts(
            principal('hr', clientOrgHr),
            { sort: 'AMOUNT' },
            { ...firstPage, after: encode([payoutTag, '00087750', instructionId]) },
            'query',
          ),
      ],
      [
        'amount as fraction',
        () =>
          queries.payouts(
            principal('hr', clientOrgHr),
            { sort: 'AMOUNT' },
            { ...firstPage, after: encode([payoutTag, 1.5, instructionId]) },
            'query',
          ),
      ],
      [
        'position as text',
        () =>
          queries.transactions(
            principal('auditor'),
            { sort: 'BLOCK' },
            { ...firstPage, after: encode([blockTag, blockNumber, 'first']) },
            'query',
          ),
      ],
      [
        'position beyond 32 bits',
        () =>
          queries.transactions(
            principal('auditor'),
            { sort: 'BLOCK' },
            { ...firstPage, after: encode([blockTag, blockNumber, 2 ** 40]) },
            'query',
          ),
      ],
      // The same cursor with a character the base64url alphabet lacks, which the decoder would skip.
      [
        'not the exact encoding',
        () =>
          queries.agreements(
            principal('hr', clientOrgHr),
            { sort: 'CREATED_AT' },
            { ...firstPage, after: `${created.pageInfo.endCursor ?? ''}!` },
            'query',
          ),
      ],
    ];
    for (const [name, refused] of refusals) {
      const outcome = await refused().then(
        () => 'accepted',
        (error: unknown) => (error instanceof ApiError ? [error.status, error.field] : error),
      );
      expect([name, outcome]).toEqual([name, [422, 'query.after']]);
    }
    // The cursor as given still pages on.
    const next = await queries.agreements(
      principal('hr', clientOrgHr),
      { sort: 'CREATED_AT' },
      { ...firstPage, first: 3, after: encode([tag, createdAt, agreementId]) },
      'query',
    );
    expect(next.edges[0]?.node.agreement_id).not.toBe(created.edges[0]?.node.agreement_id);
  });

  it('answers any string sent as a cursor with a page after it or a 422 naming the field, never another error or the first page', async () => {
    const [tag] = JSON.parse(
      Buffer.from(
        (await queries.agreements(principal('hr', clientOrgHr), { sort: 'CREATED_AT' }, { ...firstPage, first: 1 }))
          .pageInfo.endCursor ?? '',
        'base64url',
      ).toString('utf8'),
    ) as [string];
    const first = await queries.agreements(
      principal('hr', clientOrgHr),
      { sort: 'CREATED_AT' },
      { ...firstPage, first: 1 },
    );
    const firstId = first.edges[0]?.node.agreement_id;
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.bigInt().map(String),
    );
    const cursor = fc.oneof(
      fc.string(),
      fc.base64String(),
      fc.array(value, { maxLength: 5 }).map((values) => Buffer.from(JSON.stringify(values)).toString('base64url')),
      // Our own listing's tag with arbitrary key values: the forgeries that come closest.
      fc
        .array(value, { maxLength: 3 })
        .map((values) => Buffer.from(JSON.stringify([tag, ...values])).toString('base64url')),
    );
    await fc.assert(
      fc.asyncProperty(cursor, async (after) => {
        const outcome: { accepted: unknown } | { refused: unknown } = await queries
          .agreements(principal('hr', clientOrgHr), { sort: 'CREATED_AT' }, { ...firstPage, first: 1, after }, 'query')
          .then(
            (page) => ({ accepted: page.edges[0]?.node.agreement_id }),
            (error: unknown) => ({ refused: error instanceof ApiError ? [error.status, error.field] : error }),
          );
        if ('accepted' in outcome) {
          // Only a cursor of this listing with text key values is taken, and it seeks past its own key.
          const [, createdAt, agreementId] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown[];
          expect([typeof createdAt, typeof agreementId]).toEqual(['string', 'string']);
          if (outcome.accepted !== undefined && String(createdAt) > String(first.edges[0]?.node.created_at)) {
            expect(outcome.accepted).not.toBe(firstId);
          }
        } else {
          expect(outcome.refused).toEqual([422, 'query.after']);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers every role exactly the agreements, payouts and credentials the chaincode lets it read', async () => {
    const people: Record<string, { mspId: string; userId: string }> = {
      alice,
      bob,
      carol,
      dave,
      eve,
      university: issuer,
    };
    for (const role of roles) {
      for (const [name, who] of Object.entries(people)) {
        const caller = principal(role, who);
        const expectAgreements = agreements
          .filter(
            (spec) =>
              (agreementReaderRoles.includes(role) &&
                !agreementOrganisationReaderRoles.includes(role) &&
                !(governedRoles as readonly string[]).includes(role)) ||
              [spec.client, spec.freelancer, spec.evaluator].some(
                (party) =>
                  party?.mspId === who.mspId &&
                  (party.userId === who.userId || agreementOrganisationReaderRoles.includes(role)),
              ),
          )
          .map((spec) => spec.agreementId);
        if (caller.scopes.includes('agreements:read')) {
          const page = await queries.agreements(caller, { sort: 'AGREEMENT_ID' }, { ...firstPage, first: 100 });
          expect([role, name, page.edges.map((edge) => edge.node.agreement_id)]).toEqual([
            role,
            name,
            expectAgreements,
          ]);
          const payouts = await queries.payouts(caller, { sort: 'REQUESTED_AT' }, { ...firstPage, first: 100 });
          expect(payouts.edges.every((edge) => expectAgreements.includes(String(edge.node.agreement_id)))).toBe(true);
        } else {
          await expect(queries.agreements(caller, { sort: 'AGREEMENT_ID' }, firstPage)).rejects.toBeInstanceOf(
            ApiError,
          );
        }
        if (caller.scopes.includes('credentials:read')) {
          const expectCredentials = [
            { id: 'C-bob', subject: bob },
            { id: 'C-dave', subject: dave },
          ]
            .filter(
              (credential) =>
                credentialReaderRoles.includes(role) ||
                [credential.subject, issuer].some(
                  (party) =>
                    party.mspId === who.mspId &&
                    (party.userId === who.userId || credentialOrganisationReaderRoles.includes(role)),
                ),
            )
            .map((credential) => credential.id);
          const page = await queries.credentials(caller, { sort: 'ISSUED_AT' }, firstPage);
          expect([role, name, page.edges.map((edge) => edge.node.credential_id)]).toEqual([
            role,
            name,
            expectCredentials,
          ]);
        }
        const explorer = queries.transactions(caller, { sort: 'BLOCK' }, firstPage);
        if (role === 'auditor') expect((await explorer).edges.length).toBeGreaterThan(0);
        else if (role === 'admin') {
          // An admin sees its own organisation's transactions, as its proofs.
          const creators = (await explorer).edges.map((edge) => edge.node.creator_msp);
          expect(creators.every((creator) => creator === who.mspId)).toBe(true);
        } else await expect(explorer).rejects.toMatchObject({ status: 403 });
      }
    }
  });

  it("scopes an auditor to their live grants as the chaincode does: the grantor's records of the kinds named, dated within the range", async () => {
    const auditor = principal('auditor');
    const { grant, scopeOf } = grantKit(auditor.mspId, { grantedAt: day(0), expiresAt: day(400), asOf: day(100) });
    const allRows = { ...firstPage, first: 100 };

    // Agreements of ClientOrg created in [day 10, day 20), with their payouts; no credentials, no explorer.
    // The range is given without milliseconds, as people write it.
    const agreementGrant = grant('G-1', 'ClientOrgMSP', ['agreement'], {
      from: day(10).replace('.000Z', 'Z'),
      to: day(20).replace('.000Z', 'Z'),
    });
    const scoped = new IndexQueries(db, () => Promise.resolve(scopeOf([agreementGrant])));
    const visible = await scoped.agreements(auditor, { sort: 'AGREEMENT_ID' }, allRows);
    const expected = agreements.slice(10, 20).map((spec) => spec.agreementId);
    expect(visible.edges.map((edge) => edge.node.agreement_id)).toEqual(expected);
    const agreementIdsOf = (page: Awaited<ReturnType<IndexQueries['payouts']>>) =>
      page.edges.map((edge) => String(edge.node.agreement_id));
    const everyPayout = agreementIdsOf(
      await queries.payouts(principal('hr', clientOrgHr), { sort: 'REQUESTED_AT' }, allRows),
    );
    expect(agreementIdsOf(await scoped.payouts(auditor, { sort: 'REQUESTED_AT' }, allRows))).toEqual(
      everyPayout.filter((agreementId) => expected.includes(agreementId)),
    );
    const milestones = await scoped.milestones(auditor, { sort: 'DUE_DATE' }, allRows);
    expect(new Set(agreementIdsOf(milestones))).toEqual(new Set(expected));
    expect((await scoped.credentials(auditor, { sort: 'ISSUED_AT' }, allRows)).edges).toEqual([]);
    expect((await scoped.transactions(auditor, { sort: 'BLOCK' }, allRows)).edges).toEqual([]);

    // A grant from another organisation opens nothing of ClientOrg's; a credential grant opens
    // the credentials its organisation is subject or issuer of; a transaction grant, the
    // transactions its organisation's members created.
    const elsewhere = new IndexQueries(db, () =>
      Promise.resolve(
        scopeOf([
          grant('G-2', 'AuditOrgMSP', ['agreement']),
          grant('G-3', 'TalentOrgMSP', ['credential']),
          grant('G-4', 'ClientOrgMSP', ['transaction']),
        ]),
      ),
    );
    expect((await elsewhere.agreements(auditor, { sort: 'AGREEMENT_ID' }, allRows)).edges).toEqual([]);
    expect(
      (await elsewhere.credentials(auditor, { sort: 'ISSUED_AT' }, allRows)).edges.map(
        (edge) => edge.node.credential_id,
      ),
    ).toEqual(['C-bob', 'C-dave']);
    const creators = async (lookup: IndexQueries, caller: Principal) =>
      (await lookup.transactions(caller, { sort: 'BLOCK' }, allRows)).edges.map((edge) => edge.node.creator_msp);
    // Without a grant lookup the index answers as an operator's tool: every transaction.
    const everyCreator = await creators(queries, principal('auditor'));
    expect(await creators(queries, principal('admin', alice))).toEqual(
      everyCreator.filter((msp) => msp === 'ClientOrgMSP'),
    );
    expect(await creators(queries, principal('admin', alice))).not.toEqual([]);
    expect(await creators(elsewhere, auditor)).toEqual(everyCreator.filter((msp) => msp === 'ClientOrgMSP'));
    expect(await creators(elsewhere, auditor)).not.toEqual([]);
    // A transaction grant from an organisation that created none opens neither others' transactions nor their blocks.
    const ownOnly = new IndexQueries(db, () =>
      Promise.resolve(scopeOf([grant('G-5', 'AuditOrgMSP', ['transaction'])])),
    );
    expect(await creators(ownOnly, auditor)).toEqual(everyCreator.filter((msp) => msp === 'AuditOrgMSP'));
    expect(await (await ownOnly.blocks(auditor, { sort: 'NUMBER' }, allRows)).totalCount()).toBe(0);
    const clientTransaction = (await queries.transactions(principal('admin', alice), { sort: 'BLOCK' }, allRows))
      .edges[0]?.node;
    expect(
      await ownOnly.transactionKeys(
        auditor,
        Number(clientTransaction?.block_number),
        Number(clientTransaction?.position),
      ),
    ).toEqual([]);
    expect(
      (
        await elsewhere.transactionKeys(
          auditor,
          Number(clientTransaction?.block_number),
          Number(clientTransaction?.position),
        )
      ).length,
    ).toBeGreaterThan(0);

    // No live grant: nothing but what names the auditor; other roles are not limited by grants.
    const none = new IndexQueries(db, (caller) => Promise.resolve(caller.role === 'auditor' ? scopeOf([]) : undefined));
    expect((await none.agreements(auditor, { sort: 'AGREEMENT_ID' }, allRows)).edges).toEqual([]);
    expect(
      await (await none.agreements(principal('hr', clientOrgHr), { sort: 'AGREEMENT_ID' }, allRows)).totalCount(),
    ).toBe(30);
  });

  it('gives an auditor holding any set of grants the agreements, milestones and payouts some grant covers, as grantCovers decides', async () => {
    const auditor = principal('auditor');
    const allRows = { ...firstPage, first: 100 };
    const everyPayout = (
      await queries.payouts(principal('hr', clientOrgHr), { sort: 'REQUESTED_AT' }, allRows)
    ).edges.map((edge) => String(edge.node.agreement_id));
    const everyMilestone = (
      await queries.milestones(principal('hr', clientOrgHr), { sort: 'DUE_DATE' }, allRows)
    ).edges.map((edge) => String(edge.node.agreement_id));
    const bound = fc.option(fc.integer({ min: 0, max: 32 }).map(day), { nil: undefined });
    const grantArbitrary = fc.record({
      organisation: fc.constantFrom('ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'),
      kinds: fc.subarray(['agreement', 'credential', 'transaction'] as AuditRecordKind[]),
      from: bound,
      to: bound,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(grantArbitrary, { maxLength: 4 }), async (drawn) => {
        const grants: AuditGrantRecord[] = drawn.map(({ organisation, kinds, from, to }, index) => ({
          grantId: `G-${String(index)}`,
          organisation,
          auditor: { mspId: auditor.mspId },
          kinds,
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          expiresAt: day(400),
          purpose: 'Statutory audit',
          grantedBy: { mspId: organisation, userId: 'admin-1' },
          grantedAt: day(0),
          txId: `tx-G-${String(index)}`,
          status: 'active',
          updatedAt: day(0),
          updatedTxId: `tx-G-${String(index)}`,
        }));
        const scope: AuditScope = {
          auditor: { mspId: auditor.mspId },
          asOf: day(100),
          grants,
          organisations: [...new Set(grants.map((each) => each.organisation))],
          kinds: [...new Set(grants.flatMap((each) => each.kinds))],
        };
        const covered = agreements
          .filter((spec) =>
            grants.some((grant) =>
              grantCovers(grant, {
                kind: 'agreement',
                organisations: [spec.client.mspId, spec.freelancer.mspId],
                at: spec.at,
              }),
            ),
          )
          .map((spec) => spec.agreementId);
        const scoped = new IndexQueries(db, () => Promise.resolve(scope));
        const agreementPage = await scoped.agreements(auditor, { sort: 'AGREEMENT_ID' }, allRows);
        expect(agreementPage.edges.map((edge) => edge.node.agreement_id)).toEqual(covered);
        expect(await agreementPage.totalCount()).toBe(covered.length);
        const milestonePage = await scoped.milestones(auditor, { sort: 'DUE_DATE' }, allRows);
        expect(milestonePage.edges.map((edge) => String(edge.node.agreement_id))).toEqual(
          everyMilestone.filter((agreementId) => covered.includes(agreementId)),
        );
        const payoutPage = await scoped.payouts(auditor, { sort: 'REQUESTED_AT' }, allRows);
        expect(payoutPage.edges.map((edge) => String(edge.node.agreement_id))).toEqual(
          everyPayout.filter((agreementId) => covered.includes(agreementId)),
        );
        expect(await payoutPage.totalCount()).toBe(everyPayout.filter((id) => covered.includes(id)).length);
      }),
      { numRuns: 40 },
    );
  });

  it('keeps reputation records readable to every reader, by subject', async () => {
    const page = await queries.reputation(
      principal('hr', clientOrgHr),
      { sort: 'RECORDED_AT', subject: bob },
      firstPage,
    );
    expect(page.edges.map((edge) => [edge.node.kind, edge.node.rating, edge.node.agreement_id])).toEqual([
      ['completion', 5, 'A-00'],
    ]);
  });

  it("dates each milestone and payout by its agreement's creation, and gives rows indexed before that column their date", async () => {
    const dates = async () => ({
      milestones: await db
        .selectFrom('ix_milestones as m')
        .innerJoin('ix_agreements as a', 'a.agreement_id', 'm.agreement_id')
        .select(['m.agreement_id', 'm.agreement_created_at', 'a.created_at'])
        .orderBy('m.agreement_id')
        .execute(),
      payouts: await db
        .selectFrom('ix_payouts as p')
        .innerJoin('ix_agreements as a', 'a.agreement_id', 'p.agreement_id')
        .select(['p.instruction_id', 'p.agreement_created_at', 'a.created_at'])
        .orderBy('p.instruction_id')
        .execute(),
    });
    const indexed = await dates();
    expect(indexed.payouts).toHaveLength(10);
    for (const row of [...indexed.milestones, ...indexed.payouts])
      expect(row.agreement_created_at).toBe(row.created_at);
    // As a database indexed before the column holds them after it was added: empty.
    await db.updateTable('ix_milestones').set({ agreement_created_at: '' }).execute();
    await db.updateTable('ix_payouts').set({ agreement_created_at: '' }).execute();
    await backfillAgreementDates(db as unknown as Kysely<unknown>);
    expect(await dates()).toEqual(indexed);
  });

  it('filters payouts by the organisation whose settlement service sends them, over its own column, which a migration fills for older rows', async () => {
    const settledBy = async (settlingOrganisation: string) =>
      (
        await queries.payouts(principal('auditor'), { sort: 'REQUESTED_AT', settlingOrganisation }, firstPage)
      ).edges.map((edge) => edge.node.instruction_id);
    expect(await settledBy('TalentOrgMSP')).toEqual(
      ['A-01', 'A-03', 'A-05', 'A-07'].map((agreementId) => `${agreementId}/m1/release-1`),
    );
    expect(await settledBy('AuditOrgMSP')).toEqual([]);
    const all = await queries.payouts(principal('auditor'), { sort: 'REQUESTED_AT' }, firstPage);
    expect(all.edges.map((edge) => payoutNode(edge.node).settlingOrganisation)).toEqual([
      ...Array.from({ length: 4 }, () => ['ClientOrgMSP', 'TalentOrgMSP']).flat(),
      null,
      null,
    ]);
    const columns = async () =>
      db
        .selectFrom('ix_payouts')
        .select(['instruction_id', 'settling_organisation'])
        .orderBy('instruction_id')
        .execute();
    const indexed = await columns();
    // As a database indexed before the column existed: empty, until the migration's backfill.
    await db.updateTable('ix_payouts').set({ settling_organisation: null }).execute();
    await backfillSettlingOrganisations(db as unknown as Kysely<unknown>);
    expect(await columns()).toEqual(indexed);
  });

  it('empties for a rebuild, and indexing the same blocks again gives the same rows', async () => {
    const snapshot = async () => ({
      payouts: await db
        .selectFrom('ix_payouts')
        .select(['instruction_id', 'status'])
        .orderBy('instruction_id')
        .execute(),
      milestones: await db
        .selectFrom('ix_milestones')
        .select(['agreement_id', 'status', 'updated_tx_id'])
        .orderBy('agreement_id')
        .execute(),
      transactions: await db
        .selectFrom('ix_transactions')
        .select(['tx_id', 'block_number', 'position'])
        .orderBy('block_number')
        .orderBy('position')
        .execute(),
    });
    const before = await snapshot();
    expect(before.payouts).toHaveLength(10);
    await indexer.clear();
    expect(await indexer.height()).toBe(0n);
    expect(await db.selectFrom('ix_agreements').selectAll().execute()).toEqual([]);
    for (const block of chain()) await indexer.index(block);
    expect(await snapshot()).toEqual(before);
  });

  it('names the client as the payee of a refund (the record names the freelancer as payee whichever way money moves), also for rows indexed before', async () => {
    const spec = agreements[2]!;
    const cancelled = milestoneRecord({ ...spec, milestoneStatus: 'refunding', at: day(60), txId: 'tx-cancel-A-02' });
    const refund: SettlementInstruction = {
      instructionId: `${spec.agreementId}/m1/refund-1`,
      kind: 'refund',
      cause: 'cancellation',
      agreementId: spec.agreementId,
      milestoneId: 'm1',
      payer: spec.client,
      payee: spec.freelancer,
      amount: cancelled.amount,
      platformFee: '0',
      currency: cancelled.currency,
      status: 'pending',
      requestedAt: day(60),
      requestTxId: 'tx-cancel-A-02',
    };
    await indexer.index(
      syntheticBlock(2n, [
        syntheticTransaction(
          0,
          'tx-cancel-A-02',
          [[compositeKey('milestone', [spec.agreementId, 'm1']), { ...cancelled, instructions: [refund] }]],
          { fn: 'agreement:cancelAgreement' },
        ),
      ]),
    );
    const refunds = async () =>
      (await queries.payouts(principal('auditor'), { kind: 'refund', sort: 'REQUESTED_AT' }, firstPage)).edges.map(
        (edge) => payoutNode(edge.node),
      );
    const [indexed] = await refunds();
    expect(indexed).toMatchObject({ kind: 'refund', amount: '3000', client: alice, payee: alice });
    expect((indexed?.record as { payee: unknown }).payee).toEqual(bob);
    // As an index filled before the payee of a refund was its client holds it: the freelancer.
    await db
      .updateTable('ix_payouts')
      .set({ payee_msp: bob.mspId, payee_user: bob.userId })
      .where('kind', '=', 'refund')
      .execute();
    await refundPayeesToClients(db as unknown as Kysely<unknown>);
    // The nodes' read-log hook is a function of each row: compare what they serialise to.
    expect(JSON.stringify(await refunds())).toBe(JSON.stringify([indexed]));
  });
});

describe.each(backends)('a block written as one batch on $name', (backend) => {
  const spec: SyntheticAgreement = {
    agreementId: 'B-1',
    client: alice,
    freelancer: bob,
    at: day(1),
    txId: 'tx-b-draft',
  };
  const step = (txId: string, n: number, payout: 'pending' | 'paid', owners: string[]) =>
    [
      [
        compositeKey('milestone', ['B-1', 'm1']),
        milestoneRecord({ ...spec, milestoneStatus: 'released', payout, at: day(n), txId }),
      ],
      [
        compositeKey('credential', ['C-b']),
        credentialRecord({ credentialId: 'C-b', issuer, subject: bob, at: day(n), txId }),
      ],
      [
        compositeKey('ipWork', ['W-b']),
        workRecord({
          workId: 'W-b',
          owners: owners.map((userId, index) => ({
            party: { mspId: 'TalentOrgMSP', userId },
            shareBps: index === 0 ? 10_000 - 1_000 * (owners.length - 1) : 1_000,
          })),
          registeredAt: day(1),
          at: day(n),
          txId,
        }),
      ],
    ] as const;
  /** A draft, then the same milestone, credential and work written again twice (payouts and owners replaced). */
  const transactions = [
    syntheticTransaction(0, 'tx-b-draft', agreementWrites(spec)),
    syntheticTransaction(1, 'tx-b-2', step('tx-b-2', 2, 'pending', ['bob', 'dave'])),
    syntheticTransaction(2, 'tx-b-3', step('tx-b-3', 3, 'paid', ['dave'])),
  ];
  const domainRows = (db: Db) =>
    Promise.all(
      (['ix_agreements', 'ix_milestones', 'ix_payouts', 'ix_credentials', 'ix_works', 'ix_work_owners'] as const).map(
        async (table) =>
          (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows
            // The block number differs between the two chains by construction.
            .map(({ updated_block: _block, ...row }) => row)
            .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      ),
    );

  it('gives the rows one block per transaction gives: the last write of a key stands, and a row finds what an earlier write of its block made', async () => {
    const one = await backend.open();
    const each = await backend.open();
    const oneDb = await openDatabase(one.database);
    const eachDb = await openDatabase(each.database);
    try {
      await new BlockIndexer(oneDb, { chaincode: 'gigledger' }).index(syntheticBlock(0n, transactions));
      const perTransaction = new BlockIndexer(eachDb, { chaincode: 'gigledger' });
      for (const [number, tx] of transactions.entries()) {
        await perTransaction.index(syntheticBlock(BigInt(number), [{ ...tx, position: 0 }]));
      }
      const rows = await domainRows(oneDb);
      expect(rows).toEqual(await domainRows(eachDb));
      const [, milestones, payouts, credentials, , owners] = rows;
      expect(milestones).toEqual([expect.objectContaining({ client_user: 'alice', updated_tx_id: 'tx-b-3' })]);
      expect(payouts).toEqual([expect.objectContaining({ status: 'paid', client_user: 'alice' })]);
      expect(credentials).toEqual([expect.objectContaining({ updated_tx_id: 'tx-b-3' })]);
      expect(owners).toEqual([expect.objectContaining({ owner_user: 'dave', share_bps: 10_000 })]);
    } finally {
      await oneDb.destroy();
      await eachDb.destroy();
      await one.drop();
      await each.drop();
    }
  });
});

describe('the total of an index listing', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-ix-count-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is counted only when asked for: a page whose query does not select totalCount runs no count', async () => {
    const file = path.join(dir, 'count.sqlite');
    const indexed = await openDatabase({ kind: 'sqlite', file });
    await new BlockIndexer(indexed, { chaincode: 'gigledger' }).index(chain()[0]!);
    await indexed.destroy();
    const statements: string[] = [];
    const db = new Kysely<DatabaseSchema>({
      dialect: new SqliteDialect({ database: new SQLite(file) }),
      log: (event) => {
        statements.push(event.query.sql);
      },
    });
    try {
      const page = await new IndexQueries(db).agreements(principal('auditor'), { sort: 'CREATED_AT' }, firstPage);
      expect(page.edges.length).toBeGreaterThan(0);
      expect(statements.filter((text) => text.includes('count('))).toEqual([]);
      // More rows than the page: the total is not the page's length.
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(await page.totalCount()).toBeGreaterThan(page.edges.length);
      expect(statements.filter((text) => text.includes('count('))).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });
});

describe('audit index query planning on SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-ix-plan-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-reads the planner statistics another connection renewed, so a connection opened on a small index plans for the grown one', async () => {
    const file = path.join(dir, 'statistics.sqlite');
    const writer = await openDatabase({ kind: 'sqlite', file });
    const opened: Db[] = [writer];
    try {
      const indexer = new BlockIndexer(writer, { chaincode: 'gigledger' });
      const block = (number: number, transactions: number) =>
        syntheticBlock(
          BigInt(number),
          Array.from({ length: transactions }, (_, position) => {
            const id = `tx-${String(number)}-${String(position)}`;
            const keys = Array.from({ length: 13 }, (_, key): [string, unknown] => [
              compositeKey('note', [id, String(key)]),
              { id },
            ]);
            return syntheticTransaction(position, id, keys, { fn: 'note:write' });
          }),
        );
      // The first block's statistics (one transaction) are what a worker opened now reads.
      await indexer.index(block(0, 1));
      const reader = await openDatabase({ kind: 'sqlite', file });
      opened.push(reader);
      for (let number = 1; number <= 100; number += 1) await indexer.index(block(number, 30));
      // A page's transaction keys, as the explorer reads them for an organisation's admin.
      const keysOfPage =
        'select * from "ix_tx_keys" where exists (select 1 from ix_transactions where ' +
        'ix_transactions.block_number = ix_tx_keys.block_number and ix_transactions.position = ix_tx_keys.position ' +
        'and "creator_msp" = ?) and ("block_number", "position") in ((?, ?), (?, ?)) order by "block_number", "position", "seq"';
      const plan = (db: Db) =>
        (
          sqliteHandleOf(db)!.prepare(`explain query plan ${keysOfPage}`).all('ClientOrgMSP', 5, 1, 6, 2) as {
            detail: string;
          }[]
        ).map((row) => row.detail);
      const transactionsLookedUp = expect.arrayContaining([
        expect.stringMatching(/^SEARCH ix_transactions EXISTS USING INDEX/) as unknown,
      ]) as unknown;
      expect(plan(writer)).toEqual(transactionsLookedUp);
      expect(plan(reader)).toContain('SCAN ix_transactions EXISTS');
      reloadPlannerStatistics(sqliteHandleOf(reader)!);
      expect(plan(reader)).toEqual(transactionsLookedUp);
    } finally {
      for (const db of opened) await db.destroy();
    }
  });

  it("writes a block within one turn of the event loop, so SQLite's write lock is never held while the process does other work", async () => {
    // The API's other requests and the read log's appends wait for that lock (another
    // worker's appends without stopping; see read-log.ts): a block's transaction that
    // awaited I/O would hold it across their turns.
    const db = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'turns.sqlite') });
    try {
      const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
      for (let block = 0; block < 3; block += 1) {
        let turns = 0;
        let indexing = true;
        const countTurn = (): void => {
          if (!indexing) return;
          turns += 1;
          setImmediate(countTurn);
        };
        setImmediate(countTurn);
        const transactions = agreements.map((spec, position) =>
          syntheticTransaction(
            position,
            `${spec.txId}-${String(block)}`,
            agreementWrites({ ...spec, agreementId: `${spec.agreementId}-${String(block)}` }),
          ),
        );
        expect(await indexer.index(syntheticBlock(BigInt(block), transactions))).toBe('indexed');
        indexing = false;
        expect(turns).toBe(0);
      }
    } finally {
      await db.destroy();
    }
  });

  it('keeps planner statistics as it grows, so an auditor without grants is answered from the party indexes, and under a grant a range and its count from one covering index', async () => {
    const file = path.join(dir, 'plan.sqlite');
    const db = await openDatabase({ kind: 'sqlite', file });
    try {
      const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
      const auditor = principal('auditor');
      const perBlock = 40;
      const specs: SyntheticAgreement[] = [];
      for (let block = 0; block <= 50; block += 1) {
        const transactions = Array.from({ length: perBlock }, (_, position) => {
          const n = block * perBlock + position;
          const spec: SyntheticAgreement = {
            agreementId: `P-${String(n).padStart(5, '0')}`,
            // The auditor is the client of a few, as an auditor may contract too.
            client:
              n % 97 === 0
                ? { mspId: auditor.mspId, userId: auditor.userId }
                : { mspId: 'ClientOrgMSP', userId: `client-${String(n % 50)}` },
            freelancer: { mspId: 'TalentOrgMSP', userId: `talent-${String(n % 80)}` },
            status: n % 2 === 0 ? 'active' : 'offered',
            currency: n % 4 === 1 ? 'USD' : 'EUR',
            amount: String(100 + ((n * 7919) % 100_000)),
            ...(n % 3 === 0
              ? { milestoneStatus: 'released' as const, payout: n % 9 === 0 ? ('paid' as const) : ('pending' as const) }
              : {}),
            at: day(n % 365),
            txId: `tx-plan-${String(n)}`,
          };
          specs.push(spec);
          return syntheticTransaction(position, spec.txId, agreementWrites(spec), { at: spec.at });
        });
        await indexer.index(syntheticBlock(BigInt(block), transactions));
      }
      const statistics = await sql<{ idx: string }>`select idx from sqlite_stat1 where tbl = 'ix_agreements'`.execute(
        db,
      );
      expect(statistics.rows.map((row) => row.idx)).toContain('ix_agreements_visible_by_client');

      // No grant: of the agreements the auditor reads only their own.
      const scope: AuditScope = {
        auditor: { mspId: auditor.mspId },
        asOf: day(100),
        grants: [],
        organisations: [],
        kinds: [],
      };
      // The conditions as the API writes them for SQLite (`IndexQueries` does so by itself).
      const onSqlite = { sqlite: true } as const;
      const visible = indexVisibility(auditor, 'agreements', scope, onSqlite);
      const query = db
        .selectFrom('ix_agreements')
        .selectAll()
        .where(
          sql<SqlBool>`${visible} and status = ${'active'} and created_at >= ${day(90)} and created_at < ${day(181)}`,
        )
        .orderBy('created_at')
        .limit(21)
        .compile();
      const sqlite = new SQLite(file, { readonly: true });
      const explain = (compiled: { sql: string; parameters: readonly unknown[] }) =>
        sqlite
          .prepare(`explain query plan ${compiled.sql}`)
          .all(...compiled.parameters)
          .map((row) => (row as { detail: string }).detail)
          .join('\n');
      try {
        const details = explain(query);
        expect(details).toContain('ix_agreements_visible_by_client');
        expect(details).not.toContain('ix_agreements_visible_by_status');
        // Under a grant with a time range, the common range filters are answered from one
        // covering index: a page and its count read neither the table's rows nor, for a
        // milestone or payout, its agreement (the rows keep the agreement's date).
        const grantedScope: AuditScope = {
          ...scope,
          grants: [
            {
              grantId: 'G-plan',
              organisation: 'ClientOrgMSP',
              auditor: { mspId: auditor.mspId },
              kinds: ['agreement'],
              from: day(0),
              to: day(300),
              expiresAt: day(400),
              purpose: 'Statutory audit',
              grantedBy: { mspId: 'ClientOrgMSP', userId: 'admin-1' },
              grantedAt: day(0),
              txId: 'tx-G-plan',
              status: 'active',
              updatedAt: day(0),
              updatedTxId: 'tx-G-plan',
            },
          ],
          organisations: ['ClientOrgMSP'],
          kinds: ['agreement'],
        };
        const count = (
          table: 'ix_agreements' | 'ix_milestones' | 'ix_payouts',
          kind: 'agreements' | 'milestones' | 'payouts',
          filter: RawBuilder<SqlBool>,
        ) =>
          explain(
            db
              .selectFrom(table)
              .select(sql<number>`count(*)`.as('total'))
              .where(sql<SqlBool>`${indexVisibility(auditor, kind, grantedScope, onSqlite)} and ${filter}`)
              .compile(),
          );
        const plans: [string, string][] = [
          [
            count(
              'ix_agreements',
              'agreements',
              sql<SqlBool>`status = ${'active'} and created_at >= ${day(90)} and created_at < ${day(181)}`,
            ),
            'USING COVERING INDEX ix_agreements_visible_by_status',
          ],
          [
            count('ix_agreements', 'agreements', sql<SqlBool>`created_at >= ${day(90)} and created_at < ${day(181)}`),
            'USING COVERING INDEX ix_agreements_visible_by_created',
          ],
          [
            count('ix_payouts', 'payouts', sql<SqlBool>`currency = ${'EUR'} and amount_minor >= ${50_000}`),
            'USING COVERING INDEX ix_payouts_visible_by_currency',
          ],
          [
            count('ix_payouts', 'payouts', sql<SqlBool>`status = ${'paid'}`),
            'USING COVERING INDEX ix_payouts_visible_by_status',
          ],
          [
            count('ix_milestones', 'milestones', sql<SqlBool>`currency = ${'EUR'} and amount_minor >= ${50_000}`),
            'USING COVERING INDEX ix_milestones_visible_by_currency',
          ],
          [
            count('ix_milestones', 'milestones', sql<SqlBool>`status = ${'released'}`),
            'USING COVERING INDEX ix_milestones_visible_by_status',
          ],
        ];
        // Every plan that misses its covering index, or still visits the agreements.
        expect(
          plans.filter(
            ([plan, index]) => !plan.includes(index) || plan.includes('CORRELATED') || plan.includes('LIST SUBQUERY'),
          ),
        ).toEqual([]);
        // The page of a range is the same index in sort order: no sort step, no scan.
        const page = explain(
          db
            .selectFrom('ix_agreements')
            .selectAll()
            .where(
              sql<SqlBool>`${indexVisibility(auditor, 'agreements', grantedScope, onSqlite)} and status = ${'active'} and created_at >= ${day(90)} and created_at < ${day(181)}`,
            )
            .orderBy(sql`created_at asc, agreement_id asc`)
            .limit(21)
            .compile(),
        );
        expect(page).toContain('ix_agreements_visible_by_status');
        expect(page).not.toContain('TEMP B-TREE');
        // A party's listing under grants: each arm of "client or freelancer or evaluator"
        // (and payee, for payouts) counts from its party index alone, never the table.
        const someone = { mspId: 'ClientOrgMSP', userId: 'client-7' };
        const partyArms = (...parties: string[]) =>
          sql<SqlBool>`(${sql.join(
            parties.map(
              (party) =>
                sql`(${sql.ref(`${party}_msp`)} = ${someone.mspId} and ${sql.ref(`${party}_user`)} = ${someone.userId})`,
            ),
            sql` or `,
          )})`;
        const agreementArms = ['client', 'freelancer', 'evaluator'];
        const partyPlans: [string, string[]][] = [
          [
            count('ix_agreements', 'agreements', partyArms(...agreementArms)),
            agreementArms.map((party) => `ix_agreements_visible_by_${party}`),
          ],
          [
            count('ix_milestones', 'milestones', partyArms(...agreementArms)),
            agreementArms.map((party) => `ix_milestones_visible_by_${party}`),
          ],
          [
            count('ix_payouts', 'payouts', partyArms(...agreementArms, 'payee')),
            [...agreementArms, 'payee'].map((party) => `ix_payouts_visible_by_${party}`),
          ],
        ];
        for (const [plan, indexes] of partyPlans) {
          expect(plan).toContain('MULTI-INDEX OR');
          for (const index of indexes) expect(plan).toContain(`USING COVERING INDEX ${index} `);
        }
        // The grant arm read through SQLite's unary `+` answers exactly the rows the plain
        // condition does, for each kind and a party's, a range's and an amount's filter.
        const rowsOf = async (sqliteOptions: { sqlite: boolean }) => {
          const answers: string[][] = [];
          for (const [table, kind, key, filter] of [
            ['ix_agreements', 'agreements', 'agreement_id', sql<SqlBool>`client_user = ${'client-7'}`],
            ['ix_agreements', 'agreements', 'agreement_id', sql<SqlBool>`created_at >= ${day(90)}`],
            ['ix_milestones', 'milestones', 'milestone_id', sql<SqlBool>`freelancer_user = ${'talent-3'}`],
            ['ix_payouts', 'payouts', 'instruction_id', sql<SqlBool>`amount_minor >= ${50_000}`],
          ] as const) {
            const rows = await db
              .selectFrom(table)
              .select(sql<string>`${sql.ref(key)} || '@' || agreement_id`.as('id'))
              .where(sql<SqlBool>`${indexVisibility(auditor, kind, grantedScope, sqliteOptions)} and ${filter}`)
              .orderBy('id')
              .execute();
            answers.push(rows.map((row) => row.id));
          }
          return answers;
        };
        const plainRows = await rowsOf({ sqlite: false });
        expect(plainRows.every((ids) => ids.length > 0)).toBe(true);
        expect(await rowsOf({ sqlite: true })).toEqual(plainRows);
      } finally {
        sqlite.close();
      }
      const queries = new IndexQueries(db, () => Promise.resolve(scope));
      const own = await queries.agreements(
        auditor,
        { status: 'active', from: day(90), to: day(181), sort: 'CREATED_AT' },
        pageSchema.parse({}),
      );
      const expected = specs
        .filter((spec) => spec.client.userId === auditor.userId && spec.status === 'active')
        .filter((spec) => spec.at >= day(90) && spec.at < day(181))
        .map((spec) => spec.agreementId)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(own.edges.map((edge) => String(edge.node.agreement_id)).sort()).toEqual(expected);
      expect(await own.totalCount()).toBe(expected.length);
    } finally {
      await db.destroy();
    }
  });
});

describe.each(backends)('totals kept between blocks on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;

  beforeEach(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
  });

  afterEach(async () => {
    await db.destroy();
    await drop();
  });

  const drafted = (n: number, client: { mspId: string; userId: string }): SyntheticAgreement => ({
    agreementId: `T-${String(n).padStart(2, '0')}`,
    client,
    freelancer: bob,
    amount: String(1000 * (n + 1)),
    currency: 'EUR',
    at: day(n),
    txId: `tx-total-${String(n)}`,
  });
  const blockOf = (number: bigint, specs: SyntheticAgreement[]) =>
    syntheticBlock(
      number,
      specs.map((spec, position) => syntheticTransaction(position, spec.txId, agreementWrites(spec))),
    );

  it("counts a total again once a block is indexed, and answers each caller's visibility its own total", async () => {
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    await indexer.index(blockOf(0n, [drafted(0, alice), drafted(1, carol), drafted(2, alice)]));
    const auditor = principal('auditor');
    const { grant, scopeOf } = grantKit(auditor.mspId, { grantedAt: day(0), expiresAt: day(400), asOf: day(100) });
    // One cache of totals for both callers, as one server keeps it.
    let scopeNow = scopeOf([grant('G-all', 'ClientOrgMSP', ['agreement'])]);
    const queries = new IndexQueries(db, (caller) => Promise.resolve(caller.role === 'auditor' ? scopeNow : undefined));
    const filter = { currency: 'EUR', sort: 'CREATED_AT' } as const;
    const total = async (caller: Principal) => (await queries.agreements(caller, filter, firstPage)).totalCount();

    expect(await total(auditor)).toBe(3);
    expect(await total(principal('client', alice))).toBe(2);

    await indexer.index(blockOf(1n, [drafted(3, alice), drafted(4, carol)]));
    expect(await total(auditor)).toBe(5);
    expect(await total(principal('client', alice))).toBe(3);

    // A narrower grant is another visibility, so another total, at the same height.
    scopeNow = scopeOf([grant('G-early', 'ClientOrgMSP', ['agreement'], { to: day(2) })]);
    expect(await total(auditor)).toBe(2);
  });

  it('answers a total counted at the current height without counting again', async () => {
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    await indexer.index(blockOf(0n, [drafted(0, alice)]));
    const totals = totalsCache();
    const queries = new IndexQueries(db, undefined, totals);
    const caller = principal('client', alice);
    const total = async () => (await queries.agreements(caller, { sort: 'CREATED_AT' }, firstPage)).totalCount();
    expect(await total()).toBe(1);
    expect(totals.size).toBe(1);

    // Only the indexer writes the index, a whole block with its height at a time; a row
    // slipped in beside it shows that the kept total, not a new count, answered.
    await db
      .insertInto('ix_agreements')
      .values(
        await db
          .selectFrom('ix_agreements')
          .selectAll()
          .executeTakeFirstOrThrow()
          .then((row) => ({ ...row, agreement_id: 'T-slipped' })),
      )
      .execute();
    expect(await total()).toBe(1);

    await indexer.index(blockOf(1n, [drafted(1, alice)]));
    expect(await total()).toBe(3);
  });
});
