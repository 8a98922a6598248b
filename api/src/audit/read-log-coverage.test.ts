import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isLeafType,
  isNonNullType,
  type GraphQLArgument,
  type GraphQLInputType,
} from 'graphql';
import { licenceTermsSha256 } from '@gigledger/chaincode/model';
import { TransactionNotFoundError, type ProofBundle, type ProofExporter } from '@gigledger/gateway';
import { scopesByRole, type Scope } from '../auth/principal.js';
import { apiSchemaSdl } from '../cli/print-schema.js';
import { idArguments } from './read-subjects.js';
import { credentialCast, issue, ledgerDaysFromNow } from '../test-support/credential-test-kit.js';
import { memberRights, startTestServer, type Person, type TestServer } from '../test-support/test-server.js';
import { bundleExporter } from '../test-support/bundle-exporter.js';

/*
 * Walks every read an auditor or HR system can make, REST routes from the OpenAPI
 * document and GraphQL root query fields from the schema, as an auditor who holds no
 * grant, so most are refused: each must still leave a read-log row naming the
 * organisations it was about. A new route or field with an argument this walk cannot
 * fill fails here until it is given one, and so is covered.
 */

const fixture = JSON.parse(
  readFileSync(new URL('../../../gateway/test-fixtures/proof-bundle.json', import.meta.url), 'utf8'),
) as ProofBundle;
const exporter: ProofExporter = bundleExporter((transactionId) =>
  transactionId === fixture.transactionId
    ? Promise.resolve(fixture)
    : Promise.reject(new TransactionNotFoundError(transactionId)),
);

/**
 * Reads about nobody's records but the caller's own, or the consortium's rules and the
 * ledger's shape: they name no organisation whatever they answer. None takes a record id
 * or an organisation.
 */
const aboutNoOrganisation = new Set([
  'GET /v1/me',
  'GET /v1/settlement/payout-accounts/me',
  'GET /v1/settlement/reconciliation',
  'GET /v1/credentials',
  'GET /v1/disputes',
  'GET /v1/audit/grants',
  'GET /v1/audit/scope',
  'GET /v1/governance/genesis',
  'GET /v1/governance/rules/parameters/:name',
  'GET /v1/index/height',
  'graphql me',
  'graphql chaincodeVersion',
  'graphql parameterRule',
  'graphql ledgerHeights',
  'graphql panelDisputes',
  'graphql panelDisputePage',
  'graphql auditGrants',
  'graphql auditGrantPage',
  'graphql auditScope',
  'graphql readLog',
  'graphql indexedBlocks',
]);

/** Query strings that make a search name the organisations it looks into. */
const searches: Readonly<Record<string, string>> = {
  '/v1/agreements': '?mspId=TalentOrgMSP&userId=tara',
  '/v1/index/agreements': '?org=ClientOrgMSP',
  '/v1/index/payouts': '?org=ClientOrgMSP',
  '/v1/index/credentials': '?org=TalentOrgMSP',
  '/v1/index/transactions': '?org=TalentOrgMSP',
  '/v1/index/proposals': '?org=ClientOrgMSP',
  '/v1/index/works': '?org=TalentOrgMSP',
  '/v1/index/licences': '?licensorOrg=TalentOrgMSP',
  '/v1/index/royalty-periods': '?licenseeOrg=ClientOrgMSP',
  '/v1/index/provenance-records': '?org=TalentOrgMSP',
  '/v1/index/dataset-access-grants': '?org=TalentOrgMSP',
  '/v1/provenance/records/{recordId}/lineage': '?direction=descendants',
};

interface Operation {
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly required?: boolean }[];
  readonly 'x-required-scope'?: string;
}

