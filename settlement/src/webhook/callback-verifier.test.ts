import { Webhook } from 'standardwebhooks';
import { verifyProviderCallback } from './callback-verifier.js';
import { testSecret } from './test-support/recording-server.js';

const secret = testSecret();
const now = new Date('2026-03-01T12:00:00.000Z');

const paid = {
  type: 'payment_order.paid',
  timestamp: '2026-03-01T11:59:59.000Z',
  data: { instructionId: 'A-100/m1/release-1', providerReference: 'pr_1', amount: '125000', currency: 'EUR' },
};

/** Signs as a provider would, with the library alone. */
function signed(body: string, options: { signingSecret?: string; at?: Date; id?: string } = {}) {
  const at = options.at ?? now;
  const id = options.id ?? 'msg_1';
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.signingSecret ?? secret).sign(id, at, body),
  };
}

describe('verifyProviderCallback', () => {
  it('accepts a signed callback and reads the confirmation, amount as a bigint', () => {
    const body = JSON.stringify(paid);
    expect(verifyProviderCallback({ headers: signed(body), rawBody: body, secret, now })).toEqual({
      ok: true,
      webhookId: 'msg_1',
      confirmation: {
        instructionId: 'A-100/m1/release-1',
        outcome: 'paid',
        providerReference: 'pr_1',
        amountMinor: 125_000n,
        currency: 'EUR',
      },
    });
  });

  it('reads a failed callback with its reason, from fetch Headers and a byte body', () => {
    const body = JSON.stringify({
      ...paid,
      type: 'payment_order.failed',
      data: { ...paid.data, reason: 'ACCOUNT_CLOSED' },
    });
    const result = verifyProviderCallback({
      headers: new Headers(signed(body, { id: 'msg_2' })),
      rawBody: Buffer.from(body),
      secret,
      now,
    });
    expect(result).toMatchObject({
      ok: true,
      webhookId: 'msg_2',
      confirmation: { outcome: 'failed', reason: 'ACCOUNT_CLOSED' },
    });
  });

  it('refuses an unsigned callback with 401 WEBHOOK_SIGNATURE_MISSING', () => {
    const body = JSON.stringify(paid);
    expect(verifyProviderCallback({ headers: {}, rawBody: body, secret, now })).toMatchObject({
      ok: false,
      status: 401,
      code: 'WEBHOOK_SIGNATURE_MISSING',
      field: 'header.webhook-id',
    });
    const { 'webhook-signature': _dropped, ...withoutSignature } = signed(body);
    expect(verifyProviderCallback({ headers: withoutSignature, rawBody: body, secret, now })).toMatchObject({
      ok: false,
      status: 401,
      code: 'WEBHOOK_SIGNATURE_MISSING',
      message: 'the message is not signed: webhook-signature absent',
      field: 'header.webhook-signature',
    });
  });

  it('refuses a tampered body with 401 WEBHOOK_SIGNATURE_INVALID', () => {
    const body = JSON.stringify(paid);
    const tampered = body.replace('125000', '925000');
    expect(verifyProviderCallback({ headers: signed(body), rawBody: tampered, secret, now })).toMatchObject({
      ok: false,
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      field: 'header.webhook-signature',
    });
  });

  it('refuses a callback signed with another secret with 401 WEBHOOK_SIGNATURE_INVALID', () => {
    const body = JSON.stringify(paid);
    const headers = signed(body, { signingSecret: testSecret() });
    expect(verifyProviderCallback({ headers, rawBody: body, secret, now })).toMatchObject({
      ok: false,
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
    });
  });

  it('takes a callback signed with any of the secrets of a rotation, and still refuses one signed with none', () => {
    const body = JSON.stringify(paid);
    const rotated = testSecret();
    const secrets = [secret, rotated];
    for (const signingSecret of secrets) {
      const headers = signed(body, { signingSecret });
      expect(verifyProviderCallback({ headers, rawBody: body, secret: secrets, now })).toMatchObject({
        ok: true,
        webhookId: 'msg_1',
      });
    }
    const forged = signed(body, { signingSecret: testSecret() });
    expect(verifyProviderCallback({ headers: forged, rawBody: body, secret: secrets, now })).toMatchObject({
      ok: false,
      status: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
    });
    // A stale timestamp is refused as such, whichever secret signed it.
    const stale = signed(body, { signingSecret: rotated, at: new Date(now.getTime() - 10 * 60_000) });
    expect(verifyProviderCallback({ headers: stale, rawBody: body, secret: secrets, now })).toMatchObject({
      ok: false,
      code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
    });
    expect(() => verifyProviderCallback({ headers: forged, rawBody: body, secret: [], now })).toThrow(TypeError);
  });

  it('refuses a correctly signed callback ten minutes old or ahead with 401 WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', () => {
    const body = JSON.stringify(paid);
    for (const offsetMs of [-10 * 60_000, 10 * 60_000]) {
      const headers = signed(body, { at: new Date(now.getTime() + offsetMs) });
      expect(verifyProviderCallback({ headers, rawBody: body, secret, now })).toMatchObject({
        ok: false,
        status: 401,
        code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
        field: 'header.webhook-timestamp',
      });
    }
    const withinTolerance = signed(body, { at: new Date(now.getTime() - 4 * 60_000) });
    expect(verifyProviderCallback({ headers: withinTolerance, rawBody: body, secret, now }).ok).toBe(true);
  });

  it.each([
    ['1.5', 'data.amount'],
    ['01', 'data.amount'],
    ['-5', 'data.amount'],
    ['0', 'data.amount'],
    [1250, 'data.amount'],
  ])('refuses the amount %p with 400 WEBHOOK_PAYLOAD_INVALID naming %s', (amount, field) => {
    const body = JSON.stringify({ ...paid, data: { ...paid.data, amount } });
    const result = verifyProviderCallback({ headers: signed(body), rawBody: body, secret, now });
    expect(result).toMatchObject({ ok: false, status: 400, code: 'WEBHOOK_PAYLOAD_INVALID', field: `body.${field}` });
    expect(!result.ok && result.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
  });

  it('refuses a signed body that is not a callback with 400 WEBHOOK_PAYLOAD_INVALID naming the field', () => {
    for (const [body, message] of [
      ['{"type":', 'the body is not JSON'],
      [JSON.stringify({ ...paid, type: 'payment_order.refunded' }), /^type: /],
      [JSON.stringify({ ...paid, data: { ...paid.data, providerReference: undefined } }), /^data\.providerReference: /],
      [JSON.stringify({ ...paid, data: { ...paid.data, currency: 'XXX' } }), /^data\.currency: /],
    ] as const) {
      const result = verifyProviderCallback({ headers: signed(body), rawBody: body, secret, now });
      expect(result).toMatchObject({ ok: false, status: 400, code: 'WEBHOOK_PAYLOAD_INVALID' });
      expect(!result.ok && result.message).toMatch(message);
    }
  });

  it('refuses a signed callback naming one member twice, whichever of the two amounts a parser would keep', () => {
    // JSON.parse keeps the last amount; a provider's own tooling may have signed the first.
    const body = JSON.stringify(paid).replace('"amount":"125000"', '"amount":"1","amount":"125000"');
    const result = verifyProviderCallback({ headers: signed(body), rawBody: body, secret, now });
    expect(result).toEqual({
      ok: false,
      status: 400,
      code: 'WEBHOOK_PAYLOAD_INVALID',
      message: 'data.amount: appears twice in one JSON object; member names must be unique',
      field: 'body.data.amount',
    });
  });

  it('throws on a secret that is not a whsec_ secret, a configuration error', () => {
    const body = JSON.stringify(paid);
    expect(() => verifyProviderCallback({ headers: signed(body), rawBody: body, secret: 'not-a-secret', now })).toThrow(
      TypeError,
    );
  });
});
