import * as grpc from '@grpc/grpc-js';
import { agreementTransactions, parameterTransactions } from '@gigledger/chaincode/model';
import { evaluationWeight } from './contract-client.js';
import { gatewayCallLimit, waitedUnsentForSlot, weightedCallOptions } from './gateway-call-limit.js';

/*
 * The limit against a real gRPC server on loopback that answers a Gateway-shaped method
 * only when the test lets it, so calls in flight can be counted on the server's side.
 */
const raw = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (value: Buffer) => value,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (value: Buffer) => value,
};
const service = {
  Evaluate: { path: '/gateway.Gateway/Evaluate', requestStream: false, responseStream: false, ...raw },
  Deliver: { path: '/protos.Deliver/Deliver', requestStream: false, responseStream: false, ...raw },
};

interface HeldServer {
  readonly address: string;
  /** Calls the server has received and not answered, per method. */
  readonly held: Map<string, (() => void)[]>;
  readonly peak: Map<string, number>;
  release(method: string): void;
  close(): Promise<void>;
}

async function heldServer(): Promise<HeldServer> {
  const server = new grpc.Server();
  const held = new Map<string, (() => void)[]>();
  const peak = new Map<string, number>();
  const hold = (method: string) => (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => {
    const waiting = held.get(method) ?? [];
    waiting.push(() => {
      callback(null, Buffer.from('ok'));
    });
    held.set(method, waiting);
    peak.set(method, Math.max(peak.get(method) ?? 0, waiting.length));
  };
  server.addService(service, { Evaluate: hold('Evaluate'), Deliver: hold('Deliver') });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  return {
    address: `127.0.0.1:${port}`,
    held,
    peak,
    release: (method) => {
      const waiting = held.get(method) ?? [];
      held.set(method, []);
      for (const answer of waiting) answer();
    },
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
      }),
  };
}

