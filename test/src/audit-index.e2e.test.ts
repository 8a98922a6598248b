import { randomBytes } from 'node:crypto';
import type { Db } from '@gigledger/api/audit-index';
import { startE2eApi, type E2eApi } from './support/api-server.js';
import {
  indexCaughtUp,
  compareKilledAndRebuilt,
  type Heights,
  type IndexReader as Person,
} from './support/audit-index.js';
import { e2eConfig } from './support/e2e-environment.js';

/*
 * The audit index against the real network: the API's indexer follows the channel's
 * blocks while agreements are drafted, accepted, funded and cancelled; auditors, HR and
 * the parties query it; the block explorer shows the chain, read/write sets and invalid
 * transactions; and the operator's indexer, killed at each of its crash points, resumes
 * to exactly the index a rebuild from block 0 gives, which the consistency check then
 * finds equal to the ledger.
 */

/** Every row the index holds below `height`, in a stable order, for comparing two indexes. */
async function indexRows(db: Db, height: number) {
  return {
    blocks: await db
      .selectFrom('ix_blocks')
      .selectAll()
      .where('block_number', '<', height)
      .orderBy('block_number')
      .execute(),
    transactions: await db
      .selectFrom('ix_transactions')
      .selectAll()
      .where('block_number', '<', height)
      .orderBy('block_number')
      .orderBy('position')
      .execute(),
    keys: await db
      .selectFrom('ix_tx_keys')
      .selectAll()
      .where('block_number', '<', height)
      .orderBy('block_number')
      .orderBy('position')
      .orderBy('seq')
      .execute(),
    agreements: await db
      .selectFrom('ix_agreements')
      .selectAll()
      .where('updated_block', '<', height)
      .orderBy('agreement_id')
      .execute(),
    milestones: await db
      .selectFrom('ix_milestones')
      .selectAll()
      .where('updated_block', '<', height)
      .orderBy('agreement_id')
      .orderBy('milestone_id')
      .execute(),
    payouts: await db.selectFrom('ix_payouts').selectAll().orderBy('instruction_id').execute(),
    credentials: await db.selectFrom('ix_credentials').selectAll().orderBy('credential_id').execute(),
  };
}

