import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PaymentOrder } from '../provider.js';
import { verifyProviderCallback } from '../webhook/callback-verifier.js';
import { signatureHeaders, webhookSigner } from '../webhook/signature.js';
import {
  startRecordingServer,
  testSecret,
  type RecordedRequest,
  type RecordingServer,
} from '../webhook/test-support/recording-server.js';
import { WebhookProviderAdapter } from '../webhook/webhook-adapter.js';
import { startSandboxProvider, type SandboxProvider, type SandboxProviderOptions } from './sandbox-provider.js';

const outboundSecret = testSecret();
const callbackSecret = testSecret();
const apiKey = 'sandbox-api-key-0123456789';

function orderOf(instructionId: string, amountMinor = 125_000n, holderName = 'Tara Talent'): PaymentOrder {
  return {
    instructionId,
    direction: 'payout',
    amountMinor,
    currency: 'EUR',
    counterparty: { kind: 'iban', holderName, iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
    remittanceInformation: `${instructionId} release`,
    requestedAt: '2026-03-01T10:00:00.000Z',
  };
}

function verified(request: RecordedRequest) {
  return verifyProviderCallback({ headers: request.headers, rawBody: request.body, secret: callbackSecret });
}

/** A sandbox calling back to its own recording receiver, and the adapter that talks to it. */
interface Rig {
  readonly sandbox: SandboxProvider;
  readonly receiver: RecordingServer;
  readonly adapter: WebhookProviderAdapter;
  close(): Promise<void>;
}

const running: Rig[] = [];

async function startRig(options: Partial<SandboxProviderOptions> = {}, receiver?: RecordingServer): Promise<Rig> {
  const callbacks = receiver ?? (await startRecordingServer());
  const sandbox = await startSandboxProvider({
    outboundSecret,
    callbackSecret,
    callbackUrl: `${callbacks.url}/v1/settlement/callbacks/sandbox`,
    apiKey,
    callbackDelayMs: 20,
    callbackRetry: { baseMs: 10, maxMs: 40 },
    ...options,
  });
  const adapter = new WebhookProviderAdapter({
    name: 'sandbox',
    providerUrl: sandbox.url,
    outboundSecret,
    apiKey,
    requestTimeoutMs: 2000,
  });
  const rig: Rig = {
    sandbox,
    receiver: callbacks,
    adapter,
    async close() {
      await sandbox.close();
      await callbacks.close();
    },
  };
  running.push(rig);
  return rig;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe('sandbox provider, end to end with the webhook adapter', () => {
  const dataDirs: string[] = [];

  afterEach(async () => {
    for (const rig of running.splice(0)) await rig.close();
  });

  afterAll(() => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an order and calls back paid, signed with the callback secret', async () => {
    const { adapter, receiver, sandbox } = await startRig();
    const outcome = await adapter.send(orderOf('A-1/m1/release-1'));
    expect(outcome).toEqual({ status: 'accepted', providerReference: expect.stringMatching(/^sbx_/) as string });

    const [callback] = await receiver.waitForRequests(1);
    expect(callback?.method).toBe('POST');
    expect(callback?.url).toBe('/v1/settlement/callbacks/sandbox');
    expect(verified(callback!)).toEqual({
      ok: true,
      webhookId: callback!.headers['webhook-id'],
      confirmation: {
        instructionId: 'A-1/m1/release-1',
        outcome: 'paid',
        providerReference: outcome.status === 'accepted' ? outcome.providerReference : '',
        amountMinor: 125_000n,
        currency: 'EUR',
      },
    });
    expect(
      verifyProviderCallback({ headers: callback!.headers, rawBody: callback!.body, secret: outboundSecret }),
    ).toMatchObject({ ok: false, code: 'WEBHOOK_SIGNATURE_INVALID' });

    const statement = await adapter.statement(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000));
    expect(statement).toEqual([
      expect.objectContaining({ instructionId: 'A-1/m1/release-1', status: 'paid', amountMinor: 125_000n }),
    ]);
    expect((await fetch(`${sandbox.url}/healthz`)).status).toBe(200);
  });

  it('fails an order whose amount ends in 13, and one to a refused payee', async () => {
    const { adapter, receiver } = await startRig({ failPayees: ['mallory  example', 'FR7630006000011234567890189'] });
    await adapter.send(orderOf('A-2/m1/release-1', 4213n));
    await adapter.send(orderOf('A-2/m2/release-1', 5000n, 'Mallory Example'));
    const callbacks = await receiver.waitForRequests(2);
    const confirmations = callbacks.map((request) => {
      const result = verified(request);
      return result.ok ? result.confirmation : result;
    });
    expect(confirmations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instructionId: 'A-2/m1/release-1',
          outcome: 'failed',
          reason: 'AMOUNT_REFUSED_BY_SANDBOX: the sandbox provider refuses every amount whose minor units end in 13',
          amountMinor: 4213n,
        }),
        expect.objectContaining({
          instructionId: 'A-2/m2/release-1',
          outcome: 'failed',
          reason: 'PAYEE_REFUSED_BY_SANDBOX: the sandbox provider refuses every payment to this payee',
        }),
      ]),
    );
  });

  it('executes an order sent twice once, answering 202 then 200 with the same reference', async () => {
    const { adapter, receiver, sandbox } = await startRig();
    const order = orderOf('A-3/m1/release-1');
    const first = await adapter.send(order);
    const second = await adapter.send(order);
    expect(second).toEqual(first);
    await receiver.waitForRequests(1);
    await sleep(150);
    const third = await adapter.send(order);
    expect(third).toEqual(first);
    await sleep(100);

    expect(receiver.requests).toHaveLength(1);
    const payments = await operatorView(sandbox);
    expect(payments).toEqual([
      expect.objectContaining({
        instructionId: order.instructionId,
        receivedCount: 3,
        executedCount: 1,
        status: 'paid',
      }),
    ]);
  });

  it('refuses the same idempotency key for a different order', async () => {
    const { adapter } = await startRig();
    await adapter.send(orderOf('A-4/m1/release-1', 1000n));
    const other = await adapter.send(orderOf('A-4/m1/release-1', 9000n));
    expect(other).toEqual({
      status: 'rejected',
      reason: expect.stringMatching(/^HTTP 422 IDEMPOTENCY_KEY_REUSED: /) as string,
    });
  });

  it('refuses unsigned, tampered and wrongly signed orders with 401', async () => {
    const { sandbox } = await startRig();
    const body = JSON.stringify({
      type: 'payment_order.requested',
      timestamp: new Date().toISOString(),
      data: {
        instructionId: 'A-5/m1/release-1',
        direction: 'payout',
        amount: '1000',
        currency: 'EUR',
        exponent: 2,
        counterparty: { kind: 'provider', holderName: 'Tara', reference: 'wallet-7' },
        remittanceInformation: '',
        requestedAt: new Date().toISOString(),
      },
    });
    const post = (headers: Record<string, string>, text: string) =>
      fetch(`${sandbox.url}/v1/payment-orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'A-5/m1/release-1', ...headers },
        body: text,
      });
    const signedHeaders = { ...signatureHeaders(webhookSigner(outboundSecret), 'msg_a', new Date(), body) };

    const unsigned = await post({}, body);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    const tampered = await post(signedHeaders, body.replace('"1000"', '"9000"'));
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const wrongSecret = await post(
      { ...signatureHeaders(webhookSigner(testSecret()), 'msg_b', new Date(), body) },
      body,
    );
    expect(wrongSecret.status).toBe(401);
    const wrongKey = await post({ ...signedHeaders, 'idempotency-key': 'A-5/m9/release-1' }, body);
    expect(wrongKey.status).toBe(400);
    expect(await wrongKey.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISMATCH' });
    // Signed, but naming the amount twice: which one a parser keeps is up to the parser.
    const twice = body.replace('"amount":"1000"', '"amount":"1","amount":"1000"');
    const ambiguous = await post(
      { ...signatureHeaders(webhookSigner(outboundSecret), 'msg_c', new Date(), twice) },
      twice,
    );
    expect(ambiguous.status).toBe(400);
    expect(await ambiguous.json()).toMatchObject({
      code: 'ORDER_INVALID',
      message: 'data.amount: appears twice in one JSON object; member names must be unique',
    });
    expect(sandbox.payments()).toEqual([]);

    const accepted = await post(signedHeaders, body);
    expect(accepted.status).toBe(202);
  });

  it('delivers every second callback twice with the same webhook-id and body', async () => {
    const { adapter, receiver } = await startRig({ duplicateEvery: 2 });
    await adapter.send(orderOf('A-6/m1/release-1'));
    await receiver.waitForRequests(1);
    await adapter.send(orderOf('A-6/m2/release-1'));
    const callbacks = await receiver.waitForRequests(3);
    await sleep(150);
    expect(receiver.requests).toHaveLength(3);

    const ids = callbacks.map((request) => request.headers['webhook-id']);
    expect(ids[1]).toBe(ids[2]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(callbacks[2]?.body).toBe(callbacks[1]?.body);
    for (const request of callbacks) expect(verified(request).ok).toBe(true);
  });

  it('holds back every second callback by the late delay', async () => {
    const { adapter, receiver } = await startRig({ lateEvery: 2, lateMs: 400 });
    await adapter.send(orderOf('A-7/m1/release-1'));
    const [first] = await receiver.waitForRequests(1);
    const sentSecond = Date.now();
    await adapter.send(orderOf('A-7/m2/release-1'));
    await sleep(250);
    expect(receiver.requests).toHaveLength(1);
    const [, second] = await receiver.waitForRequests(2);
    expect(second!.receivedAt - sentSecond).toBeGreaterThanOrEqual(400);
    expect(first).toBeDefined();
  });

  it('retries a callback until the receiver answers 2xx, always as the same message', async () => {
    const { adapter, receiver, sandbox } = await startRig();
    receiver.reply((_request, index) => (index < 3 ? { status: index === 1 ? 500 : 503 } : { status: 200 }));
    await adapter.send(orderOf('A-8/m1/release-1'));
    const callbacks = await receiver.waitForRequests(4);
    await sleep(150);
    expect(receiver.requests).toHaveLength(4);
    expect(new Set(callbacks.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(new Set(callbacks.map((request) => request.body)).size).toBe(1);
    expect((await operatorView(sandbox))[0]).toMatchObject({
      executedCount: 1,
      callback: { attempts: 4, deliveries: 1 },
    });
  });

  it('after a restart on the same data directory, does not execute a known order again', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-provider-'));
    dataDirs.push(dataDir);
    const before = await startRig({ dataDir });
    const order = orderOf('A-9/m1/release-1');
    const first = await before.adapter.send(order);
    await before.receiver.waitForRequests(1);
    // The receiver has the callback before the sandbox has read the answer; closing in
    // between would rightly make the restarted sandbox deliver it again.
    await waitUntil(() => before.sandbox.payments()[0]?.callback?.deliveries === 1);
    await before.close();

    const after = await startRig({ dataDir });
    expect(await after.adapter.send(order)).toEqual(first);
    await sleep(200);
    expect(after.receiver.requests).toHaveLength(0);
    expect(await operatorView(after.sandbox)).toEqual([
      expect.objectContaining({ instructionId: order.instructionId, receivedCount: 2, executedCount: 1 }),
    ]);
  });

  it('after a restart, delivers a callback the receiver had not yet taken, as the same message', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-provider-'));
    dataDirs.push(dataDir);
    const before = await startRig({ dataDir, callbackRetry: { baseMs: 5000, maxMs: 5000 } });
    before.receiver.reply(() => ({ status: 503 }));
    await before.adapter.send(orderOf('A-10/m1/release-1'));
    const [refused] = await before.receiver.waitForRequests(1);
    await before.close();

    const after = await startRig({ dataDir });
    const [delivered] = await after.receiver.waitForRequests(1);
    expect(delivered?.headers['webhook-id']).toBe(refused?.headers['webhook-id']);
    expect(delivered?.body).toBe(refused?.body);
    expect(await operatorView(after.sandbox)).toEqual([
      expect.objectContaining({ executedCount: 1, callback: expect.objectContaining({ deliveries: 1 }) as object }),
    ]);
  });

  it('keeps the statement and the operator view to holders of the API key', async () => {
    const { sandbox } = await startRig();
    for (const endpoint of [
      '/v1/sandbox/payments',
      `/v1/statements?from=${new Date(0).toISOString()}&to=${new Date().toISOString()}`,
    ]) {
      const response = await fetch(`${sandbox.url}${endpoint}`, { headers: { authorization: 'Bearer wrong' } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

/** What an operator sees at GET /v1/sandbox/payments. */
async function operatorView(sandbox: SandboxProvider): Promise<unknown[]> {
  const response = await fetch(`${sandbox.url}/v1/sandbox/payments`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { payments: unknown[] }).payments;
}
