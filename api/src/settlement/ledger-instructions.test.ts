import type { RoyaltyInstruction, SettlementInstruction } from '@gigledger/chaincode/model';
import {
  reconcile,
  type SettlementDb,
  type SettlementLedgerInstructionsTable,
  type SettlementOutboxTable,
  type StatementEntry,
} from '@gigledger/settlement';
import { common, peer } from '@hyperledger/fabric-protos';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import {
  catchUpLedgerInstructions,
  LedgerReplayError,
  reconciliationRecords,
  type LedgerBlockSource,
} from './ledger-instructions.js';

/*
 * Blocks are assembled from the protobuf messages a peer delivers, so the reader's block
 * decoding is the one it runs on the real network; the settlement end-to-end suite
 * reconciles there.
 */

const backends = storageBackends('gl-ledger-instructions');
const carol = { mspId: 'ClientOrgMSP', userId: 'carol' };
const tara = { mspId: 'TalentOrgMSP', userId: 'tara' };

function release(id: string, status: SettlementInstruction['status']): SettlementInstruction {
  return {
    instructionId: id,
    kind: 'release',
    cause: 'release',
    agreementId: id.split('/')[0] ?? id,
    milestoneId: 'm1',
    payer: carol,
    payee: tara,
    amount: '146250',
    platformFee: '3750',
    currency: 'EUR',
    status,
    requestedAt: '2026-03-01T10:00:00.000Z',
    requestTxId: `request-${id}`,
    settlingOrganisation: 'ClientOrgMSP',
  };
}

function royalty(id: string, status: RoyaltyInstruction['status']): RoyaltyInstruction {
  return {
    instructionId: id,
    kind: 'royalty',
    grantId: 'G-1',
    periodId: '2026-02',
    payer: carol,
    payee: tara,
    shareBps: 10_000,
    amount: '5000',
    platformFee: '0',
    currency: 'USD',
    status,
    requestedAt: '2026-03-01T11:00:00.000Z',
    requestTxId: `request-${id}`,
  };
}

interface TransactionSpec {
  readonly event?: { readonly chaincode?: string; readonly name: string; readonly payload: unknown };
  readonly validationCode?: number;
}

const agreementEvent = (...instructions: SettlementInstruction[]) => ({
  name: 'agreement.MilestoneReleased',
  payload: {
    agreementId: 'A-1',
    at: '2026-03-01T10:00:00.000Z',
    txId: 'tx',
    actor: carol,
    settlementRequests: instructions,
  },
});

const licensingEvent = (...instructions: RoyaltyInstruction[]) => ({
  name: 'licensing.RoyaltyPeriodClosed',
  payload: { at: '2026-03-01T11:00:00.000Z', txId: 'tx', actor: carol, settlementRequests: instructions },
});

function envelope(txId: string, spec: TransactionSpec): Uint8Array {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setTxId(txId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  const chaincodeAction = new peer.ChaincodeAction();
  if (spec.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(spec.event.chaincode ?? 'gigledger');
    event.setTxId(txId);
    event.setEventName(spec.event.name);
    event.setPayload(Buffer.from(JSON.stringify(spec.event.payload)));
    chaincodeAction.setEvents(event.serializeBinary());
  }
  const responsePayload = new peer.ProposalResponsePayload();
  responsePayload.setExtension$(chaincodeAction.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(responsePayload.serializeBinary());
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([action]);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  const result = new common.Envelope();
  result.setPayload(payload.serializeBinary());
  return result.serializeBinary();
}

function block(number: number, transactions: readonly TransactionSpec[]): common.Block {
  const header = new common.BlockHeader();
  header.setNumber(number);
  const data = new common.BlockData();
  data.setDataList(transactions.map((spec, position) => envelope(`tx-${String(number)}-${String(position)}`, spec)));
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList([
    new Uint8Array(),
    new Uint8Array(),
    Uint8Array.from(transactions.map((spec) => spec.validationCode ?? peer.TxValidationCode.VALID)),
  ]);
  const result = new common.Block();
  result.setHeader(header);
  result.setData(data);
  result.setMetadata(metadata);
  return result;
}

/**
 * A channel of `chain`'s blocks whose block stream, like a peer's, stays open after the
 * newest block, waiting for the next. `height` is the chain's length unless `heightAt`
 * says otherwise; `opened` records each stream's start block and `delivered` every block
 * handed out.
 */
function channelOf(
  chain: common.Block[],
  options: { heightAt?: number; before?: () => Promise<void>; waiting?: () => void } = {},
) {
  const opened: bigint[] = [];
  const delivered: number[] = [];
  let closed = 0;
  const source: LedgerBlockSource = {
    height: () => Promise.resolve(BigInt(options.heightAt ?? chain.length)),
    async blocks(startBlock) {
      opened.push(startBlock);
      await options.before?.();
      let next = Number(startBlock);
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            const found = chain[next];
            if (found === undefined) {
              options.waiting?.();
              return new Promise<IteratorResult<common.Block>>(() => undefined);
            }
            delivered.push(next);
            next += 1;
            return Promise.resolve({ done: false, value: found });
          },
        }),
        close: () => {
          closed += 1;
        },
      };
    },
  };
  return { source, opened, delivered, closed: () => closed };
}

