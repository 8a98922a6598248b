import { AgreementKit, terms } from '../test-support/agreement-test-kit.js';
import { jsonLimitBreach, maxJsonDepth } from './json-limits.js';

/** `{"a":{"a":…{"a":leaf}}}` with `levels` objects, built without recursion. */
function nested(levels: number, leaf: unknown = 'x'): unknown {
  let value = leaf;
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

describe('caller-supplied JSON is bounded before anything walks it', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  it('measures nesting without recursion, however deep the value', () => {
    const deep = JSON.parse('['.repeat(400_000) + ']'.repeat(400_000)) as unknown;
    expect(jsonLimitBreach(deep, { maxDepth: maxJsonDepth })).toEqual({
      path: Array.from({ length: maxJsonDepth }, () => '0'),
      limit: 'depth',
    });
    expect(jsonLimitBreach(nested(maxJsonDepth), { maxDepth: maxJsonDepth })).toBeUndefined();
    expect(jsonLimitBreach([1, [2, 3]], { maxDepth: 5, maxValues: 4 })).toEqual({ path: ['1', '1'], limit: 'values' });
  });

  it('refuses a REST body nested past the limit with 422 naming the field, and writes nothing', async () => {
    const before = kit.mark();
    const draft = {
      ...kit.draftRequest(kit.nextAgreementId()),
      terms: { ...terms, personalData: nested(maxJsonDepth) },
    };
    const response = await kit.server.request('POST', '/v1/agreements', { token: kit.cast.client.token, body: draft });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: ['body', 'terms', 'personalData', ...Array.from({ length: maxJsonDepth - 2 }, () => 'a')].join('.'),
    });
    expect(kit.mark()).toEqual(before);
  });

  it('refuses a megabyte of brackets from an anonymous caller with a 4xx, not a crash', async () => {
    const body = '['.repeat(500_000) + ']'.repeat(500_000);
    for (const path of ['/v1/auth/token', '/v1/credentials/verify']) {
      const response = await kit.server.request('POST', path, { body });
      expect([path, response.status, (response.body as { code?: string }).code]).toEqual([
        path,
        422,
        'VALIDATION_FAILED',
      ]);
    }
  });
});
