import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { PaymentOrder } from '../provider.js';
import { paymentOrderRequestedSchema } from './protocol.js';
import { checkSignature, webhookSigner } from './signature.js';
import { startRecordingServer, testSecret, type RecordingServer } from './test-support/recording-server.js';
import { nextAttemptDelayMs, ProviderStatementError, WebhookProviderAdapter } from './webhook-adapter.js';

const order: PaymentOrder = {
  instructionId: 'A-100/m1/release-1',
  direction: 'payout',
  amountMinor: 125_000n,
  currency: 'EUR',
  counterparty: { kind: 'iban', holderName: 'Tara Talent', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
  remittanceInformation: 'A-100 milestone m1',
  requestedAt: '2026-03-01T10:00:00.000Z',
};

describe('WebhookProviderAdapter over HTTP', () => {
  const secret = testSecret();
  let provider: RecordingServer;
  let adapter: WebhookProviderAdapter;

  beforeAll(async () => {
    provider = await startRecordingServer();
    adapter = new WebhookProviderAdapter({
      name: 'acme-pay',
      providerUrl: `${provider.url}/`,
      outboundSecret: secret,
      apiKey: 'statement-key-0123456789',
      // Generous: the tests that expect an answer run beside the end-to-end suites on a busy host.
      requestTimeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await provider.close();
  });

  it('posts a signed order with the instruction id as idempotency key and keeps the reference of 202 and 200', async () => {
    provider.reply((_request, index) => ({ status: index === 0 ? 202 : 200, body: { providerReference: 'pr_1' } }));
    const before = provider.requests.length;

    expect(await adapter.send(order)).toEqual({ status: 'accepted', providerReference: 'pr_1' });
    expect(await adapter.send(order)).toEqual({ status: 'accepted', providerReference: 'pr_1' });

    const [first, second] = provider.requests.slice(before);
    expect(first?.method).toBe('POST');
    expect(first?.url).toBe('/v1/payment-orders');
    expect(first?.headers['idempotency-key']).toBe(order.instructionId);
    const check = checkSignature(webhookSigner(secret), first!.headers, first!.body, new Date());
    expect(check.ok).toBe(true);
    expect(checkSignature(webhookSigner(testSecret()), first!.headers, first!.body, new Date()).ok).toBe(false);
    const message = paymentOrderRequestedSchema.parse(JSON.parse(first!.body));
    expect(message.data).toEqual({
      instructionId: order.instructionId,
      direction: 'payout',
      amount: 125_000n,
      currency: 'EUR',
      exponent: 2,
      counterparty: order.counterparty,
      remittanceInformation: order.remittanceInformation,
      requestedAt: order.requestedAt,
    });
    expect(JSON.parse(first!.body)).toMatchObject({ data: { amount: '125000' } });
    // Each attempt is its own message; the order's identity is the idempotency key.
    expect(second?.headers['webhook-id']).not.toBe(first?.headers['webhook-id']);
    expect(second?.headers['idempotency-key']).toBe(order.instructionId);
  });

  it.each([408, 409, 425, 429, 500, 502, 503])('asks to retry after HTTP %i', async (status) => {
    provider.reply(() => ({ status, body: { code: 'BUSY', message: 'try later' } }));
    expect(await adapter.send(order)).toEqual({ status: 'retry', reason: `HTTP ${status} BUSY: try later` });
  });

  it.each([400, 401, 403, 404, 410, 422])('rejects with the provider reason after HTTP %i', async (status) => {
    provider.reply(() => ({ status, body: { code: 'ACCOUNT_CLOSED', message: 'the payee account is closed' } }));
    expect(await adapter.send(order)).toEqual({
      status: 'rejected',
      reason: `HTTP ${status} ACCOUNT_CLOSED: the payee account is closed`,
    });
  });

  it('still counts a 2xx without a readable reference as accepted', async () => {
    provider.reply(() => ({ status: 202 }));
    expect(await adapter.send(order)).toEqual({ status: 'accepted' });
  });

  it('asks to retry when the provider does not answer in time', async () => {
    provider.reply(() => 'hang');
    const impatient = new WebhookProviderAdapter({
      name: 'acme-pay',
      providerUrl: `${provider.url}/`,
      outboundSecret: secret,
      apiKey: 'statement-key-0123456789',
      requestTimeoutMs: 300,
    });
    expect(await impatient.send(order)).toEqual({ status: 'retry', reason: 'no answer within 300 ms' });
  });

  it('asks to retry when nothing listens at the provider URL', async () => {
    const closedPort = await freePort();
    const unreachable = new WebhookProviderAdapter({
      name: 'gone',
      providerUrl: `http://127.0.0.1:${closedPort}`,
      outboundSecret: secret,
      apiKey: 'k',
    });
    const outcome = await unreachable.send(order);
    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' && outcome.reason).toMatch(/^network error: .*ECONNREFUSED/);
  });

  it('rejects an order the protocol cannot carry without sending it', async () => {
    const before = provider.requests.length;
    // A withdrawn ISO 4217 code (Croatian kuna, replaced by the euro in 2023).
    expect(await adapter.send({ ...order, currency: 'HRK' })).toEqual({
      status: 'rejected',
      reason: 'CURRENCY_NOT_SUPPORTED: HRK is not carried by the protocol',
    });
    const badIban = await adapter.send({
      ...order,
      counterparty: { kind: 'iban', holderName: 'Tara', iban: 'DE89 3704', bic: 'COBADEFF' },
    });
    expect(badIban.status).toBe('rejected');
    expect(badIban.status === 'rejected' && badIban.reason).toMatch(/^ORDER_INVALID: data\.counterparty\.iban: /);
    expect(provider.requests.length).toBe(before);
  });

  it('reads a statement with the API key, amounts as bigints', async () => {
    provider.reply(() => ({
      status: 200,
      body: {
        entries: [
          {
            instructionId: order.instructionId,
            providerReference: 'pr_1',
            direction: 'payout',
            amount: '125000',
            currency: 'EUR',
            status: 'paid',
            bookedAt: '2026-03-01T10:00:01.000Z',
          },
        ],
      },
    }));
    const entries = await adapter.statement(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-02T00:00:00Z'));
    expect(entries).toEqual([
      {
        instructionId: order.instructionId,
        providerReference: 'pr_1',
        direction: 'payout',
        amountMinor: 125_000n,
        currency: 'EUR',
        status: 'paid',
        bookedAt: '2026-03-01T10:00:01.000Z',
      },
    ]);
    const request = provider.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.headers.authorization).toBe('Bearer statement-key-0123456789');
    const query = new URL(request.url, provider.url).searchParams;
    expect(query.get('from')).toBe('2026-03-01T00:00:00.000Z');
    expect(query.get('to')).toBe('2026-03-02T00:00:00.000Z');
  });

  it('throws ProviderStatementError for a refused or malformed statement', async () => {
    provider.reply(() => ({ status: 401, body: { code: 'UNAUTHENTICATED', message: 'bad key' } }));
    const refused = adapter.statement(new Date(0), new Date());
    await expect(refused).rejects.toBeInstanceOf(ProviderStatementError);
    await expect(refused).rejects.toMatchObject({ status: 401, provider: 'acme-pay' });

    provider.reply(() => ({ status: 200, body: { entries: [{ instructionId: 'x', amount: 12.5 }] } }));
    await expect(adapter.statement(new Date(0), new Date())).rejects.toThrow(/the statement is not in the protocol: /);
  });

  it('refuses a secret that is not a whsec_ secret when constructed', () => {
    expect(
      () =>
        new WebhookProviderAdapter({ name: 'x', providerUrl: provider.url, outboundSecret: 'hunter2', apiKey: 'k' }),
    ).toThrow(TypeError);
  });
});

describe('nextAttemptDelayMs', () => {
  const backoff = { baseMs: 100, maxMs: 10_000 };

  it('draws from [0, base × 2^(attempt−1)), capped at maxMs', () => {
    for (const [attempt, ceiling] of [
      [1, 100],
      [2, 200],
      [5, 1600],
      [8, 10_000],
      [60, 10_000],
      [5000, 10_000],
    ] as const) {
      expect(nextAttemptDelayMs(attempt, { ...backoff, random: () => 0 })).toBe(0);
      expect(nextAttemptDelayMs(attempt, { ...backoff, random: () => 0.5 })).toBe(ceiling / 2);
      const highest = nextAttemptDelayMs(attempt, { ...backoff, random: () => 0.999_999_999 });
      expect(highest).toBeLessThan(ceiling);
      expect(highest).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  it('stays within bounds with the real random source', () => {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      const delay = nextAttemptDelayMs(attempt, backoff);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(10_000, 100 * 2 ** (attempt - 1)));
    }
  });

  it('refuses parameters that make no schedule', () => {
    expect(() => nextAttemptDelayMs(0, backoff)).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1.5, backoff)).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1, { baseMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1, { baseMs: 100, maxMs: 50 })).toThrow(RangeError);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
