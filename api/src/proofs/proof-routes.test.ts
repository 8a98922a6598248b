import { readFileSync } from 'node:fs';
import { common, msp } from '@hyperledger/fabric-protos';
import { TransactionNotFoundError, verifyProof, type ProofBundle, type ProofExporter } from '@gigledger/gateway';
import { grantAuditEverywhere } from '../test-support/audit-grants.js';
import { proofsPerRequest } from './proof-graphql.js';
import { bundleExporter } from '../test-support/bundle-exporter.js';
import { suiteServer } from '../test-support/suite-server.js';
import type { Person, TestServer } from '../test-support/test-server.js';
import { provableKindNames } from './record-proofs.js';

/*
 * The exporter stands in for the peer with a bundle exported from the real network (a
 * TalentOrg member's transaction); test/src/proofs runs the same routes against Fabric.
 */
const fixture = JSON.parse(
  readFileSync(new URL('../../../gateway/test-fixtures/proof-bundle.json', import.meta.url), 'utf8'),
) as ProofBundle;
const unreachableId = 'f'.repeat(64);
const fixtureExporter = bundleExporter((transactionId) => {
  if (transactionId === fixture.transactionId) return Promise.resolve(fixture);
  if (transactionId === unreachableId) return Promise.reject(new Error('14 UNAVAILABLE: connection refused'));
  return Promise.reject(new TransactionNotFoundError(transactionId));
});
/** Transactions whose whole bundle was built (which reads the chain up from their block): never for a refusal. */
const built: string[] = [];
const exporter: ProofExporter = {
  locate: (transactionId) => fixtureExporter.locate(transactionId),
  exportProof: (transactionId) => {
    built.push(transactionId);
    return fixtureExporter.exportProof(transactionId);
  },
};

/**
 * Has `admin` grant `auditor` the reading of its organisation's transactions for an hour
 * (within `to`, when given) over REST, and checks the grant was made.
 */
