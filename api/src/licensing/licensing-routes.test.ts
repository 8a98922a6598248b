import { expectRefusedNaming, firstErrorField } from '../test-support/party-refusals.js';
import { createHash } from 'node:crypto';
import { licenceTermsSha256, type RoyaltyPeriodRecord } from '@gigledger/chaincode/model';
import { startTestServer, type Person, type TestServer } from '../test-support/test-server.js';

const terms = { text: 'Licensed for fraud scoring of card payments in the EU.', salt: '7'.repeat(32) };

describe('licensing over HTTP', () => {
  let server: TestServer;
  let tara: Person;
  let tom: Person;
  let carol: Person;
  let dave: Person;
  let hr: Person;

  beforeAll(async () => {
    server = await startTestServer();
    tara = await server.person('tara', 'TalentOrg', 'freelancer');
    tom = await server.person('tom', 'TalentOrg', 'freelancer');
    carol = await server.person('carol', 'ClientOrg', 'client');
    dave = await server.person('dave', 'ClientOrg', 'client');
    hr = await server.person('hilda', 'AuditOrg', 'hr');
    const registered = await server.request('POST', '/v1/ip/works', {
      token: tara.token,
      body: {
        workId: 'W-1',
        kind: 'model',
        contentHash: createHash('sha256').update('licensed model').digest('hex'),
        title: 'Fraud model',
        uri: 'https://models.example.com/fraud',
        creators: [
          { mspId: 'TalentOrgMSP', userId: 'tara' },
          { mspId: 'TalentOrgMSP', userId: 'tom' },
        ],
        owners: [
          { party: { mspId: 'TalentOrgMSP', userId: 'tara' }, shareBps: 6_000 },
          { party: { mspId: 'TalentOrgMSP', userId: 'tom' }, shareBps: 4_000 },
        ],
      },
    });
    expect(registered.status).toBe(201);
  });

  afterAll(async () => {
    await server.close();
  });

  const offerBody = (offerId: string, overrides: Record<string, unknown> = {}) => ({
    offerId,
    workId: 'W-1',
    licensee: { mspId: 'ClientOrgMSP', userId: 'carol' },
    scope: 'commercial',
    fieldsOfUse: ['fraud-detection'],
    territories: ['DE', 'FR'],
    exclusive: true,
    termStart: '2026-01-01T00:00:00.000Z',
    termEnd: '2099-01-01T00:00:00.000Z',
    royaltyBps: 750,
    currency: 'EUR',
    terms,
    ...overrides,
  });

  it('offers with every owner consenting, grants by Idempotency-Key, takes a report, and refuses what breaks a rule with its code', async () => {
    const offered = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      headers: { 'Idempotency-Key': 'offer-L-1' },
      body: offerBody('L-1'),
    });
    expect(offered.status).toBe(201);
    expect(offered.headers.get('location')).toBe('/v1/licensing/offers/L-1');
    expect(offered.body).toMatchObject({
      requestId: 'offer-L-1',
      result: { status: 'awaiting-consent', termsSha256: licenceTermsSha256(terms) },
    });
    const again = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      headers: { 'Idempotency-Key': 'offer-L-1' },
      body: offerBody('L-1'),
    });
    expect(again.status).toBe(201);
    expect((again.body as { result: unknown }).result).toEqual((offered.body as { result: unknown }).result);

    const consented = await server.request('POST', '/v1/licensing/offers/L-1/consents', { token: tom.token, body: {} });
    expect(consented.body).toMatchObject({ result: { status: 'open' } });

    const overlapping = await server.request('POST', '/v1/licensing/offers', {
      token: tom.token,
      body: offerBody('L-2', { exclusive: false, territories: ['WORLD'], licensee: undefined }),
    });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body).toMatchObject({ code: 'LICENCE_CONFLICT' });
    expect((overlapping.body as { message: string }).message).toContain('exclusive offer L-1');

    const readTerms = await server.request('GET', '/v1/licensing/offers/L-1/terms', { token: carol.token });
    expect(readTerms.body).toMatchObject({ terms, termsSha256: licenceTermsSha256(terms) });
    // Terms sent without a salt get one, which the parties read with them; the published hash is not the bare document's.
    const { salt: _salt, ...unsalted } = terms;
    const open = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      body: offerBody('L-open', { exclusive: false, licensee: undefined, scope: 'evaluation', terms: unsalted }),
    });
    expect(open.status).toBe(201);
    const openTerms = (await server.request('GET', '/v1/licensing/offers/L-open/terms', { token: tom.token })).body as {
      terms: { salt?: string };
      termsSha256: string;
    };
    expect(openTerms.terms.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(openTerms.termsSha256).not.toBe(licenceTermsSha256(unsalted));
    expect(openTerms.termsSha256).toBe(licenceTermsSha256({ ...unsalted, salt: openTerms.terms.salt }));
    const granted = await server.request('POST', '/v1/licensing/offers/L-1/grants', {
      token: carol.token,
      headers: { 'Idempotency-Key': 'accept-L-1' },
      body: { grantId: 'G-1', termsSha256: licenceTermsSha256(terms) },
    });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ requestId: 'accept-L-1', result: { grantId: 'G-1', status: 'active' } });

    const wrongCurrency = await server.request('POST', '/v1/licensing/grants/G-1/usage-reports', {
      token: carol.token,
      body: { periodId: '2026-01', units: '10', revenue: '100000', currency: 'USD' },
    });
    expect(wrongCurrency.status).toBe(422);
    expect(wrongCurrency.body).toMatchObject({ field: 'body.currency' });
    const badUnits = await server.request('POST', '/v1/licensing/grants/G-1/usage-reports', {
      token: carol.token,
      body: { periodId: '2026-01', units: '-1', revenue: '100000', currency: 'EUR' },
    });
    expect(badUnits.status).toBe(422);
    expect(badUnits.body).toMatchObject({ field: 'body.units' });
    const reported = await server.request('POST', '/v1/licensing/grants/G-1/usage-reports', {
      token: carol.token,
      body: { periodId: '2026-01', units: '10', revenue: '100001', currency: 'EUR' },
    });
    expect(reported.status).toBe(201);
    expect(reported.body).toMatchObject({ result: { royalty: '7500' } });

    const closed = await server.request('POST', '/v1/licensing/grants/G-1/periods/2026-01/closing', {
      token: tom.token,
      body: {},
    });
    expect(closed.status).toBe(200);
    const period = (closed.body as { result: RoyaltyPeriodRecord }).result;
    expect(
      period.instructions.map((instruction) => [instruction.kind, instruction.payer.userId, instruction.amount]),
    ).toEqual([['collection', 'carol', '7500']]);
    expect(period.shares?.map((share) => [share.party.userId, share.amount])).toEqual([
      ['tara', '4500'],
      ['tom', '3000'],
    ]);
    const view = await server.request('GET', '/v1/licensing/grants/G-1/periods/2026-01', { token: carol.token });
    expect(view.body).toMatchObject({ report: { royalty: '7500' }, closed: { status: 'collecting' } });
  });

  it('refuses an offer to a licensee this server enrols who does not exist or could not accept, naming the field', async () => {
    for (const [licensee, field, message] of [
      [
        { mspId: 'ClientOrgMSP', userId: 'ghost' },
        'body.licensee.userId',
        'ClientOrgMSP/ghost is no active client or freelancer on this server',
      ],
      [
        { mspId: 'AuditOrgMSP', userId: 'hilda' },
        'body.licensee.userId',
        'AuditOrgMSP/hilda is no active client or freelancer on this server',
      ],
    ] as const) {
      const refused = await server.request('POST', '/v1/licensing/offers', {
        token: tara.token,
        body: offerBody('L-ghost', { licensee }),
      });
      expectRefusedNaming(refused, field, message);
    }
    const overGraphql = await server.request('POST', '/graphql', {
      token: tara.token,
      body: {
        query: 'mutation ($input: OfferLicenceInput!) { offerLicence(input: $input) { offer { offerId } } }',
        variables: { input: offerBody('L-ghost', { licensee: { mspId: 'ClientOrgMSP', userId: 'ghost' } }) },
      },
    });
    expect(firstErrorField(overGraphql.body)).toBe('input.licensee.userId');
    expect((await server.request('GET', '/v1/licensing/offers/L-ghost', { token: tara.token })).status).toBe(404);
  });

  it('hides grants from strangers as missing, and keeps roles without licensing scopes out', async () => {
    const hidden = await server.request('GET', '/v1/licensing/grants/G-1', { token: dave.token });
    expect(hidden.status).toBe(404);
    const missing = await server.request('GET', '/v1/licensing/grants/G-404', { token: dave.token });
    expect(missing.status).toBe(404);
    expect(hidden.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.grantId' });
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.grantId' });
    const hiddenPeriod = await server.request('GET', '/v1/licensing/grants/G-1/periods/2026-01', { token: dave.token });
    expect(hiddenPeriod.body).toMatchObject({ status: 404, code: 'NOT_FOUND', field: 'path.grantId' });
    const noScope = await server.request('GET', '/v1/licensing/grants/G-1', { token: hr.token });
    expect(noScope.status).toBe(403);
    const wrongRole = await server.request('POST', '/v1/licensing/grants/G-1/revocation', {
      token: carol.token,
      body: { reason: 'not an owner' },
    });
    expect(wrongRole.status).toBe(403);
  });

  it('serves the same over GraphQL: reads that hide from strangers, commands with their payloads and refusals with their codes', async () => {
    const graphql = async (as: Person, query: string, variables: Record<string, unknown> = {}) => {
      const response = await server.request('POST', '/graphql', { token: as.token, body: { query, variables } });
      return response.body as {
        data?: Record<string, unknown> | null;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      };
    };
    const period = await graphql(
      carol,
      `
        {
          royaltyPeriod(grantId: "G-1", periodId: "2026-01") {
            start
            end
            report {
              royalty
            }
            closed {
              status
              shares {
                party {
                  userId
                }
                amount
              }
              instructions {
                kind
                payer {
                  userId
                }
                payee {
                  userId
                }
                amount
                status
              }
            }
          }
        }
      `,
    );
    expect(period.data?.royaltyPeriod).toMatchObject({
      start: '2026-01-01T00:00:00.000Z',
      end: '2026-02-01T00:00:00.000Z',
      report: { royalty: '7500' },
      closed: {
        status: 'collecting',
        shares: [
          { party: { userId: 'tara' }, amount: '4500' },
          { party: { userId: 'tom' }, amount: '3000' },
        ],
        instructions: [
          { kind: 'collection', payer: { userId: 'carol' }, payee: null, amount: '7500', status: 'pending' },
        ],
      },
    });
    const hidden = await graphql(dave, '{ licenceGrant(grantId: "G-1") { grantId } }');
    expect(hidden.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', status: 404, field: 'grantId' });

    const offerMutation = `mutation($input: OfferLicenceInput!) {
      offerLicence(input: $input) { requestId transactionId offer { offerId status owners { shareBps } } } }`;
    const input = {
      ...offerBody('L-g1', { exclusive: false, scope: 'research', licensee: null }),
      requestId: 'gql-offer-1',
    };
    const offered = await graphql(tara, offerMutation, { input });
    expect(offered.errors).toBeUndefined();
    expect(offered.data?.offerLicence).toMatchObject({
      requestId: 'gql-offer-1',
      offer: { offerId: 'L-g1', status: 'awaiting-consent', owners: [{ shareBps: 6000 }, { shareBps: 4000 }] },
    });
    const clash = await graphql(tom, offerMutation, {
      input: { ...offerBody('L-g2', { exclusive: false, licensee: null }) },
    });
    expect(clash.errors?.[0]?.extensions).toMatchObject({ code: 'LICENCE_CONFLICT', status: 409 });
    const badTerritory = await graphql(tom, offerMutation, {
      input: { ...offerBody('L-g3', { territories: ['Germany'] }) },
    });
    expect(badTerritory.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'input.territories.0',
    });
    const consent = await graphql(tom, 'mutation { consentToLicenceOffer(offerId: "L-g1") { offer { status } } }');
    expect(consent.data?.consentToLicenceOffer).toEqual({ offer: { status: 'open' } });

    // Withdrawal and revocation take an id and a reason, each refused under its own name.
    for (const { mutation, idName, idType, id, answer } of [
      {
        mutation: 'withdrawLicenceOffer',
        idName: 'offerId',
        idType: 'offer',
        id: 'L-g1',
        answer: { offer: { status: 'withdrawn' } },
      },
      {
        mutation: 'revokeLicenceGrant',
        idName: 'grantId',
        idType: 'grant',
        id: 'G-1',
        answer: { grant: { status: 'revoked' } },
      },
    ]) {
      const run = (idValue: string, reason: string) =>
        graphql(
          tara,
          `mutation($id: ID!, $reason: String!) { ${mutation}(${idName}: $id, reason: $reason) { ${idType} { status } } }`,
          { id: idValue, reason },
        );
      for (const [idValue, reason, field] of [
        [`${id} x`, 'no longer offered', idName],
        [id, '  ', 'reason'],
      ] as const) {
        const refusal = (await run(idValue, reason)).errors?.[0]?.extensions;
        expect(refusal?.code).toBe('VALIDATION_FAILED');
        expect(String(refusal?.field)).toMatch(new RegExp(`^${field}`));
      }
      expect((await run(id, 'no longer offered')).data?.[mutation]).toEqual(answer);
    }
  });
  it('charges a one-off fee on acceptance, split between the owners, readable on the grant over REST and GraphQL', async () => {
    const noCharge = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      body: offerBody('L-f0', { scope: 'evaluation', exclusive: false, royaltyBps: undefined }),
    });
    expect(noCharge.status).toBe(422);
    expect(noCharge.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.royaltyBps' });
    const zeroRoyalty = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      body: offerBody('L-f0', { scope: 'commercial', exclusive: true, royaltyBps: 0 }),
    });
    expect(zeroRoyalty.status).toBe(422);
    expect(zeroRoyalty.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.royaltyBps' });
    const zeroFee = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      body: offerBody('L-f0', { scope: 'evaluation', exclusive: false, royaltyBps: undefined, fee: { amount: '0' } }),
    });
    expect(zeroFee.status).toBe(422);
    expect(zeroFee.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.fee.amount' });

    const offered = await server.request('POST', '/v1/licensing/offers', {
      token: tara.token,
      body: offerBody('L-f1', {
        scope: 'evaluation',
        exclusive: false,
        royaltyBps: undefined,
        fee: { amount: '1001' },
      }),
    });
    expect(offered.status).toBe(201);
    expect(offered.body).toMatchObject({ result: { fee: { amount: '1001' } } });
    await server.request('POST', '/v1/licensing/offers/L-f1/consents', { token: tom.token, body: {} });
    const granted = await server.request('POST', '/v1/licensing/offers/L-f1/grants', {
      token: carol.token,
      body: { grantId: 'G-f1', termsSha256: licenceTermsSha256(terms) },
    });
    expect(granted.status).toBe(201);
    const read = await server.request('GET', '/v1/licensing/grants/G-f1', { token: tom.token });
    // 60 % of 1 001 floors to 600 and 40 % to 400: the unit left over goes to Tara, the larger share.
    // Nothing is paid to the owners before the licensee's payment is collected.
    expect(read.body).toMatchObject({
      fee: {
        amount: '1001',
        status: 'collecting',
        collections: [{ instructionId: 'G-f1/fee/collect-1', amount: '1001', status: 'pending' }],
        payouts: [
          { instructionId: 'G-f1/fee/fee-1', payee: { userId: 'tara' }, amount: '601', status: 'awaiting-collection' },
          { instructionId: 'G-f1/fee/fee-2', payee: { userId: 'tom' }, amount: '400', status: 'awaiting-collection' },
        ],
      },
    });
    const notFailed = await server.request('POST', '/v1/licensing/grants/G-f1/periods/fee/failed-payouts/reissue', {
      token: carol.token,
      body: { instructionId: 'G-f1/fee/collect-1' },
    });
    expect(notFailed.status).toBe(409);
    expect(notFailed.body).toMatchObject({ code: 'INVALID_STATE' });
    // The fee read as the period the index and the reissue route call it: its record, due at acceptance.
    const feePeriod = await server.request('GET', '/v1/licensing/grants/G-f1/periods/fee', { token: tom.token });
    expect(feePeriod.status).toBe(200);
    expect(feePeriod.body).toMatchObject({
      grantId: 'G-f1',
      periodId: 'fee',
      closed: { instructions: [{ instructionId: 'G-f1/fee/collect-1', kind: 'collection', status: 'pending' }] },
    });
    const { start, end } = feePeriod.body as { start: string; end: string };
    expect(end).toBe(start);
    // A grant with no fee says so about the period, not as though the grant were missing.
    const feeless = await server.request('GET', '/v1/licensing/grants/G-1/periods/fee', { token: carol.token });
    expect([feeless.status, feeless.body]).toEqual([
      404,
      expect.objectContaining({
        code: 'NOT_FOUND',
        field: 'path.periodId',
        message: expect.stringContaining('charges no one-off fee') as unknown,
      }),
    ]);
    const notAMonth = await server.request('GET', '/v1/licensing/grants/G-f1/periods/2026-13', { token: tom.token });
    expect([notAMonth.status, notAMonth.body]).toEqual([
      422,
      expect.objectContaining({
        field: 'path.periodId',
        message: 'path.periodId: must be a calendar month written YYYY-MM, or fee for the one-off fee',
      }),
    ]);

    const response = await server.request('POST', '/graphql', {
      token: carol.token,
      body: {
        query:
          '{ licenceGrant(grantId: "G-f1") { fee { amount status collections { status } payouts { payee { userId } amount status } } } }',
      },
    });
    expect((response.body as { data: unknown }).data).toEqual({
      licenceGrant: {
        fee: {
          amount: '1001',
          status: 'collecting',
          collections: [{ status: 'pending' }],
          payouts: [
            { payee: { userId: 'tara' }, amount: '601', status: 'awaiting-collection' },
            { payee: { userId: 'tom' }, amount: '400', status: 'awaiting-collection' },
          ],
        },
      },
    });
  });
});
