import { createHash, randomBytes } from 'node:crypto';
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
 * Governance, IP, licensing and provenance records in the audit index on the real
 * network: a proposal with a vote, a work licensed for a fee with a month's royalty, and
 * a dataset with an access grant and a logged use are made through the API; the index
 * answers them to an auditor under grants with the height that holds them, hides the
 * licence and the access records from a member they do not concern as the chaincode
 * does; the operator's indexer, killed at its crash points, resumes to the rows a rebuild
 * from block 0 gives, and the check finds that index equal to the ledger.
 */

/** The tables of the governance, IP, licensing and provenance records, each row stamped with its block. */
const domainTables = [
  'ix_proposals',
  'ix_proposal_votes',
  'ix_works',
  'ix_ownership_changes',
  'ix_licence_offers',
  'ix_licences',
  'ix_royalty_periods',
  'ix_provenance_records',
  'ix_lineage_edges',
  'ix_dataset_access_grants',
  'ix_dataset_access_log',
  'ix_erasure_receipts',
] as const;

/** The last calendar month before this one, `YYYY-MM` (UTC): ended, so it can be closed now. */
function lastMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('governance, IP, licensing and provenance in the audit index, on the real network', () => {
  let api: E2eApi;
  const suffix = randomBytes(3).toString('hex');
  let tara: Person;
  let carol: Person;
  let dan: Person;
  let auditor: Person;
  let ungranted: Person;
  let clientGovernor: string;
  const proposalId = `IXD-${suffix}`;
  const workId = `W-IXD-${suffix}`;
  const offerId = `L-IXD-${suffix}`;
  const grantId = `G-IXD-${suffix}`;
  const datasetId = `DS-IXD-${suffix}`;
  const accessGrantId = `AG-IXD-${suffix}`;
  const periodId = lastMonth();
  /** Transaction ids of the records made, by what they made. */
  const made: Record<string, string> = {};

  const expectStatus = (response: { status: number; body: unknown }, status: number) => {
    if (response.status !== status)
      throw new Error(`expected ${String(status)}, got ${String(response.status)}: ${JSON.stringify(response.body)}`);
    return response.body as { transactionId: string; result: Record<string, unknown> };
  };

  const caughtUp = (): Promise<Heights> => indexCaughtUp(api, auditor);

  /** The block the explorer says a transaction is in. */
  const blockOf = async (transactionId: string) =>
    (
      expectStatus(await api.call('GET', `/v1/index/transactions/${transactionId}`, auditor.token), 200) as unknown as {
        blockNumber: string;
      }
    ).blockNumber;

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
    tara = await api.person(`ixd-tara-${suffix}`, 'TalentOrg', 'freelancer');
    carol = await api.person(`ixd-carol-${suffix}`, 'ClientOrg', 'client');
    dan = await api.person(`ixd-dan-${suffix}`, 'ClientOrg', 'client');
    auditor = await api.person(`ixd-auditor-${suffix}`, 'AuditOrg', 'auditor');
    ungranted = await api.person(`ixd-auditor2-${suffix}`, 'AuditOrg', 'auditor');
    await api.grantAuditEverywhere(auditor.party);
    [clientGovernor] = (await api.governors()) as [string];

    const minimum = async (name: string) =>
      (
        (await api.call('GET', `/v1/governance/rules/parameters/${name}`, clientGovernor)).body as {
          record: { value: number };
        }
      ).record.value;
    made.proposal = expectStatus(
      await api.call('POST', '/v1/governance/proposals', clientGovernor, {
        proposalId,
        title: 'Allow three revisions',
        text: 'Proposed by the audit index suite; never executed.',
        actions: [{ type: 'setParameter', name: 'maxRevisions', value: 3 }],
        votingSeconds: await minimum('governanceMinVotingSeconds'),
        timelockSeconds: await minimum('governanceMinTimelockSeconds'),
      }),
      201,
    ).transactionId;
    made.vote = expectStatus(
      await api.call('POST', `/v1/governance/proposals/${proposalId}/votes`, clientGovernor, { choice: 'yes' }),
      200,
    ).transactionId;

    made.work = expectStatus(
      await api.call('POST', '/v1/ip/works', tara.token, {
        workId,
        kind: 'model',
        contentHash: sha(`indexed model ${suffix}`),
        title: 'Speech model',
        uri: 'https://models.example.com/speech',
        creators: [tara.party],
      }),
      201,
    ).transactionId;
    const offered = expectStatus(
      await api.call('POST', '/v1/licensing/offers', tara.token, {
        offerId,
        workId,
        licensee: carol.party,
        scope: 'commercial',
        fieldsOfUse: ['speech-recognition'],
        territories: ['WORLD'],
        exclusive: false,
        termStart: '2026-01-01T00:00:00.000Z',
        termEnd: '2099-01-01T00:00:00.000Z',
        royaltyBps: 1_000,
        fee: { amount: '150000' },
        currency: 'EUR',
        terms: { text: 'Licence for speech recognition, indexed by the audit index suite.' },
      }),
      201,
    );
    expect(offered.result).toMatchObject({ status: 'open' });
    const terms = (await api.call('GET', `/v1/licensing/offers/${offerId}/terms`, carol.token)).body as {
      termsSha256: string;
    };
    made.licence = expectStatus(
      await api.call('POST', `/v1/licensing/offers/${offerId}/grants`, carol.token, {
        grantId,
        termsSha256: terms.termsSha256,
      }),
      201,
    ).transactionId;
    expectStatus(
      await api.call('POST', `/v1/licensing/grants/${grantId}/usage-reports`, carol.token, {
        periodId,
        units: '0',
        revenue: '2000000',
        currency: 'EUR',
      }),
      201,
    );
    made.period = expectStatus(
      await api.call('POST', `/v1/licensing/grants/${grantId}/periods/${periodId}/closing`, tara.token, {}),
      200,
    ).transactionId;

    made.dataset = expectStatus(
      await api.call('POST', '/v1/provenance/datasets', carol.token, {
        recordId: datasetId,
        contentSha256: sha(datasetId),
        title: 'Call-centre recordings, transcribed',
        licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
        source: 'https://data.example.org/calls',
        legalBasis: 'consent',
        piiClass: 'pseudonymised',
        retention: { kind: 'period', period: 'P5Y' },
      }),
      201,
    ).transactionId;
    made.accessGrant = expectStatus(
      await api.call('POST', `/v1/provenance/datasets/${datasetId}/grants`, carol.token, {
        grantId: accessGrantId,
        grantee: tara.party,
        purpose: 'Evaluate the speech model',
        scope: ['read', 'evaluate'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
      201,
    ).transactionId;
    made.access = expectStatus(
      await api.call('POST', `/v1/provenance/grants/${accessGrantId}/accesses`, tara.token, { scope: 'read' }),
      201,
    ).transactionId;
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers an auditor the proposal, the work, the licence with its fee and royalty, and the dataset with its access, each from the block that holds it', async () => {
    const heights = await caughtUp();
    type Conn<Node> = { totalCount: number; indexedHeight: string; edges: { node: Node }[] };
    type Answer = {
      indexedProposals: Conn<{
        proposalId: string;
        status: string;
        updatedBlock: string;
        votes: { mspId: string; choice: string; txId: string }[];
      }>;
      indexedWorks: Conn<{
        workId: string;
        owners: { party: { userId: string }; shareBps: number }[];
        updatedBlock: string;
      }>;
      indexedLicences: Conn<{
        grantId: string;
        licensee: { userId: string };
        feeAmount: string;
        currency: string;
        updatedBlock: string;
      }>;
      indexedRoyaltyPeriods: Conn<{ periodId: string; royalty: string; updatedBlock: string }>;
      indexedProvenanceRecords: Conn<{ recordId: string; controller: { userId: string }; updatedBlock: string }>;
      indexedDatasetAccessGrants: Conn<{ grantId: string; grantee: { userId: string }; updatedBlock: string }>;
      indexedDatasetAccessLog: Conn<{ accessId: string; accessor: { userId: string }; updatedBlock: string }>;
    };
    // One listing a request, as a client asks: each stays under the query cost limit.
    const listings: [string, Record<string, unknown>][] = [
      [
        'indexedProposals(filter: { org: "ClientOrgMSP", actionType: "setParameter" }, sort: PROPOSED_AT, direction: DESC) { totalCount indexedHeight edges { node { proposalId status updatedBlock votes { mspId choice txId } } } }',
        {},
      ],
      [
        'indexedWorks(filter: { owner: $tara, org: "TalentOrgMSP" }) { totalCount indexedHeight edges { node { workId owners { party { userId } shareBps } updatedBlock } } }',
        { tara: tara.party },
      ],
      [
        'indexedLicences(filter: { workId: $workId, licensorOrg: "TalentOrgMSP", licenseeOrg: "ClientOrgMSP", currency: "EUR", minAmount: "150000", maxAmount: "150000" }) { totalCount indexedHeight edges { node { grantId licensee { userId } feeAmount currency updatedBlock } } }',
        { workId },
      ],
      [
        'indexedRoyaltyPeriods(filter: { grantId: $grantId }, sort: AMOUNT) { totalCount indexedHeight edges { node { periodId royalty updatedBlock } } }',
        { grantId },
      ],
      [
        'indexedProvenanceRecords(filter: { kind: "dataset", org: "ClientOrgMSP", piiClass: "pseudonymised" }, first: 100) { totalCount indexedHeight edges { node { recordId controller { userId } updatedBlock } } }',
        {},
      ],
      [
        'indexedDatasetAccessGrants(filter: { datasetId: $datasetId }) { totalCount indexedHeight edges { node { grantId grantee { userId } updatedBlock } } }',
        { datasetId },
      ],
      [
        'indexedDatasetAccessLog(filter: { datasetId: $datasetId }) { totalCount indexedHeight edges { node { accessId accessor { userId } updatedBlock } } }',
        { datasetId },
      ],
    ];
    const types: Record<string, string> = { tara: 'PartyInput!', workId: 'ID!', grantId: 'ID!', datasetId: 'ID!' };
    const parts: Partial<Answer>[] = [];
    for (const [listing, variables] of listings) {
      const names = Object.keys(variables);
      const declared =
        names.length === 0 ? '' : `(${names.map((name) => `$${name}: ${types[name] ?? ''}`).join(', ')})`;
      parts.push(await api.graphql<Partial<Answer>>(`query ${declared} { ${listing} }`, auditor.token, variables));
    }
    const answer = Object.assign({}, ...parts) as Answer;
    for (const connection of Object.values(answer)) {
      expect(BigInt(connection.indexedHeight)).toBeGreaterThanOrEqual(BigInt(heights.indexedHeight));
      for (const { node } of connection.edges) {
        expect(BigInt((node as { updatedBlock: string }).updatedBlock)).toBeLessThan(BigInt(connection.indexedHeight));
      }
    }
    const proposal = answer.indexedProposals.edges.find((edge) => edge.node.proposalId === proposalId)?.node;
    expect(proposal).toEqual({
      proposalId,
      status: 'open',
      updatedBlock: await blockOf(made.proposal!),
      votes: [{ mspId: 'ClientOrgMSP', choice: 'yes', txId: made.vote! }],
    });
    expect(answer.indexedWorks.edges.map((edge) => edge.node)).toEqual([
      {
        workId,
        owners: [{ party: { userId: tara.party.userId }, shareBps: 10_000 }],
        updatedBlock: await blockOf(made.work!),
      },
    ]);
    expect(answer.indexedLicences.edges.map((edge) => edge.node)).toEqual([
      {
        grantId,
        licensee: { userId: carol.party.userId },
        feeAmount: '150000',
        currency: 'EUR',
        updatedBlock: await blockOf(made.licence!),
      },
    ]);
    // 10 % of 2 000 000 is 200 000, above the fee: by amount, the fee comes first.
    expect(answer.indexedRoyaltyPeriods.edges.map((edge) => [edge.node.periodId, edge.node.royalty])).toEqual([
      ['fee', '150000'],
      [periodId, '200000'],
    ]);
    expect(answer.indexedProvenanceRecords.edges.map((edge) => edge.node)).toContainEqual({
      recordId: datasetId,
      controller: { userId: carol.party.userId },
      updatedBlock: await blockOf(made.dataset!),
    });
    expect(answer.indexedDatasetAccessGrants.edges.map((edge) => edge.node)).toEqual([
      {
        grantId: accessGrantId,
        grantee: { userId: tara.party.userId },
        updatedBlock: await blockOf(made.accessGrant!),
      },
    ]);
    expect(answer.indexedDatasetAccessLog.edges.map((edge) => edge.node)).toEqual([
      { accessId: made.access, accessor: { userId: tara.party.userId }, updatedBlock: await blockOf(made.access!) },
    ]);

    const rest = await api.call(
      'GET',
      `/v1/index/licences?workId=${workId}&licenseeMspId=${carol.party.mspId}&licenseeUserId=${carol.party.userId}`,
      auditor.token,
    );
    expect(rest.status).toBe(200);
    expect(
      (rest.body as { totalCount: number; items: { grantId: string }[] }).items.map((item) => item.grantId),
    ).toEqual([grantId]);
    const reversed = await api.call('GET', '/v1/index/royalty-periods?minAmount=200000&maxAmount=100', auditor.token);
    expect(reversed.status).toBe(422);
    expect(reversed.body).toMatchObject({ field: 'query.maxAmount' });
  });

  it('hides the licence and the dataset access from those the chaincode hides them from', async () => {
    await caughtUp();
    // Dan is in the licensee's organisation but party to nothing; the chaincode answers him 404.
    expect((await api.call('GET', `/v1/licensing/grants/${grantId}`, dan.token)).status).toBe(404);
    const danSees = await api.graphql<{
      indexedLicences: { totalCount: number };
      indexedDatasetAccessGrants: { totalCount: number };
      indexedWorks: { totalCount: number };
    }>(
      `{ indexedLicences(filter: { workId: "${workId}" }) { totalCount } indexedDatasetAccessGrants(filter: { datasetId: "${datasetId}" }) { totalCount } indexedWorks(filter: { org: "TalentOrgMSP", contentHash: "${sha(`indexed model ${suffix}`)}" }) { totalCount } }`,
      dan.token,
    );
    expect(danSees).toEqual({
      indexedLicences: { totalCount: 0 },
      indexedDatasetAccessGrants: { totalCount: 0 },
      indexedWorks: { totalCount: 1 },
    });
    // An auditor without grants: the chaincode refuses the access log, the index shows none of it.
    expect((await api.call('GET', `/v1/provenance/datasets/${datasetId}/access-log`, ungranted.token)).status).toBe(
      403,
    );
    const auditorSees = await api.graphql<{
      indexedLicences: { totalCount: number };
      indexedDatasetAccessLog: { totalCount: number };
      indexedRoyaltyPeriods: { totalCount: number };
    }>(
      `{ indexedLicences(filter: { workId: "${workId}" }) { totalCount } indexedDatasetAccessLog(filter: { datasetId: "${datasetId}" }) { totalCount } indexedRoyaltyPeriods(filter: { grantId: "${grantId}" }) { totalCount } }`,
      ungranted.token,
    );
    expect(auditorSees).toEqual({
      indexedLicences: { totalCount: 0 },
      indexedDatasetAccessLog: { totalCount: 0 },
      indexedRoyaltyPeriods: { totalCount: 0 },
    });
    // The parties see theirs.
    const carolSees = await api.call('GET', `/v1/index/dataset-access-grants?datasetId=${datasetId}`, carol.token);
    expect((carolSees.body as { items: { grantId: string }[] }).items.map((item) => item.grantId)).toEqual([
      accessGrantId,
    ]);
  });

  it('resumes after kills inside a block, before one and after a commit into the rows a rebuild from block 0 gives, which the check finds equal to the ledger; it names a tampered licence', async () => {
    await caughtUp();
    const crashes = ['inside-transaction:3', 'before-block:5', 'after-commit:4'];
    const {
      result,
      tookMs,
      checkRebuilt: checkAgain,
      removeFolders,
    } = await compareKilledAndRebuilt(crashes, async ({ killedDb, rebuiltDb, common, checkRebuilt }) => {
      const check = await checkRebuilt();
      expect([check.code, check.stdout]).toEqual([0, expect.stringContaining('No difference.')]);
      expect(check.stdout).toMatch(/[1-9][0-9]* licences, [1-9][0-9]* royalty periods/);
      const rows = async (db: Db) =>
        Object.fromEntries(
          await Promise.all(
            domainTables.map(
              async (table) =>
                [
                  table,
                  (await db.selectFrom(table).selectAll().where('updated_block', '<', common).execute())
                    .map((row) => JSON.stringify(row))
                    .sort(),
                ] as const,
            ),
          ),
        );
      const resumedRows = await rows(killedDb);
      expect(resumedRows).toEqual(await rows(rebuiltDb));
      // Other suites on the shared network make licences and uses too: count this suite's own.
      const own = (table: keyof typeof resumedRows, column: string, id: string) =>
        resumedRows[table]?.filter((row) => (JSON.parse(row) as Record<string, unknown>)[column] === id) ?? [];
      expect(own('ix_licences', 'grant_id', grantId)).toHaveLength(1);
      expect(own('ix_dataset_access_log', 'dataset_id', datasetId)).toHaveLength(1);

      await rebuiltDb.updateTable('ix_licences').set({ status: 'revoked' }).where('grant_id', '=', grantId).execute();
      return check.stdout;
    });
    try {
      process.stdout.write(`audit index domains: three kills, resume and rebuild took ${String(tookMs)} ms\n${result}`);
      const tampered = await checkAgain();
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain(`licence  ${grantId}  differs  ledger active`);
    } finally {
      removeFolders();
    }
  });
});