async function grantTransactions(
  server: TestServer,
  admin: Person,
  auditor: Person,
  grant: { readonly grantId: string; readonly to?: string },
): Promise<void> {
  const granted = await server.request('POST', '/v1/audit/grants', {
    token: admin.token,
    body: {
      ...grant,
      auditor: auditor.party,
      kinds: ['transaction'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      purpose: 'proof test',
    },
  });
  expect(granted.status).toBe(201);
}

describe('GET /v1/proofs/{transactionId}', () => {
  const server = suiteServer({}, { proofs: exporter });
  const proof = (id: string, token?: string) =>
    server().request('GET', `/v1/proofs/${id}`, token === undefined ? {} : { token });

  it("gives an auditor the bundle, which verifies offline, only under a live transaction grant of the creator's organisation", async () => {
    const ungranted = await server().person('audra', 'AuditOrg', 'auditor');
    const refused = await proof(fixture.transactionId, ungranted.token);
    // The same answer as for an id the ledger does not hold, so the refusal tells nothing.
    expect(refused.status).toBe(404);
    const unknownId = 'ab'.repeat(32);
    const unknown = (await proof(unknownId, ungranted.token)).body as { code: string; message: string };
    const hidden = refused.body as { code: string; message: string };
    expect([hidden.code, hidden.message.replace(fixture.transactionId, '<id>')]).toEqual([
      unknown.code,
      unknown.message.replace(unknownId, '<id>'),
    ]);

    // A grant of another organisation (the fixture is a TalentOrg member's transaction) opens nothing.
    const clientGranted = await server().person('bea', 'AuditOrg', 'auditor');
    const clientAdmin = await server().person('client-audit-ops', 'ClientOrg', 'admin');
    await grantTransactions(server(), clientAdmin, clientGranted, { grantId: 'AG-proofs-1' });
    expect((await proof(fixture.transactionId, clientGranted.token)).status).toBe(404);

    const auditor = await server().person('cid', 'AuditOrg', 'auditor');
    await grantAuditEverywhere(server(), auditor);
    const answer = await proof(fixture.transactionId, auditor.token);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(fixture);
    expect(verifyProof(answer.body).valid).toBe(true);
  });

  it("refuses an auditor whose transaction grant's record time range misses the transaction, as the explorer", async () => {
    const auditor = await server().person('dita', 'AuditOrg', 'auditor');
    const talentAdmin = await server().person('talent-audit-ops', 'TalentOrg', 'admin');
    await grantTransactions(server(), talentAdmin, auditor, {
      grantId: 'AG-proofs-old',
      to: '2020-01-01T00:00:00.000Z',
    });
    built.length = 0;
    const refused = await proof(fixture.transactionId, auditor.token);
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ code: 'NOT_FOUND' });
    expect(built).toEqual([]);
  });

  it("gives an admin the proofs of its own organisation's transactions only", async () => {
    const own = await server().person('talent-ops', 'TalentOrg', 'admin');
    expect((await proof(fixture.transactionId, own.token)).status).toBe(200);
    const other = await server().person('client-ops', 'ClientOrg', 'admin');
    built.length = 0;
    const hidden = await proof(fixture.transactionId, other.token);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toMatchObject({ code: 'NOT_FOUND' });
    // Refused on the transaction's block alone: the bundle, which costs as much as the chain is long, is never built.
    expect(built).toEqual([]);
  });

  it('refuses parties and anonymous callers', async () => {
    const freelancer = await server().person('tara', 'TalentOrg', 'freelancer');
    expect((await proof(fixture.transactionId, freelancer.token)).status).toBe(403);
    expect((await proof(fixture.transactionId)).status).toBe(401);
  });

  it('answers 404 for an unknown id, 422 naming the field for a malformed one, 503 when the peer cannot be read', async () => {
    const auditor = await server().person('audrey', 'AuditOrg', 'auditor');
    expect((await proof('0'.repeat(64), auditor.token)).body).toMatchObject({ code: 'NOT_FOUND' });
    const malformed = await proof('ABC', auditor.token);
    expect(malformed.status).toBe(422);
    expect(malformed.body).toMatchObject({ field: 'path.transactionId' });
    const unreachable = await proof(unreachableId, auditor.token);
    expect(unreachable.status).toBe(503);
    expect(unreachable.body).toMatchObject({ code: 'PROOFS_UNAVAILABLE' });
  });

  it('answers 422 naming the field for an unknown record kind or a malformed id, 404 for an unknown record of every kind', async () => {
    const auditor = await server().person('audny', 'AuditOrg', 'auditor');
    const record = (path: string) => server().request('GET', `/v1/proofs/records/${path}`, { token: auditor.token });
    const kind = await record('spaceship/S-1');
    expect(kind.status).toBe(422);
    expect(kind.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path.kind' });
    const id = await record('credential/not%20an%20id!');
    expect(id.status).toBe(422);
    expect(id.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path.id' });
    const milestone = await record('milestone/A-1');
    const milestoneRefusal = milestone.body as { field: string; message: string };
    expect(milestoneRefusal.field).toBe('path.id');
    expect(milestoneRefusal.message).toMatch(/<agreementId>\/<milestoneId>/);
    const payout = await record(`payout/${encodeURIComponent('A-1/m1/bonus-1')}`);
    const payoutRefusal = payout.body as { field: string; message: string };
    expect(payoutRefusal.field).toBe('path.id');
    expect(payoutRefusal.message).toMatch(/fund-escrow, release, refund/);
    // Every governed parameter has a value from genesis on, so no parameter is unknown.
    const missingIds: Record<Exclude<(typeof provableKindNames)[number], 'parameter'>, string> = {
      agreement: 'X-none',
      milestone: 'X-none/m1',
      payout: 'X-none/m1/release-1',
      credential: 'X-none',
      proposal: 'X-none',
      work: 'X-none',
      'licence-offer': 'X-none',
      licence: 'X-none',
      'provenance-record': 'X-none',
      'dataset-access-grant': 'X-none',
      'audit-grant': 'X-none',
    };
    expect(Object.keys(missingIds).sort()).toEqual(provableKindNames.filter((each) => each !== 'parameter').sort());
    for (const [each, id] of Object.entries(missingIds)) {
      // Unknown and refused look alike: 404 NOT_FOUND naming the record asked for.
      const missing = await record(`${each}/${encodeURIComponent(id)}`);
      const body = missing.body as { code: string; message: string };
      expect([each, missing.status, body.code, body.message.includes(`${each} ${id}`)]).toEqual([
        each,
        404,
        'NOT_FOUND',
        true,
      ]);
    }
    const unknownParameter = await record('parameter/notAParameter');
    expect(unknownParameter.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path.id' });
    const freelancer = await server().person('tarik', 'TalentOrg', 'freelancer');
    expect(
      (await server().request('GET', '/v1/proofs/records/credential/C-1', { token: freelancer.token })).status,
    ).toBe(403);
  });

  it('answers 404 for the proof of an agreement the caller cannot see', async () => {
    const auditor = await server().person('audun', 'AuditOrg', 'auditor');
    const missing = await server().request('GET', '/v1/proofs/records/agreement/A-none', { token: auditor.token });
    expect(missing.status).toBe(404);
  });
});

describe('proofs over GraphQL', () => {
  const server = suiteServer({}, { proofs: exporter });
  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) =>
    (await server().request('POST', '/graphql', { token, body: { query, variables } })).body as {
      data?: Record<string, unknown> | null;
      errors?: { extensions?: { code?: string; field?: string } }[];
    };

  it('answers transactionProof under the REST rules, and recordProof NOT_FOUND for a record the caller cannot read', async () => {
    const ungranted = await server().person('gql-audra', 'AuditOrg', 'auditor');
    const auditor = await server().person('gql-cid', 'AuditOrg', 'auditor');
    const query = 'query ($id: String!) { transactionProof(transactionId: $id) }';
    const codeOf = async (token: string, text: string, variables: Record<string, unknown> = {}) =>
      (await gql(token, text, variables)).errors?.[0]?.extensions?.code;
    expect(await codeOf(ungranted.token, query, { id: fixture.transactionId })).toBe('NOT_FOUND');
    await grantAuditEverywhere(server(), auditor);
    const answer = await gql(auditor.token, query, { id: fixture.transactionId });
    expect(answer.data?.transactionProof).toEqual(fixture);
    expect(verifyProof(answer.data?.transactionProof).valid).toBe(true);
    expect((await gql(auditor.token, query, { id: 'XYZ' })).errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'transactionId',
    });
    expect(await codeOf(auditor.token, '{ recordProof(kind: licence_offer, id: "O-none") }')).toBe('NOT_FOUND');
    const malformed = await gql(auditor.token, '{ recordProof(kind: credential, id: "not an id!") }');
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
    const freelancer = await server().person('gql-tara', 'TalentOrg', 'freelancer');
    expect(await codeOf(freelancer.token, query, { id: fixture.transactionId })).toBe('FORBIDDEN');
  });

  it(`exports at most ${String(proofsPerRequest)} proofs per HTTP request, aliases and a batch's operations together`, async () => {
    const auditor = await server().person('gql-pia', 'AuditOrg', 'auditor');
    await grantAuditEverywhere(server(), auditor);
    const aliases = (count: number) =>
      `{ ${Array.from({ length: count }, (_, n) => `p${String(n)}: transactionProof(transactionId: "${fixture.transactionId}")`).join(' ')} }`;
    const within = await gql(auditor.token, aliases(proofsPerRequest));
    expect(within.errors).toBeUndefined();
    expect(Object.values(within.data ?? {})).toEqual(Array.from({ length: proofsPerRequest }, () => fixture));
    const over = await gql(auditor.token, aliases(proofsPerRequest + 1));
    expect(over.errors).toHaveLength(1);
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'transactionProof' });
    const batch = (
      await server().request('POST', '/graphql', {
        token: auditor.token,
        body: [
          { query: aliases(3) },
          {
            query:
              '{ recordProof(kind: licence_offer, id: "O-none") a: recordProof(kind: licence_offer, id: "O-none") b: recordProof(kind: licence_offer, id: "O-none") }',
          },
        ],
      })
    ).body as { errors?: { extensions?: { code?: string; field?: string } }[] }[];
    expect(batch[0]?.errors).toBeUndefined();
    // The second operation's third proof is the request's sixth.
    expect(batch[1]?.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'recordProof' });
  });
});

