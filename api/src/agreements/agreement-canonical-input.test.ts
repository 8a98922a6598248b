import { AgreementKit, terms, type Person } from '../test-support/agreement-test-kit.js';

/*
 * The terms of an agreement are hashed; a document the parties hold must hash to what
 * the ledger records. A body whose terms hold a __proto__ key (which object assignment
 * and zod drop) or a lone surrogate (which UTF-8 turns into U+FFFD) is refused with 422
 * naming the field, before the ledger is called. And a draft under a taken id gets the
 * same answer whether or not the caller may read the agreement holding it.
 */

interface ErrorBody {
  readonly requestId: string;
  readonly commandRequestId?: string;
}

describe('agreement drafts over HTTP: canonical terms and taken ids', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  /** A draft body as raw JSON text, with `termsJson` spliced in as the terms. */
  const draftText = (agreementId: string, termsJson: string): string => {
    const { requestId: _generated, ...draft } = kit.draftRequest(agreementId);
    return JSON.stringify({ ...draft, terms: null }).replace('"terms":null', `"terms":${termsJson}`);
  };

  it.each([
    [
      'a __proto__ key',
      JSON.stringify(terms).replace('"personalData":{', '"personalData":{"__proto__":{"taxId":"x"},'),
      'body.terms.personalData.__proto__',
    ],
    [
      'a lone surrogate',
      JSON.stringify({ ...terms, scope: 'Label images' }).replace('Label', 'Label \\udc00'),
      'body.terms.scope',
    ],
  ])('refuses terms holding %s with 422 naming the field, writing nothing', async (_, termsJson, field) => {
    const before = kit.mark();
    const response = await kit.server.request('POST', '/v1/agreements', {
      token: kit.cast.client.token,
      body: draftText(kit.nextAgreementId(), termsJson),
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    expect(kit.mark()).toEqual(before);
  });

  it('answers a draft under a taken id alike, whether or not the caller may read the agreement', async () => {
    const target = await kit.offered();
    const draftAs = (as: Person) => {
      const { requestId: _generated, ...draft } = kit.draftRequest(target.agreementId);
      return kit.server.request('POST', '/v1/agreements', {
        token: as.token,
        body: { ...draft, client: as.party, terms },
      });
    };
    const before = kit.mark();
    const byParty = await draftAs(kit.cast.client);
    const byOutsider = await draftAs(kit.cast.otherClient);
    const strip = (body: unknown) => {
      // Each request's own ids differ; everything else must not.
      const { requestId: _requestId, commandRequestId: _commandRequestId, ...rest } = body as ErrorBody;
      return rest;
    };
    expect(byParty.status).toBe(409);
    expect(strip(byOutsider.body)).toEqual(strip(byParty.body));
    expect(strip(byParty.body)).toEqual({
      status: 409,
      code: 'ALREADY_EXISTS',
      field: 'body.agreementId',
      message: `the agreement id ${target.agreementId} is already taken; choose another id`,
    });
    expect(kit.mark().writes).toBe(before.writes);
  });
});