describe.each(backends)("the ledger's settlement instructions on $name", (backend) => {
  let db: Db;
  let drop: () => Promise<void>;
  const settlementDb = () => db as unknown as SettlementDb;
  const chain: common.Block[] = [];
  /** The stored state, read without catching up first. */
  const stored = async (instructionId: string) =>
    (
      await settlementDb()
        .selectFrom('settlement_ledger_instructions')
        .select('status')
        .where('instruction_id', '=', instructionId)
        .executeTakeFirst()
    )?.status;

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    chain.push(
      block(0, [{}]),
      block(1, [
        { event: agreementEvent(release('A-1/m1/release-1', 'pending')) },
        // Invalidated: its event was never committed.
        {
          event: agreementEvent(release('A-1/m1/release-1', 'failed')),
          validationCode: peer.TxValidationCode.MVCC_READ_CONFLICT,
        },
        // Another chaincode's event of the same name is not this ledger's.
        { event: { ...agreementEvent(release('A-9/m1/release-1', 'pending')), chaincode: 'other' } },
      ]),
      block(2, [
        { event: { name: 'agreement.DeliverableSubmitted', payload: 'not the payload of an agreement event' } },
        { event: agreementEvent(release('A-1/m1/release-1', 'paid')) },
      ]),
      block(3, [{ event: licensingEvent(royalty('G-1/2026-02/royalty-1', 'pending')) }]),
    );
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it("keeps each instruction's latest committed state, from valid transactions of this chaincode only", async () => {
    const channel = channelOf(chain);
    const { ledger: views } = await reconciliationRecords(channel.source, 'gigledger', settlementDb(), {
      from: new Date('2026-03-01T00:00:00.000Z'),
      to: new Date('2026-03-02T00:00:00.000Z'),
      statementIds: [],
    });
    expect(channel.delivered).toEqual([0, 1, 2, 3]);
    expect(channel.closed()).toBe(1);
    expect(views.map((view) => [view.instructionId, view.status]).sort()).toEqual([
      ['A-1/m1/release-1', 'paid'],
      ['G-1/2026-02/royalty-1', 'pending'],
    ]);
    expect(views.find((view) => view.instructionId === 'A-1/m1/release-1')).toEqual({
      instructionId: 'A-1/m1/release-1',
      amountMinor: 146_250n,
      currency: 'EUR',
      status: 'paid',
      requestedAt: '2026-03-01T10:00:00.000Z',
      settlingOrganisation: 'ClientOrgMSP',
      record: { source: 'agreement', recordId: 'A-1', itemId: 'm1', direction: 'payout' },
    });
    expect(views.find((view) => view.instructionId === 'G-1/2026-02/royalty-1')?.record).toEqual({
      source: 'licensing',
      recordId: 'G-1',
      itemId: '2026-02',
      direction: 'payout',
    });
  });

  it('reads only the blocks committed since the last call, and none when there are none', async () => {
    chain.push(block(4, [{ event: licensingEvent(royalty('G-1/2026-02/royalty-1', 'paid')) }]));
    const channel = channelOf(chain);
    await catchUpLedgerInstructions(channel.source, 'gigledger', settlementDb());
    expect(channel.opened).toEqual([4n]);
    expect(channel.delivered).toEqual([4]);
    expect(await stored('G-1/2026-02/royalty-1')).toBe('paid');

    const unchanged = channelOf(chain);
    await catchUpLedgerInstructions(unchanged.source, 'gigledger', settlementDb());
    expect(unchanged.opened).toEqual([]);
  });

  it('never lets a reader that started earlier undo what a later one wrote', async () => {
    chain.push(
      block(5, [{ event: agreementEvent(release('A-2/m1/release-1', 'pending')) }]),
      block(6, [{ event: agreementEvent(release('A-2/m1/release-1', 'paid')) }]),
    );
    // The slow reader saw a height of 6 and opened its stream at 5; it reads after the other wrote 5 and 6.
    let letSlowReaderGo: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      letSlowReaderGo = resolve;
    });
    const slow = catchUpLedgerInstructions(
      channelOf(chain, { heightAt: 6, before: () => gate }).source,
      'gigledger',
      settlementDb(),
    );
    const fast = channelOf(chain);
    await catchUpLedgerInstructions(fast.source, 'gigledger', settlementDb());
    expect(fast.delivered).toEqual([5, 6]);
    letSlowReaderGo?.();
    await slow;
    expect(await stored('A-2/m1/release-1')).toBe('paid');
    const next = channelOf(chain);
    chain.push(block(7, [{}]));
    await catchUpLedgerInstructions(next.source, 'gigledger', settlementDb());
    expect(next.opened).toEqual([7n]);
  });

  it('fails naming the block it stopped at when the peer stops sending or cannot be reached, keeps what it read, and goes on from there', async () => {
    chain.push(block(8, [{ event: agreementEvent(release('A-3/m1/release-1', 'pending')) }]));
    // The peer says block 9 exists but never sends it.
    const stalled = channelOf(chain, { heightAt: 10 });
    const failure = await catchUpLedgerInstructions(stalled.source, 'gigledger', settlementDb(), 50).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LedgerReplayError);
    expect(failure).toMatchObject({ nextBlock: 9n, height: 10n });
    expect((failure as Error).message).toBe("the ledger's blocks could be read only up to block 9 of 10");
    expect(stalled.closed()).toBe(1);
    expect(await stored('A-3/m1/release-1')).toBe('pending');

    // A peer that cannot be reached does not say its height, nor open a stream.
    const unreachable = new Error('14 UNAVAILABLE: No connection established');
    const silent = await catchUpLedgerInstructions(
      { height: () => Promise.reject(unreachable), blocks: () => Promise.reject(unreachable) },
      'gigledger',
      settlementDb(),
    ).catch((error: unknown) => error);
    expect(silent).toBeInstanceOf(LedgerReplayError);
    expect((silent as Error).message).toBe(
      "the peer did not say the channel's height (the ledger's blocks are read up to block 9)",
    );
    expect((silent as Error).cause).toBe(unreachable);
    const closed = await catchUpLedgerInstructions(
      { height: () => Promise.resolve(10n), blocks: () => Promise.reject(unreachable) },
      'gigledger',
      settlementDb(),
    ).catch((error: unknown) => error);
    expect(closed).toMatchObject({ nextBlock: 9n, height: 10n, cause: unreachable });

    chain.push(block(9, [{ event: agreementEvent(release('A-3/m1/release-1', 'paid')) }]));
    const resumed = channelOf(chain);
    await catchUpLedgerInstructions(resumed.source, 'gigledger', settlementDb());
    expect(resumed.opened).toEqual([9n]);
    expect(await stored('A-3/m1/release-1')).toBe('paid');
  });

  it('keeps its progress every 500 blocks while it reads a long stretch without instructions', async () => {
    const from = chain.length;
    for (let number = from; number < from + 600; number += 1) chain.push(block(number, [{}]));
    let storedWhileWaiting: unknown;
    let read: Promise<void> = Promise.resolve();
    const channel = channelOf(chain, {
      heightAt: from + 700,
      waiting: () => {
        read = (async () => {
          storedWhileWaiting = (
            await settlementDb().selectFrom('settlement_ledger_replay').select('next_block').executeTakeFirst()
          )?.next_block;
        })();
      },
    });
    await expect(catchUpLedgerInstructions(channel.source, 'gigledger', settlementDb(), 200)).rejects.toThrow(
      LedgerReplayError,
    );
    await read;
    // Written after 500 blocks, before the stream stalled at the 601st.
    expect(Number(storedWhileWaiting)).toBe(from + 500);
    // And at the stall, all 600.
    const resumed = channelOf(chain);
    await catchUpLedgerInstructions(resumed.source, 'gigledger', settlementDb());
    expect(resumed.opened).toEqual([]);
  });
});