describe('the read log names the organisations of every read an auditor or HR system can make', () => {
  let server: TestServer;
  let auditor: Person;
  let ids: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({}, { proofs: exporter });
    const cast = await credentialCast(server, 'c-');
    auditor = await server.person('walker', 'AuditOrg', 'auditor');
    const tara = await server.person('tara', 'TalentOrg', 'freelancer');
    const carol = await server.person('carol', 'ClientOrg', 'client');
    const clientAdmin = await server.person('client-ops', 'ClientOrg', 'admin');
    const other = await server.person('other-auditor', 'AuditOrg', 'auditor');
    const governor = await server.person('gov-walk', 'ClientOrg', 'governor');
    const arbitrator = await server.person('arb-walk', 'AuditOrg', 'arbitrator');
    await server.genesis([
      ...memberRights,
      { type: 'addArbitrator' as const, arbitrator: arbitrator.party, displayName: 'Walking arbitrator' },
    ]);
    await server.sealGenesis();
    const created = async (path: string, as: Person, body: unknown) => {
      const answer = await server.request('POST', path, { token: as.token, body });
      if (answer.status !== 201 && answer.status !== 200) {
        throw new Error(`${path}: ${String(answer.status)} ${answer.text}`);
      }
      return answer.body as { result: Record<string, unknown> };
    };
    await created('/v1/agreements', carol, {
      agreementId: 'A-walk',
      title: 'Walk every read',
      client: carol.party,
      freelancer: tara.party,
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Report',
          amount: '1000',
          currency: 'EUR',
          dueDate: ledgerDaysFromNow(server, 14),
          acceptanceCriteria: { description: 'A report' },
        },
      ],
      terms: { scope: 'Write a report.' },
    });
    const credential = await issue(server, cast.registrar, tara.party);
    await created('/v1/governance/proposals', governor, {
      proposalId: 'P-walk',
      title: 'Lower the fee',
      text: 'A lower fee for every member.',
      actions: [{ type: 'setParameter', name: 'platformFeeBps', value: 200 }],
      votingSeconds: 7200,
      timelockSeconds: 3600,
    });
    const contentHash = 'c'.repeat(64);
    await created('/v1/ip/works', tara, {
      workId: 'W-walk',
      kind: 'model',
      contentHash,
      title: 'Walked model',
      uri: 'https://models.example.com/walk',
      creators: [tara.party],
      owners: [{ party: tara.party, shareBps: 10_000 }],
    });
    const terms = { text: 'Licensed for walking.', salt: 'f'.repeat(32) };
    await created('/v1/licensing/offers', tara, {
      offerId: 'L-walk',
      workId: 'W-walk',
      licensee: carol.party,
      scope: 'commercial',
      fieldsOfUse: ['fraud-detection'],
      territories: ['DE'],
      exclusive: false,
      termStart: '2026-01-01T00:00:00.000Z',
      termEnd: '2027-01-01T00:00:00.000Z',
      royaltyBps: 100,
      currency: 'EUR',
      terms,
    });
    await created('/v1/licensing/offers/L-walk/grants', carol, {
      grantId: 'LG-walk',
      termsSha256: licenceTermsSha256(terms),
    });
    const sha = (digit: string) => digit.repeat(64);
    await created('/v1/provenance/datasets', tara, {
      recordId: 'DS-walk',
      contentSha256: sha('d'),
      title: 'Walked dataset',
      licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
      source: 'https://data.example.org',
      legalBasis: 'consent',
      piiClass: 'personal',
      retention: { kind: 'period', period: 'P2Y' },
      subjectData: { contact: 'dpo@example.org' },
    });
    await created('/v1/provenance/datasets/DS-walk/grants', tara, {
      grantId: 'DG-walk',
      grantee: carol.party,
      purpose: 'Benchmark',
      scope: ['read'],
      expiresAt: ledgerDaysFromNow(server, 30),
    });
    await created('/v1/erasure-requests', tara, {
      receiptId: 'ER-walk',
      target: { kind: 'datasetSubjectData', datasetId: 'DS-walk' },
      dataSubject: carol.party,
      ground: 'a',
    });
    await created('/v1/audit/grants', clientAdmin, {
      grantId: 'AG-walk',
      auditor: other.party,
      kinds: ['agreement'],
      expiresAt: ledgerDaysFromNow(server, 30),
      purpose: 'another auditor’s engagement',
    });
    // The explorer's row of the fixture's block, as the indexer writes it.
    await server.db
      .insertInto('ix_transactions')
      .values({
        block_number: fixture.block.number,
        position: fixture.transaction.index,
        tx_id: fixture.transactionId,
        header_type: 'ENDORSER_TRANSACTION',
        creator_msp: 'TalentOrgMSP',
        validation_code: 0,
        validation_name: 'VALID',
        timestamp: '2026-01-05T09:00:00.000Z',
        chaincode: 'gigledger',
        function_name: 'agreement:draftAgreement',
      })
      .execute();
    ids = {
      agreementId: 'A-walk',
      milestoneId: 'm1',
      instructionId: 'A-walk/m1/fund-escrow-1',
      credentialId: credential.credential.credentialId,
      mspId: 'TalentOrgMSP',
      userId: 'tara',
      workId: 'W-walk',
      contentHash,
      changeId: 'CH-none',
      offerId: 'L-walk',
      periodId: '2026-01',
      recordId: 'DS-walk',
      datasetId: 'DS-walk',
      receiptId: 'ER-walk',
      transactionId: fixture.transactionId,
      blockNumber: String(fixture.block.number),
      proposalId: 'P-walk',
      // The proof of a record: an agreement's, which the walk's ledger holds.
      kind: 'agreement',
      id: 'A-walk',
      direction: 'descendants',
      name: 'platformFeeBps',
      type: 'Certification',
    };
  }, 120_000);

  afterAll(async () => {
    await server.close();
  });

  /** Whether an argument or path parameter names a record or an organisation, which a read about nobody may not take. */
  const namesSomeone = (name: string): boolean =>
    idArguments[name] !== undefined || /^(mspId|org|organi[sz]ations?|\w+Msp(Id)?|\w+Org|grantId|id)$/.test(name);

  const lastRow = async () => {
    const row = await server.db
      .selectFrom('read_log')
      .select(['seq', 'operation', 'organisations', 'status'])
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    return { ...row, organisations: JSON.parse(row.organisations) as string[] };
  };

  // A grant id means a licence, a dataset's access grant or an audit grant by where it sits.
  const grantIdFor = (where: string): string => {
    if (where.includes('provenance') || where.startsWith('dataset')) return 'DG-walk';
    if (where.includes('audit')) return 'AG-walk';
    return 'LG-walk';
  };

  it('for every REST read route', async () => {
    const document = (await server.request('GET', '/openapi.json')).body as {
      paths: Record<string, { get?: Operation }>;
    };
    const readable = new Set([...scopesByRole.auditor, ...scopesByRole.hr]);
    const walked: string[] = [];
    for (const [template, item] of Object.entries(document.paths)) {
      const operation = item.get;
      const scope = operation?.['x-required-scope'];
      if (operation === undefined || scope === undefined || !readable.has(scope as Scope)) continue;
      const named = `GET ${template.replace(/\{(\w+)\}/g, ':$1')}`;
      const params = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
      if (aboutNoOrganisation.has(named)) {
        // Nothing that names a record may hide among the reads about nobody.
        expect([named, params.filter((parameter) => namesSomeone(parameter.name))]).toEqual([named, []]);
        continue;
      }
      const path = template.replace(/\{(\w+)\}/g, (_whole, name: string) => {
        const value = name === 'grantId' ? grantIdFor(template) : ids[name];
        if (value === undefined) throw new Error(`${named}: no value for path parameter ${name}; add one to the walk`);
        return encodeURIComponent(value);
      });
      const answer = await server.request('GET', `${path}${searches[template] ?? ''}`, { token: auditor.token });
      const row = await lastRow();
      walked.push(named);
      expect([named, answer.status, row.operation]).toEqual([named, answer.status, named]);
      expect([named, answer.status, row.organisations.length > 0]).toEqual([named, answer.status, true]);
    }
    // The walk reached the reads this change is about.
    expect(walked).toEqual(
      expect.arrayContaining([
        'GET /v1/erasure-receipts/:receiptId',
        'GET /v1/erasure-receipts/:receiptId/verification',
        'GET /v1/provenance/grants/:grantId',
        'GET /v1/proofs/:transactionId',
        'GET /v1/proofs/records/:kind/:id',
        'GET /v1/index/blocks/:blockNumber',
      ]),
    );
  }, 300_000);

  /** A GraphQL literal for an argument of this type, from the walk's ids; undefined when it has none. */
  const literal = (field: string, name: string, type: GraphQLInputType): string | undefined => {
    const named = getNamedType(type);
    if (name === 'revealedClaims') return '[]';
    if (isInputObjectType(named)) {
      const fields = Object.values(named.getFields());
      const parts = fields.flatMap((inner) => {
        const value =
          inner.name === 'org' || /^\w+Org$/.test(inner.name)
            ? JSON.stringify('TalentOrgMSP')
            : inner.name === 'parentId'
              ? JSON.stringify(ids.recordId)
              : isNonNullType(inner.type) || inner.name === 'subject'
                ? literal(field, inner.name, inner.type)
                : undefined;
        return value === undefined ? [] : [`${inner.name}: ${value}`];
      });
      return `{ ${parts.join(', ')} }`;
    }
    if (name === 'scope') return JSON.stringify('Write a report.');
    const value = name === 'grantId' ? grantIdFor(field) : name === 'id' ? ids.agreementId : ids[name];
    if (value === undefined) return undefined;
    return named.name === 'CredentialType' || named.name === 'ProvableRecordKind' ? value : JSON.stringify(value);
  };

  it('for every GraphQL root query field', async () => {
    const schema = buildSchema(apiSchemaSdl());
    const fields = Object.values(schema.getQueryType()?.getFields() ?? {});
    expect(fields.length).toBeGreaterThan(40);
    const filterOf = (argument: GraphQLArgument): boolean =>
      isNonNullType(argument.type) || ['filter', 'issuer', 'party'].includes(argument.name);
    for (const field of fields) {
      const named = `graphql ${field.name}`;
      const args = field.args.filter(filterOf).map((argument) => {
        const value = literal(field.name, argument.name, argument.type);
        if (value === undefined)
          throw new Error(`${named}: no value for argument ${argument.name}; add one to the walk`);
        return `${argument.name}: ${value}`;
      });
      if (aboutNoOrganisation.has(named)) {
        expect([named, field.args.filter((argument) => namesSomeone(argument.name))]).toEqual([named, []]);
        continue;
      }
      const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
      const query = `{ ${field.name}${args.length === 0 ? '' : `(${args.join(', ')})`}${selection} }`;
      const answer = await server.request('POST', '/graphql', { token: auditor.token, body: { query } });
      const row = await lastRow();
      expect([named, row.operation]).toEqual([named, `graphql query ${field.name}`]);
      expect([named, answer.text.slice(0, 200), row.organisations.length > 0]).toEqual([
        named,
        answer.text.slice(0, 200),
        true,
      ]);
    }
  }, 300_000);
});
