import type { AuditRecordKind, Role } from '@gigledger/chaincode/model';
import { scopesByRole, type Principal } from '../auth/principal.js';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { grantKit } from '../test-support/synthetic-grants.js';
import { BlockIndexer } from './block-indexer.js';
import { IndexQueries, pageSchema } from './index-queries.js';
import { compositeKey, syntheticBlock, syntheticTransaction } from './synthetic-blocks.js';

/*
 * Which block headers the explorer shows: an auditor only blocks holding a transaction its
 * grants cover (organisation and time), in listings and look-ups alike; an admin every
 * block, as its own peer holds them all.
 */

const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString();
const allRows = { ...pageSchema.parse({}), first: 100 };

function person(role: Role, mspId: string): Principal {
  return {
    kind: 'person',
    id: `${role}-1`,
    userId: `${role}-1`,
    org: mspId.replace(/MSP$/, ''),
    mspId,
    role,
    scopes: scopesByRole[role],
    identityLabel: `person:${role}-1`,
  };
}

const auditor = person('auditor', 'AuditOrgMSP');

const grants = grantKit(auditor.mspId, { grantedAt: day(0), expiresAt: day(400), asOf: day(100) });
const scopeOf = grants.scopeOf;
const grant = (organisation: string, kinds: AuditRecordKind[], range: { from?: string; to?: string } = {}) =>
  grants.grant(
    `G-${organisation}-${kinds.join('-')}-${range.from ?? ''}-${range.to ?? ''}`,
    organisation,
    kinds,
    range,
  );

const tx = (position: number, id: string, creatorMspId: string, at: string) =>
  syntheticTransaction(position, id, [[compositeKey('note', [id]), { id }]], { creatorMspId, at, fn: 'note:write' });

/** Block 0: ClientOrg on day 1; block 1: TalentOrg on day 5; block 2: ClientOrg on day 9 and TalentOrg on day 9. */
const chain = [
  syntheticBlock(0n, [tx(0, 'tx-client-1', 'ClientOrgMSP', day(1))]),
  syntheticBlock(1n, [tx(0, 'tx-talent-5', 'TalentOrgMSP', day(5))]),
  syntheticBlock(2n, [tx(0, 'tx-client-9', 'ClientOrgMSP', day(9)), tx(1, 'tx-talent-9', 'TalentOrgMSP', day(9))]),
];

describe.each(storageBackends('gl-explorer'))('block explorer headers on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    for (const block of chain) await indexer.index(block);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  const listed = async (queries: IndexQueries, caller: Principal) =>
    (await queries.blocks(caller, { sort: 'NUMBER' }, allRows)).edges.map((edge) => Number(edge.node.block_number));
  const lookedUp = async (queries: IndexQueries, caller: Principal, number: number) =>
    (await queries.blocks(caller, { sort: 'NUMBER', fromBlock: number, toBlock: number }, allRows)).edges.length;

  it.each([
    ['a ClientOrg transaction grant of any date', [grant('ClientOrgMSP', ['transaction'])], [0, 2]],
    ['a TalentOrg transaction grant', [grant('TalentOrgMSP', ['transaction'])], [1, 2]],
    ['a ClientOrg grant from day 5', [grant('ClientOrgMSP', ['transaction'], { from: day(5) })], [2]],
    ['a ClientOrg grant up to day 5', [grant('ClientOrgMSP', ['transaction'], { to: day(5) })], [0]],
    ['a grant of an organisation that created nothing', [grant('AuditOrgMSP', ['transaction'])], []],
    ['an agreement grant only', [grant('ClientOrgMSP', ['agreement'])], []],
  ])('shows an auditor under %s only the blocks holding a covered transaction', async (_name, grants, blocks) => {
    const queries = new IndexQueries(db, () => Promise.resolve(scopeOf(grants)));
    expect(await listed(queries, auditor)).toEqual(blocks);
    // A look-up of a block outside the grants finds nothing, as for a block that does not exist.
    for (const number of [0, 1, 2])
      expect(await lookedUp(queries, auditor, number)).toBe(blocks.includes(number) ? 1 : 0);
  });

  it("shows an organisation's admin every block header, whoever created its transactions", async () => {
    const queries = new IndexQueries(db, () => Promise.resolve(undefined));
    for (const mspId of ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'])
      expect(await listed(queries, person('admin', mspId))).toEqual([0, 1, 2]);
    // ... while its transactions stay its own organisation's.
    const transactions = await queries.transactions(person('admin', 'AuditOrgMSP'), { sort: 'BLOCK' }, allRows);
    expect(transactions.edges).toEqual([]);
  });

  it('shows parties no block', async () => {
    const queries = new IndexQueries(db);
    await expect(listed(queries, person('freelancer', 'TalentOrgMSP'))).rejects.toMatchObject({ status: 403 });
  });
});
