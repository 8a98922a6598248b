import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerPain001 } from './camt054.js';
import { Iso20022FileAdapter, ledgerFileName, type Iso20022FileAdapterOptions } from './file-adapter.js';
import { endToEndIdFor } from './identifiers.js';
import { readPain001 } from './pain001.js';
import { payout } from './test-support/payment-orders.js';
import { accounts, schemaErrors } from './test-support/xsd.js';

let root: string;
let outbox: string;
let inbox: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'iso20022-adapter-'));
  outbox = join(root, 'outbox');
  inbox = join(root, 'inbox');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function adapter(overrides: Partial<Iso20022FileAdapterOptions> = {}): Iso20022FileAdapter {
  let tick = 0;
  return new Iso20022FileAdapter({
    name: 'bank-files',
    outbox,
    inbox,
    debtor: accounts.escrow,
    batchSize: 10,
    clock: () => new Date(Date.UTC(2026, 2, 1, 9, 30, tick++)),
    ...overrides,
  });
}

const painFiles = async (): Promise<string[]> => (await readdir(outbox)).filter((name) => name.endsWith('.xml')).sort();

describe('Iso20022FileAdapter', () => {
  it('writes one valid pain.001 per flush, and each instruction id only once', async () => {
    const bank = adapter();
    expect(await bank.send(payout('A-1/m1/release-1'))).toEqual({
      status: 'accepted',
      providerReference: 'A-1/m1/release-1',
    });
    expect(await bank.send(payout('A-2/m1/release-1', 5000n, 'JPY'))).toMatchObject({ status: 'accepted' });
    expect(await bank.send(payout('A-1/m1/release-1'))).toMatchObject({ status: 'accepted' });
    const first = await bank.flush();
    expect(first?.instructionIds).toEqual(['A-1/m1/release-1', 'A-2/m1/release-1']);
    expect(await bank.flush()).toBeUndefined();

    // Retried after the file was written, by this instance and by a new one on the same outbox.
    expect(await bank.send(payout('A-1/m1/release-1'))).toMatchObject({ status: 'accepted' });
    const restarted = adapter();
    expect(await restarted.send(payout('A-2/m1/release-1', 5000n, 'JPY'))).toMatchObject({ status: 'accepted' });
    expect(await restarted.send(payout('A-3/m1/release-1'))).toMatchObject({ status: 'accepted' });
    const second = await restarted.flush();
    expect(second?.instructionIds).toEqual(['A-3/m1/release-1']);

    const files = await painFiles();
    expect(files).toHaveLength(2);
    const written = await Promise.all(files.map(async (name) => readFile(join(outbox, name), 'utf8')));
    for (const xml of written) expect(await schemaErrors(xml, 'pain.001.001.09')).toEqual([]);
    expect(written.flatMap((xml) => readPain001(xml).transactions.map((t) => t.endToEndId)).sort()).toEqual([
      'A-1/m1/release-1',
      'A-2/m1/release-1',
      'A-3/m1/release-1',
    ]);
    const ledger = JSON.parse(await readFile(join(outbox, ledgerFileName), 'utf8')) as {
      written: Record<string, unknown>;
    };
    expect(Object.keys(ledger.written)).toHaveLength(3);
  });

  it('names every file GL, its creation time and a digest of its instruction ids, even for one short id', async () => {
    const bank = adapter();
    for (const batch of [
      ['A-1/m1/release-1'],
      ['A-2/m1/release-1', 'A-3/m1/release-1', `A-4/${'m'.repeat(60)}/release-1`],
    ]) {
      for (const instructionId of batch) await bank.send(payout(instructionId));
      const file = await bank.flush();
      expect(file?.messageId).toMatch(/^GL20260301093\d{3}[A-Z2-7]{19}$/);
      const xml = await readFile(join(outbox, file!.fileName), 'utf8');
      expect(xml).toContain(`<MsgId>${file!.messageId}</MsgId>`);
    }
  });

  it('splits a flush into files whose control sums fit in 18 digits, in queue order, instead of keeping every order queued', async () => {
    const bank = adapter();
    // Each of the first two has 18 digits as a decimal; the two together have 19.
    const large = 600_000_000_000_000_000n;
    await bank.send(payout('A-1', large));
    await bank.send(payout('A-2', large));
    await bank.send(payout('A-3', 100n));
    const last = await bank.flush();
    expect(last?.instructionIds).toEqual(['A-2', 'A-3']);
    expect(await bank.flush()).toBeUndefined();

    const files = await painFiles();
    expect(files).toHaveLength(2);
    const written = await Promise.all(
      files.map(async (name) => {
        const xml = await readFile(join(outbox, name), 'utf8');
        const groupControlSum = /<CtrlSum>([^<]+)<\/CtrlSum>/.exec(xml)?.[1];
        return [groupControlSum, readPain001(xml).transactions.map((t) => t.endToEndId)] as const;
      }),
    );
    expect(written.map(([sum, ids]) => `${sum} ${ids.join(',')}`).sort()).toEqual([
      '6000000000000000.00 A-1',
      '6000000000000001.00 A-2,A-3',
    ]);
    for (const name of files) {
      expect(await schemaErrors(await readFile(join(outbox, name), 'utf8'), 'pain.001.001.09')).toEqual([]);
    }
  });

  it('refuses an instruction id reused with different details', async () => {
    const bank = adapter();
    await bank.send(payout('A-1'));
    expect(await bank.send(payout('A-1', 1n))).toEqual({
      status: 'rejected',
      reason: 'instruction A-1 was already sent with a different amount, currency or account',
    });
  });

  it('writes the file by itself when the batch is full', async () => {
    const bank = adapter({ batchSize: 2 });
    await bank.send(payout('A-1'));
    expect(await painFiles()).toEqual([]);
    await bank.send(payout('A-2'));
    expect(await painFiles()).toHaveLength(1);
  });

  it('writes the file once its oldest order has waited the longest wait, not before', async () => {
    let now = Date.UTC(2026, 2, 1, 9, 30, 0);
    const bank = adapter({ batchSize: 100, maxWaitMs: 60_000, clock: () => new Date(now) });
    await bank.send(payout('A-1'));
    now += 30_000;
    await bank.send(payout('A-2'));
    now += 29_999;
    expect(await bank.flushDue()).toBeUndefined();
    expect(await painFiles()).toEqual([]);
    now += 1;
    expect((await bank.flushDue())?.instructionIds).toEqual(['A-1', 'A-2']);
    expect(await painFiles()).toHaveLength(1);
    expect(await bank.flushDue()).toBeUndefined();
  });

  it('counts an order kept by a version that did not record when it was queued as due', async () => {
    await adapter().send(payout('A-1'));
    const path = join(outbox, ledgerFileName);
    const ledger = JSON.parse(await readFile(path, 'utf8')) as { pending: Record<string, unknown>[] };
    for (const order of ledger.pending) delete order.queuedAt;
    await writeFile(path, JSON.stringify(ledger));
    expect((await adapter({ maxWaitMs: 3_600_000 }).flushDue())?.instructionIds).toEqual(['A-1']);
  });

  it('refuses a longest wait that is not a whole number of ms from 0', () => {
    expect(() => adapter({ maxWaitMs: -1 })).toThrow(RangeError);
    expect(() => adapter({ maxWaitMs: 1.5 })).toThrow(RangeError);
  });

  it('keeps accepted orders across a restart until they are flushed', async () => {
    await adapter().send(payout('A-1'));
    const file = await adapter().flush();
    expect(file?.instructionIds).toEqual(['A-1']);
  });

  it('refuses collections, provider accounts and accounts that are not IBANs', async () => {
    const bank = adapter();
    expect(await bank.send({ ...payout('A-1'), direction: 'collect' })).toEqual({
      status: 'rejected',
      reason: 'collections are not supported: ISO 20022 file payouts only (a pain.008 direct debit needs a mandate)',
    });
    expect(
      await bank.send({
        ...payout('A-2'),
        counterparty: { kind: 'iban', holderName: 'Bob', iban: '0012345678', bic: 'COBADEFFXXX' },
      }),
    ).toEqual({
      status: 'rejected',
      reason: 'instruction A-2: counterparty account: iban does not start with a known IBAN country code',
    });
    expect(
      await bank.send({ ...payout('A-3'), counterparty: { kind: 'provider', holderName: 'Bob', reference: 'w-1' } }),
    ).toMatchObject({ status: 'rejected' });
    expect(await bank.flush()).toBeUndefined();
  });

  it('reads money credited back under a payout as its return, without return information', async () => {
    const bank = adapter();
    await bank.send(payout('A-1/m1/release-1', 150000n, 'EUR'));
    const file = await bank.flush();
    const painXml = await readFile(join(outbox, file!.fileName), 'utf8');
    expect(painXml).toContain('<BtchBookg>false</BtchBookg>');
    // Booked as a credit to the escrow account: the bank shows the return by its transaction code only.
    const camt = answerPain001(painXml, {
      messageId: 'BANK-0002',
      createdAt: '2026-03-02T06:00:00Z',
      bookingDate: '2026-03-02',
    }).replaceAll('<CdtDbtInd>DBIT</CdtDbtInd>', '<CdtDbtInd>CRDT</CdtDbtInd>');
    expect(camt).toContain('<CdtDbtInd>CRDT</CdtDbtInd>');
    await mkdir(inbox, { recursive: true });
    await writeFile(join(inbox, 'camt054-0002.xml'), camt);

    expect(await bank.pendingConfirmations()).toMatchObject([
      {
        instructionId: 'A-1/m1/release-1',
        outcome: 'failed',
        reason: 'credited back to the escrow account by the bank (a return)',
      },
    ]);
    expect(await bank.statement(new Date('2026-03-01'), new Date('2026-03-03'))).toMatchObject([
      { instructionId: 'A-1/m1/release-1', direction: 'payout', status: 'failed' },
    ]);
  });

  it('round trip: send, flush, camt.054 in the inbox, confirmations, acknowledge', async () => {
    const bank = adapter();
    const long = `A-77/${'m'.repeat(60)}/release-1`;
    await bank.send(payout('A-1/m1/release-1', 150000n, 'EUR'));
    await bank.send(payout(long, 1234n, 'BHD'));
    await bank.send(payout('A-3/m1/release-1', 5000n, 'JPY'));
    const file = await bank.flush();
    const painXml = await readFile(join(outbox, file!.fileName), 'utf8');

    const camt = answerPain001(painXml, {
      messageId: 'BANK-0001',
      createdAt: '2026-03-02T06:00:00Z',
      bookingDate: '2026-03-02',
      returns: { 'A-3/m1/release-1': { code: 'AC04', additionalInformation: 'Account closed' } },
    });
    await mkdir(inbox, { recursive: true });
    await writeFile(join(inbox, 'camt054-0001.xml'), camt);

    const confirmations = await bank.pendingConfirmations();
    expect(
      confirmations.map(({ instructionId, outcome, amountMinor, currency, reason }) => ({
        instructionId,
        outcome,
        amountMinor,
        currency,
        reason,
      })),
    ).toEqual([
      { instructionId: long, outcome: 'paid', amountMinor: 1234n, currency: 'BHD', reason: undefined },
      { instructionId: 'A-1/m1/release-1', outcome: 'paid', amountMinor: 150000n, currency: 'EUR', reason: undefined },
      {
        instructionId: 'A-3/m1/release-1',
        outcome: 'failed',
        amountMinor: 5000n,
        currency: 'JPY',
        reason: 'returned by the bank: AC04 closed account; Account closed',
      },
    ]);
    expect(endToEndIdFor(long)).not.toBe(long);

    // Handed out again until acknowledged; a partial acknowledgement keeps the file.
    expect(await bank.pendingConfirmations()).toHaveLength(3);
    await bank.acknowledge(confirmations.slice(0, 2));
    expect(await readdir(inbox)).toContain('camt054-0001.xml');
    expect(await bank.pendingConfirmations()).toHaveLength(3);
    await bank.acknowledge(confirmations);
    expect(await readdir(inbox)).not.toContain('camt054-0001.xml');
    expect(await readdir(join(inbox, 'processed'))).toEqual(['camt054-0001.xml']);
    expect(await bank.pendingConfirmations()).toEqual([]);

    const statement = await bank.statement(new Date('2026-03-02T00:00:00Z'), new Date('2026-03-03T00:00:00Z'));
    expect(
      statement.map(({ instructionId, direction, status, amountMinor }) => [
        instructionId,
        direction,
        status,
        amountMinor,
      ]),
    ).toEqual([
      [long, 'payout', 'paid', 1234n],
      ['A-1/m1/release-1', 'payout', 'paid', 150000n],
      ['A-3/m1/release-1', 'payout', 'paid', 5000n],
      ['A-3/m1/release-1', 'payout', 'failed', 5000n],
    ]);
    expect(await bank.statement(new Date('2026-03-03T00:00:00Z'), new Date('2026-03-04T00:00:00Z'))).toEqual([]);
  });

  it('fails with an error naming a malformed camt file', async () => {
    const bank = adapter();
    await mkdir(inbox, { recursive: true });
    await writeFile(
      join(inbox, 'camt054-broken.xml'),
      '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>',
    );
    await expect(bank.pendingConfirmations()).rejects.toMatchObject({
      name: 'Camt054Error',
      code: 'MALFORMED_FILE',
      fileName: 'camt054-broken.xml',
      message: expect.stringContaining('camt054-broken.xml: not well-formed XML') as unknown,
    });
  });
});
