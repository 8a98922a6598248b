import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { AuditGrantRecord } from '@gigledger/chaincode/model';
import { scopesByRole, type Principal } from '../auth/principal.js';
import { openDatabase } from '../db/database.js';
import { AuditScopes } from './audit-scopes.js';
import { asSeenBy, ReadLog } from './read-log.js';
import { agreementNode } from '../audit-index/index-nodes.js';
import { organisationsInJson } from './answer-organisations.js';
import { kindsOf, organisationsAndCount, ReadRecorder } from './read-recorder.js';
import { scopeAnsweringLedger } from '../test-support/audit-scope-ledger.js';

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

  it("names the organisations an index node's record holds, read from its JSON text as a walk of it would", () => {
    const record = {
      agreementId: 'A-1',
      client: { mspId: 'ClientOrgMSP', userId: 'ann' },
      // A quoted key inside a string value is no key: neither the walk nor the text scan takes it.
      title: 'about "mspId":"NotAnOrgMSP"',
      dispute: {
        arbitrator: { mspId: 'ArbiterOrgMSP', userId: 'judge \u00e9' },
        votes: [{ creatorMspId: 'AuditOrgMSP' }],
      },
    };
    const row = () => ({
      agreement_id: 'A-1',
      title: 'T',
      status: 'active',
      client_msp: 'ClientOrgMSP',
      client_user: 'ann',
      freelancer_msp: 'TalentOrgMSP',
      freelancer_user: 'tom',
      evaluator_msp: null,
      evaluator_user: null,
      milestone_count: 1,
      created_at: '2026-01-01T00:00:00.000Z',
      created_tx_id: 'tx-1',
      updated_at: '2026-01-01T00:00:00.000Z',
      updated_tx_id: 'tx-1',
      updated_block: 3,
      record: JSON.stringify(record, null, 1),
    });
    const node = agreementNode(row());
    const answer = { edges: [{ node }] };
    const walked = organisationsAndCount(JSON.parse(JSON.stringify(answer)));
    expect(walked.organisations).toEqual(['ArbiterOrgMSP', 'AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP']);
    // The record's organisations come from its text: the walk never parses the record.
    const parse = JSON.parse;
    const parsed: string[] = [];
    JSON.parse = (text: string, reviver?: Parameters<typeof parse>[1]) => {
      parsed.push(text);
      return parse(text, reviver) as unknown;
    };
    try {
      expect(organisationsAndCount({ edges: [{ node: agreementNode(row()) }] })).toEqual(walked);
    } finally {
      JSON.parse = parse;
    }
    expect(parsed.filter((text) => text.length > 40)).toEqual([]);
    expect(organisationsAndCount(answer)).toEqual(walked);
    expect(node.record).toEqual(record);
    expect(organisationsInJson(JSON.stringify({ mspId: 'A\\"B', x: '"mspId":"C"' }))).toEqual(['A\\"B']);
  });

  it('names the organisations of a block explorer answer by the transactions it shows', () => {
    const block = {
      blockNumber: '5',
      transactions: [{ creatorMspId: 'AuditOrgMSP' }, { creatorMspId: 'AuditOrgMSP' }],
    };
    expect(organisationsAndCount(block)).toEqual({ organisations: ['AuditOrgMSP'], count: 1 });
  });
});