function call(
  client: grpc.Client,
  method: keyof typeof service,
  deadline = Date.now() + 10_000,
  weight?: number,
): Promise<{ ok: true } | { ok: false; code: number; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      service[method].path,
      raw.requestSerialize,
      raw.responseDeserialize,
      Buffer.from('request'),
      new grpc.Metadata(),
      { deadline, ...(weight === undefined ? {} : weightedCallOptions(weight)) },
      (error) => {
        resolve(error ? { ok: false, code: error.code, details: error.details } : { ok: true });
      },
    );
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries += 1) {
    if (tries > 200) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gatewayCallLimit', () => {
  let server: HeldServer;
  let client: grpc.Client;
  const queued: number[] = [];

  beforeEach(async () => {
    server = await heldServer();
    queued.length = 0;
    client = new grpc.Client(server.address, grpc.credentials.createInsecure(), {
      interceptors: [gatewayCallLimit(2, (waiting) => queued.push(waiting))],
    });
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('keeps at most the limit of Gateway calls at the peer and sends the rest as slots free', async () => {
    let answered = 0;
    const calls = Array.from({ length: 5 }, () =>
      call(client, 'Evaluate').then((outcome) => {
        answered += 1;
        return outcome;
      }),
    );
    await until(() => (server.held.get('Evaluate') ?? []).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.held.get('Evaluate')).toHaveLength(2);
    expect(queued).toEqual([1, 2, 3]);
    while (answered < calls.length) {
      server.release('Evaluate');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 5 }, () => ({ ok: true })));
    expect(server.peak.get('Evaluate')).toBe(2);
  });

  it('leaves other services alone', async () => {
    const calls = Array.from({ length: 4 }, () => call(client, 'Deliver'));
    await until(() => (server.held.get('Deliver') ?? []).length === 4);
    server.release('Deliver');
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 4 }, () => ({ ok: true })));
    expect(queued).toEqual([]);
  });

  it('ends a call that waited its whole deadline with DEADLINE_EXCEEDED, without sending it', async () => {
    const first = [call(client, 'Evaluate'), call(client, 'Evaluate')];
    await until(() => (server.held.get('Evaluate') ?? []).length === 2);
    const late = await call(client, 'Evaluate', Date.now() + 150);
    expect(late).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
    // Told apart from a call the peer ran past its deadline, directly and wrapped as fabric-gateway wraps it.
    const unsent = Object.assign(new Error(`4 DEADLINE_EXCEEDED: ${late.ok ? '' : late.details}`), {
      details: late.ok ? '' : late.details,
    });
    expect(waitedUnsentForSlot(unsent)).toBe(true);
    expect(waitedUnsentForSlot(new Error('gateway error', { cause: unsent }))).toBe(true);
    expect(waitedUnsentForSlot(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'))).toBe(false);
    server.release('Evaluate');
    expect(await Promise.all(first)).toEqual([{ ok: true }, { ok: true }]);
    // The expired call never reached the server, and its slot was never taken.
    expect(server.peak.get('Evaluate')).toBe(2);
    const next = call(client, 'Evaluate');
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    server.release('Evaluate');
    expect(await next).toEqual({ ok: true });
  });

  it('starts the deadline when the call is sent, not while it waits', async () => {
    const first = [call(client, 'Evaluate'), call(client, 'Evaluate')];
    await until(() => (server.held.get('Evaluate') ?? []).length === 2);
    const created = Date.now();
    const waiting = call(client, 'Evaluate', created + 1500);
    await new Promise((resolve) => setTimeout(resolve, 900));
    server.release('Evaluate');
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    // Answered 1.8 s after it was made: past its deadline counted from creation, within it from sending.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, created + 1800 - Date.now())));
    server.release('Evaluate');
    expect(await waiting).toEqual({ ok: true });
    expect(await Promise.all(first)).toEqual([{ ok: true }, { ok: true }]);
  });

  it('still ends a sent call at its deadline', async () => {
    const outcome = await call(client, 'Evaluate', Date.now() + 200);
    expect(outcome).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
    server.release('Evaluate');
  });

  it('counts a weighted call as that many slots, first come first sent', async () => {
    // A call of weight 2 fills the limit of 2 alone; the light call behind it waits its turn.
    const heavy = call(client, 'Evaluate', Date.now() + 10_000, 2);
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    const light = call(client, 'Evaluate');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.held.get('Evaluate')).toHaveLength(1);
    expect(queued).toEqual([1]);
    server.release('Evaluate');
    expect(await heavy).toEqual({ ok: true });
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    // One light call in flight: a heavy one waits, and a light one behind it waits too.
    const secondHeavy = call(client, 'Evaluate', Date.now() + 10_000, 2);
    const secondLight = call(client, 'Evaluate');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.held.get('Evaluate')).toHaveLength(1);
    expect(queued).toEqual([1, 1, 2]);
    server.release('Evaluate');
    expect(await light).toEqual({ ok: true });
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    server.release('Evaluate');
    expect(await secondHeavy).toEqual({ ok: true });
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    server.release('Evaluate');
    expect(await secondLight).toEqual({ ok: true });
    expect(server.peak.get('Evaluate')).toBe(1);
  });

  it('takes a weight above the limit as the whole limit, and one below 1 as 1', async () => {
    const heavy = call(client, 'Evaluate', Date.now() + 10_000, 50);
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    server.release('Evaluate');
    expect(await heavy).toEqual({ ok: true });
    const light = [
      call(client, 'Evaluate', Date.now() + 10_000, 0),
      call(client, 'Evaluate', Date.now() + 10_000, 0.2),
    ];
    await until(() => (server.held.get('Evaluate') ?? []).length === 2);
    server.release('Evaluate');
    expect(await Promise.all(light)).toEqual([{ ok: true }, { ok: true }]);
  });

  it('frees the slots of a weighted call that expired while waiting', async () => {
    const first = call(client, 'Evaluate');
    await until(() => (server.held.get('Evaluate') ?? []).length === 1);
    const expired = await call(client, 'Evaluate', Date.now() + 150, 2);
    expect(expired).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
    server.release('Evaluate');
    expect(await first).toEqual({ ok: true });
    const both = [call(client, 'Evaluate'), call(client, 'Evaluate')];
    await until(() => (server.held.get('Evaluate') ?? []).length === 2);
    server.release('Evaluate');
    expect(await Promise.all(both)).toEqual([{ ok: true }, { ok: true }]);
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => gatewayCallLimit(0)).toThrow(RangeError);
    expect(() => gatewayCallLimit(1.5)).toThrow(/positive whole number/);
  });
});

describe('evaluationWeight', () => {
  it('weighs a list by the records it may read to fill its page, per 100; anything else as one call', () => {
    const list = agreementTransactions.listAgreementsByParty;
    expect(evaluationWeight(list, { pageSize: 500 })).toBe(10);
    expect(evaluationWeight(list, { pageSize: 101 })).toBe(3);
    expect(evaluationWeight(list, { pageSize: 100 })).toBe(2);
    expect(evaluationWeight(list, { pageSize: 7 })).toBe(1);
    expect(evaluationWeight(list, {})).toBe(2);
    expect(evaluationWeight(list, { pageSize: '500' })).toBe(2);
    // Not a list: one slot, whatever the request holds.
    expect(evaluationWeight(agreementTransactions.getAgreement, { agreementId: 'a-1', pageSize: 500 })).toBe(1);
    expect(evaluationWeight(parameterTransactions.listParameters, undefined)).toBe(1);
  });
});