/**
 * The fixture with a second transaction in its block: the fixture's envelope again with
 * ClientOrgMSP as its creator, so the block holds a TalentOrg and a ClientOrg transaction.
 */
function withClientOrgTransactionInBlock(bundle: ProofBundle): ProofBundle {
  const mixed = structuredClone(bundle);
  const envelope = common.Envelope.deserializeBinary(Buffer.from(bundle.transaction.envelope, 'base64'));
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const header = payload.getHeader()!;
  const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const creator = msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8());
  creator.setMspid('ClientOrgMSP');
  signatureHeader.setCreator(creator.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  payload.setHeader(header);
  envelope.setPayload(payload.serializeBinary());
  const data = common.BlockData.deserializeBinary(Buffer.from(bundle.block.data, 'base64'));
  data.setDataList([...data.getDataList_asU8(), envelope.serializeBinary()]);
  mixed.block.data = Buffer.from(data.serializeBinary()).toString('base64');
  return mixed;
}

describe("proofs of a block that holds other organisations' transactions", () => {
  const mixed = withClientOrgTransactionInBlock(fixture);
  const server = suiteServer(
    {},
    {
      proofs: bundleExporter((transactionId) =>
        transactionId === fixture.transactionId
          ? Promise.resolve(mixed)
          : Promise.reject(new TransactionNotFoundError(transactionId)),
      ),
    },
  );

  it("refuses the bundle, which would show the other transaction, to an admin of the creator's organisation and to an auditor granted only that organisation", async () => {
    const own = await server().person('mixed-talent-ops', 'TalentOrg', 'admin');
    const refused = await server().request('GET', `/v1/proofs/${fixture.transactionId}`, { token: own.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'BLOCK_NOT_COVERED', field: 'path.transactionId' });
    expect((refused.body as { message: string }).message).not.toContain('ClientOrg');

    const auditor = await server().person('mixed-auditor', 'AuditOrg', 'auditor');
    const talentAdmin = await server().person('mixed-talent-grants', 'TalentOrg', 'admin');
    await grantTransactions(server(), talentAdmin, auditor, { grantId: 'AG-mixed-talent' });
    const partly = await server().request('GET', `/v1/proofs/${fixture.transactionId}`, { token: auditor.token });
    expect(partly.status).toBe(403);
    expect(partly.body).toMatchObject({ code: 'BLOCK_NOT_COVERED', field: 'path.transactionId' });

    // Granted every organisation's transactions, the auditor holds the whole block.
    const everywhere = await server().person('mixed-auditor-all', 'AuditOrg', 'auditor');
    await grantAuditEverywhere(server(), everywhere);
    const whole = await server().request('GET', `/v1/proofs/${fixture.transactionId}`, { token: everywhere.token });
    expect(whole.status).toBe(200);
  });
});

describe('GET /v1/proofs without an exporter', () => {
  const server = suiteServer();

  it('answers 503 PROOFS_UNAVAILABLE', async () => {
    const auditor = await server().person('audra', 'AuditOrg', 'auditor');
    const answer = await server().request('GET', `/v1/proofs/${fixture.transactionId}`, { token: auditor.token });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'PROOFS_UNAVAILABLE' });
  });
});