/** A deterministic generator (mulberry32), so that every run checks the same histories. */
function randomOf(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return Math.floor((((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296) * below);
  };
}

/**
 * Three months of instructions on a few records: each on the ledger, in the outbox or both,
 * in any state and outcome, some another organisation's to send, with statements booking
 * some (and instructions nobody knows) in February.
 */
function history(seed: number) {
  const random = randomOf(seed);
  const pick = <T>(values: readonly T[]): T => values[random(values.length)] as T;
  const ledger: SettlementLedgerInstructionsTable[] = [];
  const outbox: SettlementOutboxTable[] = [];
  const statements: StatementEntry[] = [];
  for (let index = 0; index < 120; index += 1) {
    const instructionId = `I-${String(seed)}-${String(index)}`;
    const requestedAt = new Date(Date.UTC(2026, 0, 1) + random(90 * 24) * 3600 * 1000).toISOString();
    const agreementId = `A-${String(random(12))}`;
    const direction = pick(['collect', 'payout'] as const);
    const amount = String(1000 * (1 + random(5)));
    const where = random(10);
    if (where < 8)
      ledger.push({
        instruction_id: instructionId,
        amount,
        currency: 'EUR',
        status: pick(['held', 'pending', 'paid', 'failed'] as const),
        requested_at: requestedAt,
        settling_organisation: random(5) === 0 ? 'TalentOrgMSP' : 'ClientOrgMSP',
        source: 'agreement',
        record_id: agreementId,
        item_id: 'm1',
        direction,
        block_number: index,
        transaction_position: 0,
      });
    if (where > 1) {
      const state = pick(['queued', 'sent', 'confirmed', 'confirmed', 'dead'] as const);
      outbox.push({
        instruction_id: instructionId,
        source: 'agreement',
        agreement_id: agreementId,
        milestone_id: 'm1',
        kind: direction === 'collect' ? 'fund-escrow' : 'release',
        direction,
        provider: 'sandbox',
        counterparty_msp: 'TalentOrgMSP',
        counterparty_user: 'tara',
        amount,
        platform_fee: '0',
        currency: 'EUR',
        request_tx_id: `tx-${instructionId}`,
        block_number: String(index),
        requested_at: requestedAt,
        state,
        attempts: 1,
        next_attempt_at: null,
        last_error: null,
        provider_reference: null,
        outcome: state === 'confirmed' ? pick(['paid', 'failed'] as const) : null,
        outcome_reason: null,
        confirm_tx_id: null,
        payout_account_id: null,
        reissue_of: null,
        created_at: requestedAt,
        updated_at: requestedAt,
      });
    }
    if (random(3) === 0)
      statements.push({
        instructionId,
        providerReference: `psp-${instructionId}`,
        direction,
        amountMinor: BigInt(amount),
        currency: 'EUR',
        status: pick(['paid', 'failed', 'pending'] as const),
        bookedAt: `2026-02-${String(1 + random(28)).padStart(2, '0')}T12:00:00.000Z`,
      });
  }
  statements.push({
    instructionId: `unknown-${String(seed)}`,
    providerReference: 'psp-unknown',
    direction: 'payout',
    amountMinor: 500n,
    currency: 'EUR',
    status: 'paid',
    bookedAt: '2026-02-10T09:00:00.000Z',
  });
  return { ledger, outbox, statements };
}

describe.each(backends)('what a reconciliation of one period reads, on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;
  const settlementDb = () => db as unknown as SettlementDb;
  const noNewBlocks = (): LedgerBlockSource => ({
    height: () => Promise.resolve(0n),
    blocks: () => Promise.reject(new Error('no block to read')),
  });

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'leaves out the rows no check of the period looks at, and reports what every row gives (history %i)',
    async (seed) => {
      const { ledger, outbox, statements } = history(seed);
      await settlementDb().deleteFrom('settlement_ledger_instructions').execute();
      await settlementDb().deleteFrom('settlement_outbox').execute();
      await settlementDb().insertInto('settlement_ledger_instructions').values(ledger).execute();
      await settlementDb().insertInto('settlement_outbox').values(outbox).execute();
      const period = { from: new Date('2026-02-01T00:00:00.000Z'), to: new Date('2026-03-01T00:00:00.000Z') };
      const scope = { ...period, statementIds: statements.map((entry) => entry.instructionId) };
      const read = await reconciliationRecords(noNewBlocks(), 'gigledger', settlementDb(), scope);
      const everything = await reconciliationRecords(noNewBlocks(), 'gigledger', settlementDb(), {
        from: new Date('2000-01-01T00:00:00.000Z'),
        to: new Date('2100-01-01T00:00:00.000Z'),
        statementIds: [],
      });
      expect(everything.ledger).toHaveLength(ledger.length);
      expect(everything.outbox).toHaveLength(outbox.length);
      const report = (records: typeof read) =>
        reconcile({
          organisation: 'ClientOrgMSP',
          ...period,
          now: new Date('2026-03-15T00:00:00.000Z'),
          ledger: records.ledger,
          outbox: records.outbox,
          statements,
          stuckAfterSeconds: 3600,
        });
      const sorted = (found: ReturnType<typeof report>) => ({
        ...found,
        discrepancies: [...found.discrepancies].sort((a, b) =>
          `${a.kind} ${a.instructionId} ${a.detail}`.localeCompare(`${b.kind} ${b.instructionId} ${b.detail}`),
        ),
      });
      expect(sorted(report(read))).toEqual(sorted(report(everything)));
      expect(report(read).discrepancies.length).toBeGreaterThan(0);

      // What was read: the period with a day each side, what the statements name, the period's records.
      const margin = { from: '2026-01-31T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };
      const inMargin = (at: string) => at >= margin.from && at < margin.to;
      const named = new Set(scope.statementIds);
      const records = new Set(outbox.filter((row) => inMargin(row.requested_at)).map((row) => row.agreement_id));
      expect(
        read.ledger.filter(
          (view) =>
            !inMargin(view.requestedAt) && !named.has(view.instructionId) && !records.has(view.record?.recordId ?? ''),
        ),
      ).toEqual([]);
      expect(
        read.outbox.filter(
          (row) => !inMargin(row.requested_at) && !named.has(row.instruction_id) && !records.has(row.agreement_id),
        ),
      ).toEqual([]);
    },
  );

  it('reads none of a long history outside the period', async () => {
    await settlementDb().deleteFrom('settlement_ledger_instructions').execute();
    await settlementDb().deleteFrom('settlement_outbox').execute();
    const old = history(7);
    // The whole history a year earlier, on records of its own.
    const earlier = (at: string) => at.replace(/^2026/, '2025');
    await settlementDb()
      .insertInto('settlement_ledger_instructions')
      .values(
        old.ledger.map((row) => ({
          ...row,
          requested_at: earlier(row.requested_at),
          record_id: `old-${row.record_id}`,
        })),
      )
      .execute();
    await settlementDb()
      .insertInto('settlement_outbox')
      .values(
        old.outbox.map((row) => ({
          ...row,
          requested_at: earlier(row.requested_at),
          agreement_id: `old-${row.agreement_id}`,
        })),
      )
      .execute();
    const read = await reconciliationRecords(noNewBlocks(), 'gigledger', settlementDb(), {
      from: new Date('2026-02-01T00:00:00.000Z'),
      to: new Date('2026-03-01T00:00:00.000Z'),
      statementIds: [],
    });
    expect(read).toEqual({ ledger: [], outbox: [] });
  });
});
