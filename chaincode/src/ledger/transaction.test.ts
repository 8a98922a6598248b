import { z } from 'zod';
import { contractSpecs } from '../model/spec';
import { InMemoryLedger, testIdentity } from '../test-support/in-memory-ledger';
import { refuse } from './refusal';
import { runTransaction } from './transaction';
import { writeRecord } from './state';

const { submit } = contractSpecs('example');
const created = z.object({ id: z.string(), at: z.string(), txId: z.string() });
const create = submit('create', z.object({ requestId: z.string().min(1), id: z.string() }).strict(), created);
const touch = submit('touch', z.object({ id: z.string() }).strict(), created);

const alice = testIdentity('ClientOrgMSP', 'alice', 'client');
const bob = testIdentity('ClientOrgMSP', 'bob', 'client');

describe('runTransaction', () => {
  let ledger: InMemoryLedger;
  let steps: number;
  let prepared: number;
  let closed: boolean;

  beforeEach(() => {
    ledger = new InMemoryLedger();
    steps = 0;
    prepared = 0;
    closed = false;
  });

  function createAs(identity: typeof alice, request: unknown, secret = 'one') {
    return ledger.invoke(identity, (ctx) =>
      runTransaction(ctx, create, JSON.stringify(request), {
        prepare: (tx) => {
          prepared += 1;
          if (closed) refuse('FORBIDDEN', `${tx.caller.userId ?? 'nobody'} may no longer create`);
          return secret;
        },
        fingerprint: (parsed, kept) => ({ parsed, kept }),
        run: async (tx, parsed) => {
          steps += 1;
          await writeRecord(tx.ctx, `thing/${parsed.id}`, { id: parsed.id });
          return { id: parsed.id, at: tx.at, txId: tx.txId };
        },
      }),
    );
  }

  it('refuses an argument that does not match the spec before the step runs, naming the field', async () => {
    await expect(createAs(alice, { requestId: 'r1', id: 7 })).rejects.toThrow(/^VALIDATION_FAILED\[id\]: id: /);
    await expect(
      ledger.invoke(alice, (ctx) => runTransaction(ctx, create, '{id', async () => Promise.reject(new Error('ran')))),
    ).rejects.toThrow(/^VALIDATION_FAILED\[request\]: the transaction argument is not valid JSON$/);
    expect(prepared).toBe(0);
    expect(steps).toBe(0);
    expect(ledger.keys()).toEqual([]);
  });

  it('answers a repeated request id with the stored result, running prepare again but not the step', async () => {
    const first = await createAs(alice, { requestId: 'r1', id: 'a' });
    ledger.advanceSeconds(60);
    const again = await createAs(alice, { requestId: 'r1', id: 'a' });

    expect(again).toEqual(first);
    expect(steps).toBe(1);
    expect(prepared).toBe(2);
    // The repeat names the transaction that acted, so a client can answer with it.
    const [acted, repeat] = ledger.transactions;
    expect(repeat?.writes).toEqual([]);
    expect(repeat?.event).toEqual({ name: 'request.Replayed', payload: { txId: acted?.txId } });
    expect(acted?.event).toBeUndefined();
  });

  it('keeps request ids apart per caller', async () => {
    const mine = await createAs(alice, { requestId: 'r1', id: 'a' });
    const theirs = await createAs(bob, { requestId: 'r1', id: 'a' });

    expect(theirs.txId).not.toBe(mine.txId);
    expect(steps).toBe(2);
  });

  it('refuses a request id reused for a different request or different prepared input', async () => {
    await createAs(alice, { requestId: 'r1', id: 'a' });

    await expect(createAs(alice, { requestId: 'r1', id: 'b' })).rejects.toThrow(/^REQUEST_ID_REUSED\[requestId\]: /);
    await expect(createAs(alice, { requestId: 'r1', id: 'a' }, 'two')).rejects.toThrow(
      /^REQUEST_ID_REUSED\[requestId\]: request id r1 was already used for a different create request$/,
    );
    expect(steps).toBe(1);
  });

  it('refuses a retry that prepare now refuses, although a result is stored', async () => {
    await createAs(alice, { requestId: 'r1', id: 'a' });
    closed = true;

    await expect(createAs(alice, { requestId: 'r1', id: 'a' })).rejects.toThrow(
      /^FORBIDDEN: alice may no longer create$/,
    );
    expect(steps).toBe(1);
  });

  it('runs a step whose request has no request id on every call', async () => {
    const touchOnce = () =>
      ledger.invoke(alice, (ctx) =>
        runTransaction(ctx, touch, JSON.stringify({ id: 'a' }), (tx, request) => {
          steps += 1;
          return Promise.resolve({ id: request.id, at: tx.at, txId: tx.txId });
        }),
      );
    const first = await touchOnce();
    const second = await touchOnce();

    expect(second.txId).not.toBe(first.txId);
    expect(steps).toBe(2);
    expect(ledger.keys()).toEqual([]);
  });
});