describe('the kind and grant a payout read is logged under', () => {
  const grant: AuditGrantRecord = {
    grantId: 'AG-agreements',
    organisation: 'ClientOrgMSP',
    auditor: { mspId: 'AuditOrgMSP' },
    kinds: ['agreement'],
    from: '2026-01-01T00:00:00.000Z',
    expiresAt: '2999-01-01T00:00:00.000Z',
    purpose: 'Statutory audit',
    grantedBy: { mspId: 'ClientOrgMSP', userId: 'admin-1' },
    grantedAt: '2026-01-01T00:00:00.000Z',
    txId: 'tx-AG-agreements',
    status: 'active',
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedTxId: 'tx-AG-agreements',
  };
  const auditor: Principal = {
    kind: 'person',
    id: 'audrey',
    userId: 'audrey',
    org: 'AuditOrg',
    mspId: 'AuditOrgMSP',
    role: 'auditor',
    scopes: scopesByRole.auditor,
    identityLabel: 'person:audrey',
  };

  /**
   * A recorder over a fresh database whose ledger answers `grants` (`grant` alone by
   * default) and counts its look-ups.
   */
  async function withRecorder(
    test: (recorder: ReadRecorder, lookups: () => number) => Promise<void>,
    grants: readonly AuditGrantRecord[] = [grant],
  ): Promise<void> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-rr-'));
    const db = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'rr.sqlite') });
    try {
      let lookups = 0;
      const ledger = scopeAnsweringLedger(
        {
          auditor: { mspId: 'AuditOrgMSP' },
          asOf: '2026-06-01T00:00:00.000Z',
          grants: [...grants],
          organisations: [...new Set(grants.map((held) => held.organisation))].sort(),
          kinds: [...new Set(grants.flatMap((held) => held.kinds))].sort(),
        },
        () => {
          lookups += 1;
        },
      );
      await test(new ReadRecorder(new ReadLog(db), new AuditScopes(ledger)), () => lookups);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const silent = pino({ level: 'silent' });

  it('logs payouts as agreement reads, naming the agreement grant that opened them, with one scope look-up', async () => {
    // A payout is part of its agreement's record: the chaincode opens it under a grant naming `agreement`.
    expect(kindsOf(['indexedPayouts'])).toEqual(['agreement']);
    expect(kindsOf(['index', 'payouts'])).toEqual(['agreement']);
    await withRecorder(async (recorder, lookups) => {
      const row = await recorder.record(
        {
          principal: auditor,
          operation: 'graphql query indexedPayouts',
          arguments: { query: '{ indexedPayouts { totalCount } }' },
          kinds: kindsOf(['indexedPayouts']),
          answers: [{ totalCount: 1, edges: [{ node: { instructionId: 'A-1/m1/release', amount: '1500000' } }] }],
          status: 200,
        },
        silent,
      );
      expect(row.kinds).toEqual(['agreement']);
      expect(row.grants).toEqual(['AG-agreements']);
      // A covering grant was found in the kept scope: the ledger was not asked again.
      expect(lookups()).toBe(1);
    });
  });

  it('names no grant for a read that found nothing and named nobody (its row goes to the log owner, not to the grantors)', async () => {
    await withRecorder(async (recorder) => {
      const row = await recorder.record(
        {
          principal: auditor,
          operation: 'graphql query indexedPayouts',
          arguments: { query: '{ indexedPayouts { totalCount } }' },
          kinds: kindsOf(['indexedPayouts']),
          answers: [{ totalCount: 0, edges: [] }],
          status: 200,
        },
        silent,
      );
      expect([row.organisations, row.resultCount, row.grants]).toEqual([[], 0, []]);
    });
  });

  it('keeps of a refused read only the organisations it named that could be organisations', async () => {
    await withRecorder(async (recorder) => {
      const row = await recorder.record(
        {
          principal: auditor,
          operation: 'GET /v1/index/agreements',
          arguments: { org: 'Evil\u202EOrgMSP' },
          kinds: ['agreement'],
          subjects: { organisations: ['Evil\u202EOrgMSP', 'Talent\u0000OrgMSP', 'TalentOrgMSP'], targets: [] },
          answers: [],
          status: 422,
        },
        silent,
      );
      expect(row.organisations).toEqual(['TalentOrgMSP']);
    });
  });

  it('asks the ledger again only for a read that answered records no kept grant covers', async () => {
    await withRecorder(async (recorder, lookups) => {
      // Reads of no record kind, and searches that found nothing, needed no grant: the kept scope stands.
      for (let n = 0; n < 5; n += 1) {
        const typename = await recorder.record(
          {
            principal: auditor,
            operation: 'graphql query __typename',
            arguments: {},
            kinds: [],
            answers: [{}],
            status: 200,
          },
          silent,
        );
        expect(typename.grants).toEqual([]);
        const empty = await recorder.record(
          {
            principal: auditor,
            operation: 'graphql query indexedCredentials',
            arguments: {},
            kinds: kindsOf(['indexedCredentials']),
            answers: [{ totalCount: 0, edges: [] }],
            status: 200,
          },
          silent,
        );
        expect(empty.grants).toEqual([]);
      }
      expect(lookups()).toBe(1);
      // A search naming a party of an organisation that granted nothing: the rows it
      // answered were opened by their other party's organisation's grant, kept already.
      const byParty = await recorder.record(
        {
          principal: auditor,
          operation: 'graphql query indexedAgreements',
          arguments: {},
          kinds: kindsOf(['indexedAgreements']),
          answers: [
            {
              totalCount: 1,
              edges: [{ node: { client: { mspId: 'AuditOrgMSP' }, freelancer: { mspId: 'ClientOrgMSP' } } }],
            },
          ],
          status: 200,
          subjects: { organisations: ['AuditOrgMSP'], targets: [] },
        },
        silent,
      );
      expect([byParty.organisations, byParty.grants]).toEqual([['AuditOrgMSP', 'ClientOrgMSP'], ['AG-agreements']]);
      expect(lookups()).toBe(1);
      // A credential answered under no kept grant: the kept scope may predate its grant, so the ledger is asked.
      const answered = await recorder.record(
        {
          principal: auditor,
          operation: 'graphql query indexedCredentials',
          arguments: {},
          kinds: kindsOf(['indexedCredentials']),
          answers: [{ totalCount: 1, edges: [{ node: { subject: { mspId: 'TalentOrgMSP', userId: 'tara' } } }] }],
          status: 200,
        },
        silent,
      );
      expect(answered.organisations).toEqual(['TalentOrgMSP']);
      expect(lookups()).toBe(2);
    });
  });

  it('names the same grants of an organisation whether or not a record a read named by id exists', async () => {
    // The auditor's own organisation granted it agreements; ClientOrg did too.
    const own: AuditGrantRecord = { ...grant, grantId: 'AG-own', organisation: 'AuditOrgMSP' };
    await withRecorder(
      async (recorder) => {
        // `me { mspId }` beside a payout search by agreement id: the answer names AuditOrg, and
        // the id names ClientOrg when the agreement exists, nobody when it does not.
        const read = (namedOrganisations: string[]) =>
          recorder.record(
            {
              principal: auditor,
              operation: 'graphql query me,indexedPayouts',
              arguments: {},
              kinds: kindsOf(['me', 'indexedPayouts']),
              answers: [{ mspId: 'AuditOrgMSP' }, { edges: [] }],
              status: 200,
              subjects: { organisations: namedOrganisations, targets: [] },
            },
            silent,
          );
        const [existing, unknown] = [await read(['ClientOrgMSP']), await read([])];
        expect(existing.grants).toEqual(['AG-agreements', 'AG-own']);
        expect(unknown.grants).toEqual(['AG-own']);
        const ownGrants = new Set(['AG-own']);
        const seen = (row: typeof existing) => {
          const {
            seq: _seq,
            at: _at,
            prevHash: _prevHash,
            hash: _hash,
            // Under each row's own salt: two rows' digests differ whatever they named.
            argumentsSha256: _digest,
            ...rest
          } = asSeenBy(row, 'AuditOrgMSP', ownGrants);
          return rest;
        };
        expect(seen(existing)).toEqual(seen(unknown));
      },
      [grant, own],
    );
  });
});