describe('the audit index, on the real network', () => {
  let api: E2eApi;
  const suffix = randomBytes(3).toString('hex');
  let alice: Person;
  let carol: Person;
  let bob: Person;
  let auditor: Person;
  let hr: Person;
  let adminToken: string;
  const agreementIds: string[] = [];
  const amounts = ['150000', '250000', '350000', '450000', '550000'];
  const currencies = ['EUR', 'EUR', 'USD', 'EUR', 'USD'];

  const expectStatus = (response: { status: number; body: unknown }, status: number) => {
    if (response.status !== status)
      throw new Error(`expected ${String(status)}, got ${String(response.status)}: ${JSON.stringify(response.body)}`);
    return response.body;
  };

  const caughtUp = (): Promise<Heights> => indexCaughtUp(api, auditor);

  const draft = async (client: Person, id: string, amount: string, currency: string) =>
    expectStatus(
      await api.call('POST', '/v1/agreements', client.token, {
        agreementId: id,
        title: `Label audio set ${id}`,
        client: client.party,
        freelancer: bob.party,
        milestones: [
          {
            kind: 'deliverable',
            milestoneId: 'm1',
            title: 'Labelled set',
            amount,
            currency,
            dueDate: new Date(Date.now() + 14 * 86_400_000).toISOString(),
            acceptanceCriteria: { description: 'Inter-annotator agreement above 0.9' },
          },
        ],
        terms: { scope: 'Confidential rate card for the audit index suite' },
      }),
      201,
    );

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
    // One at a time: the certificate authorities hash each new secret, slowly on a busy machine.
    alice = await api.person(`ix-alice-${suffix}`, 'ClientOrg', 'client');
    carol = await api.person(`ix-carol-${suffix}`, 'ClientOrg', 'client');
    bob = await api.person(`ix-bob-${suffix}`, 'TalentOrg', 'freelancer');
    auditor = await api.person(`ix-auditor-${suffix}`, 'AuditOrg', 'auditor');
    await api.grantAuditEverywhere(auditor.party);
    hr = await api.person(`ix-hr-${suffix}`, 'ClientOrg', 'hr');
    adminToken = await api.adminToken('AuditOrg');
    for (const [index, amount] of amounts.entries()) {
      const id = `IX-${suffix}-${String(index)}`;
      agreementIds.push(id);
      await draft(alice, id, amount, currencies[index]!);
    }
    const carols = `IX-${suffix}-carol`;
    agreementIds.push(carols);
    await draft(carol, carols, '990000', 'GBP');
    for (const id of agreementIds.slice(0, 2)) {
      const terms = expectStatus(await api.call('GET', `/v1/agreements/${id}/terms`, bob.token), 200) as {
        termsSha256: string;
      };
      expectStatus(
        await api.call('POST', `/v1/agreements/${id}/accept`, bob.token, { termsSha256: terms.termsSha256 }),
        200,
      );
    }
    const funded = await api.call('POST', `/v1/agreements/${agreementIds[0]!}/milestones/m1/fund`, alice.token, {});
    expect([200, 201]).toContain(funded.status);
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers auditors with the agreement flow, filtered, sorted and paged, over GraphQL and REST, with the indexed height', async () => {
    const heights = await caughtUp();
    const query = /* GraphQL */ `
      query ($filter: AgreementIndexFilter, $after: String) {
        indexedAgreements(filter: $filter, sort: CREATED_AT, first: 2, after: $after) {
          totalCount
          indexedHeight
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            cursor
            node {
              agreementId
              status
              client {
                userId
              }
              freelancer {
                userId
              }
            }
          }
        }
      }
    `;
    type Page = {
      indexedAgreements: {
        totalCount: number;
        indexedHeight: string;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { agreementId: string; status: string } }[];
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page = await api.graphql<Page>(query, auditor.token, { filter: { party: alice.party }, after });
      expect(page.indexedAgreements.totalCount).toBe(5);
      expect(BigInt(page.indexedAgreements.indexedHeight)).toBeGreaterThanOrEqual(BigInt(heights.indexedHeight));
      seen.push(...page.indexedAgreements.edges.map((edge) => edge.node.agreementId));
      after = page.indexedAgreements.pageInfo.hasNextPage ? page.indexedAgreements.pageInfo.endCursor : null;
    } while (after !== null);
    expect(seen).toEqual(agreementIds.slice(0, 5));

    const usd = await api.graphql<{
      indexedMilestones: { edges: { node: { agreementId: string; amount: string } }[] };
    }>(
      `{ indexedMilestones(filter: { party: { mspId: "${alice.party.mspId}", userId: "${alice.party.userId}" }, currency: "USD", minAmount: "300000" }, sort: AMOUNT, direction: DESC) { edges { node { agreementId amount } } } }`,
      auditor.token,
    );
    expect(usd.indexedMilestones.edges.map((edge) => [edge.node.agreementId, edge.node.amount])).toEqual([
      [agreementIds[4], '550000'],
      [agreementIds[2], '350000'],
    ]);

    const active = await api.call(
      'GET',
      `/v1/index/agreements?partyMspId=${alice.party.mspId}&partyUserId=${alice.party.userId}&status=active&sort=AGREEMENT_ID`,
      auditor.token,
    );
    expect(active.status).toBe(200);
    const activeBody = active.body as { totalCount: number; indexedHeight: string; items: { agreementId: string }[] };
    expect(activeBody.items.map((item) => item.agreementId)).toEqual(agreementIds.slice(0, 2));
    expect(activeBody.totalCount).toBe(2);

    const funding = await api.call(
      'GET',
      `/v1/index/payouts?kind=fund-escrow&partyMspId=${alice.party.mspId}&partyUserId=${alice.party.userId}`,
      auditor.token,
    );
    expect(
      (funding.body as { items: { instructionId: string; amount: string; currency: string; status: string }[] }).items,
    ).toEqual([
      expect.objectContaining({
        instructionId: `${agreementIds[0]!}/m1/fund-escrow-1`,
        amount: '150000',
        currency: 'EUR',
        status: 'pending',
      }),
    ]);

    // Each payout names the organisation whose settlement service sends it: the one the network's genesis lists.
    const senders = await api.graphql<{
      indexedPayouts: { edges: { node: { instructionId: string; settlingOrganisation: string | null } }[] };
    }>(
      `{ indexedPayouts(filter: { party: { mspId: "${alice.party.mspId}", userId: "${alice.party.userId}" } }) { edges { node { instructionId settlingOrganisation } } } }`,
      auditor.token,
    );
    expect(senders.indexedPayouts.edges.length).toBeGreaterThan(0);
    for (const edge of senders.indexedPayouts.edges) expect(edge.node.settlingOrganisation).toBe('ClientOrgMSP');
    // The same payouts by the organisation that settles them, over GraphQL and REST; none for another.
    const alicesPayouts = senders.indexedPayouts.edges.map((edge) => edge.node.instructionId).sort();
    const settledBy = async (mspId: string) => {
      const overGraphql = await api.graphql<{ indexedPayouts: { edges: { node: { instructionId: string } }[] } }>(
        `{ indexedPayouts(filter: { settlingOrganisation: "${mspId}", party: { mspId: "${alice.party.mspId}", userId: "${alice.party.userId}" } }) { edges { node { instructionId } } } }`,
        auditor.token,
      );
      const overRest = await api.call(
        'GET',
        `/v1/index/payouts?settlingOrganisation=${mspId}&partyMspId=${alice.party.mspId}&partyUserId=${alice.party.userId}`,
        auditor.token,
      );
      expect(overRest.status).toBe(200);
      const restIds = (
        overRest.body as { items: { instructionId: string; settlingOrganisation: string | null }[] }
      ).items
        .map((item) => item.instructionId)
        .sort();
      expect(restIds).toEqual(overGraphql.indexedPayouts.edges.map((edge) => edge.node.instructionId).sort());
      return restIds;
    };
    expect(await settledBy('ClientOrgMSP')).toEqual(alicesPayouts);
    expect(await settledBy('TalentOrgMSP')).toEqual([]);

    const wrong = await api.call('GET', '/v1/index/payouts?minAmount=12.50&partyMspId=ClientOrgMSP', auditor.token);
    expect(wrong.status).toBe(422);
    expect((wrong.body as { field: string }).field).toMatch(/^query\.(minAmount|partyUserId)$/);
  });

  it('shows every role exactly the agreements the chaincode lets it read, and the explorer only to auditors and admins', async () => {
    await caughtUp();
    const viewers: [string, string][] = [
      ['alice', alice.token],
      ['carol', carol.token],
      ['bob', bob.token],
      ['auditor', auditor.token],
      ['hr', hr.token],
      ['admin', adminToken],
    ];
    for (const [name, token] of viewers) {
      const indexed = new Set(
        (
          (
            await api.call(
              'GET',
              `/v1/index/agreements?first=100&partyMspId=${bob.party.mspId}&partyUserId=${bob.party.userId}`,
              token,
            )
          ).body as {
            items?: { agreementId: string }[];
          }
        ).items?.map((item) => item.agreementId) ?? [],
      );
      for (const id of agreementIds) {
        const chaincode = await api.call('GET', `/v1/agreements/${id}`, token);
        expect([name, id, indexed.has(id)]).toEqual([name, id, chaincode.status === 200]);
      }
      const explorer = await api.call('GET', '/v1/index/transactions?first=1', token);
      expect([name, explorer.status]).toEqual([name, name === 'auditor' || name === 'admin' ? 200 : 403]);
    }
  });

  it('explores the chain: blocks linked by hash, a transaction with its keys (private ones as hashes only), invalid ones by code', async () => {
    const target = `IX-${suffix}-race`;
    await draft(alice, target, '100000', 'EUR');
    // Cancels racing on one agreement: all endorse against the same version, one commits, the rest are MVCC conflicts.
    await Promise.all(
      [1, 2, 3, 4].map((attempt) =>
        api.call('POST', `/v1/agreements/${target}/cancel`, alice.token, { reason: `attempt ${String(attempt)}` }),
      ),
    );
    await caughtUp();

    type Blocks = { indexedBlocks: { edges: { node: { blockNumber: string; hash: string; previousHash: string } }[] } };
    const blocks = await api.graphql<Blocks>(
      '{ indexedBlocks(direction: DESC, first: 30) { edges { node { blockNumber hash previousHash } } } }',
      auditor.token,
    );
    const chain = blocks.indexedBlocks.edges.map((edge) => edge.node);
    expect(chain.length).toBeGreaterThan(5);
    for (let index = 0; index + 1 < chain.length; index += 1) {
      expect(chain[index]!.previousHash).toBe(chain[index + 1]!.hash);
    }

    const drafted = (
      (await api.call('GET', `/v1/agreements/${target}`, auditor.token)).body as { agreement: { createdTxId: string } }
    ).agreement.createdTxId;
    const detail = await api.call('GET', `/v1/index/transactions/${drafted}`, auditor.token);
    expect(detail.status).toBe(200);
    const transaction = detail.body as {
      validationName: string;
      function: string;
      creatorMspId: string;
      keys: {
        collection: string | null;
        key: string | null;
        keyParts: string[] | null;
        keyHash: string | null;
        access: string;
      }[];
    };
    expect(transaction).toMatchObject({
      validationName: 'VALID',
      function: 'agreement:draftAgreement',
      creatorMspId: 'ClientOrgMSP',
    });
    expect(transaction.keys.filter((key) => key.access === 'write').map((key) => key.keyParts?.slice(0, 2))).toEqual(
      expect.arrayContaining([
        ['agreement', target],
        ['milestone', target],
      ]),
    );
    const privateKeys = transaction.keys.filter((key) => key.collection !== null);
    expect(privateKeys.length).toBeGreaterThan(0);
    for (const key of privateKeys) {
      expect(key.key).toBeNull();
      expect(key.keyHash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(JSON.stringify(detail.body)).not.toContain('Confidential rate card');

    const invalid = await api.graphql<{
      indexedTransactions: { totalCount: number; edges: { node: { validationName: string; function: string } }[] };
    }>(
      '{ indexedTransactions(filter: { validation: "MVCC_READ_CONFLICT", function: "agreement:cancelAgreement" }, first: 10) { totalCount edges { node { validationName function } } } }',
      auditor.token,
    );
    expect(invalid.indexedTransactions.totalCount).toBeGreaterThan(0);
    expect(invalid.indexedTransactions.edges[0]?.node).toEqual({
      validationName: 'MVCC_READ_CONFLICT',
      function: 'agreement:cancelAgreement',
    });
    const cancelled = await api.call(
      'GET',
      `/v1/index/agreements?partyMspId=${alice.party.mspId}&partyUserId=${alice.party.userId}&status=cancelled`,
      auditor.token,
    );
    expect((cancelled.body as { items: { agreementId: string }[] }).items.map((item) => item.agreementId)).toEqual([
      target,
    ]);
  });

  it('joins one command sent four times at once under one request id, over REST and GraphQL: one answer, no invalidated copies', async () => {
    const target = `IX-${suffix}-once`;
    await draft(alice, target, '100000', 'EUR');
    const conflicts = async () =>
      (
        await api.graphql<{ indexedTransactions: { totalCount: number } }>(
          '{ indexedTransactions(filter: { validation: "MVCC_READ_CONFLICT", function: "agreement:cancelAgreement" }, first: 1) { totalCount } }',
          auditor.token,
        )
      ).indexedTransactions.totalCount;
    await caughtUp();
    const before = await conflicts();
    const cancel = { requestId: `cancel-${target}`, reason: 'budget withdrawn' };
    const overRest = () => api.call('POST', `/v1/agreements/${target}/cancel`, alice.token, cancel);
    // The same command over GraphQL joins the REST ones (key order is covered by the vote in the governance suite).
    const overGraphql = () =>
      api.graphql<{ cancelAgreement: { requestId: string; transactionId: string; blockNumber: string } }>(
        'mutation ($input: AgreementReasonInput!) { cancelAgreement(input: $input) { requestId transactionId blockNumber } }',
        alice.token,
        { input: { agreementId: target, ...cancel } },
      );
    const [rest1, graphql1, rest2, graphql2] = await Promise.all([
      overRest(),
      overGraphql(),
      overRest(),
      overGraphql(),
    ]);
    expect([rest1.status, rest2.status]).toEqual([200, 200]);
    expect(rest2.body).toEqual(rest1.body);
    const { requestId, transactionId, blockNumber } = rest1.body as Record<string, unknown>;
    for (const answer of [graphql1, graphql2]) {
      expect(answer.cancelAgreement).toEqual({ requestId, transactionId, blockNumber });
    }
    // Sent again once it has committed: answered from storage, nothing ordered.
    const again = await api.call('POST', `/v1/agreements/${target}/cancel`, alice.token, cancel);
    expect([again.status, again.body]).toEqual([200, rest1.body]);
    await caughtUp();
    expect(await conflicts()).toBe(before);
  });

  it('refuses another command sent at the same time under a request id in use before ordering it: one acts, one REQUEST_ID_REUSED, no invalidated copy', async () => {
    const target = `IX-${suffix}-reused`;
    await draft(alice, target, '100000', 'EUR');
    await caughtUp();
    const conflicts = async () =>
      (
        await api.graphql<{ indexedTransactions: { totalCount: number } }>(
          '{ indexedTransactions(filter: { validation: "MVCC_READ_CONFLICT", function: "agreement:cancelAgreement" }, first: 1) { totalCount } }',
          auditor.token,
        )
      ).indexedTransactions.totalCount;
    const before = await conflicts();
    const requestId = `cancel-${target}`;
    const [overRest, overGraphql] = await Promise.all([
      api.call('POST', `/v1/agreements/${target}/cancel`, alice.token, { requestId, reason: 'budget withdrawn' }),
      api.call('POST', '/graphql', alice.token, {
        query: 'mutation ($input: AgreementReasonInput!) { cancelAgreement(input: $input) { transactionId } }',
        variables: { input: { agreementId: target, requestId, reason: 'scope changed' } },
      }),
    ]);
    const graphqlAnswer = overGraphql.body as { errors?: { extensions?: { code?: string } }[] };
    const restCode = (overRest.body as { code?: string }).code;
    const restOutcome =
      overRest.status === 200 ? 'acted' : overRest.status === 409 ? restCode : `${overRest.status} ${restCode}`;
    const graphqlOutcome = graphqlAnswer.errors === undefined ? 'acted' : graphqlAnswer.errors[0]?.extensions?.code;
    expect([restOutcome, graphqlOutcome].sort()).toEqual(['REQUEST_ID_REUSED', 'acted']);
    await caughtUp();
    expect(await conflicts()).toBe(before);
  });

  it('resumes exactly after kills before a block, inside its transaction and after a commit, equal to a rebuild from block 0, which the check finds equal to the ledger', async () => {
    await caughtUp();
    const crashes = ['inside-transaction:2', 'before-block:3', 'after-commit:2', 'inside-transaction:4'];
    const compared = await compareKilledAndRebuilt(crashes, async ({ killedDb, rebuiltDb, common, checkRebuilt }) => {
      expect(common).toBeGreaterThan(10);
      const [resumedRows, rebuiltRows] = await Promise.all([indexRows(killedDb, common), indexRows(rebuiltDb, common)]);
      expect(resumedRows.blocks.map((block) => block.block_number)).toEqual(
        Array.from({ length: common }, (_, n) => n),
      );
      expect(resumedRows).toEqual(rebuiltRows);

      const check = await checkRebuilt();
      expect([check.code, check.stdout]).toEqual([0, expect.stringContaining('No difference.')]);

      await rebuiltDb
        .updateTable('ix_agreements')
        .set({ status: 'declined' })
        .where('agreement_id', '=', agreementIds[1]!)
        .execute();
      const tampered = await checkRebuilt();
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain(`agreement  ${agreementIds[1]!}  differs  ledger active`);
    });
    compared.removeFolders();
    process.stdout.write(`audit index: four kills, resume and a rebuild took ${String(compared.tookMs)} ms\n`);
  });
});
