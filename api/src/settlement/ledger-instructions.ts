import {
  agreementEventBaseSchema,
  agreementEvents,
  licensingEventBaseSchema,
  licensingEvents,
  type RoyaltyInstruction,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import { decodeBlockContents, qsccLedgerBlocks, type Network, type TransactionEvent } from '@gigledger/gateway';
import {
  instructionRecord,
  type LedgerInstructionView,
  type SettlementDb,
  type SettlementLedgerInstructionsTable,
  type SettlementOutboxTable,
} from '@gigledger/settlement';
import type { common } from '@hyperledger/fabric-protos';

/** The one row of `settlement_ledger_replay` this reader keeps. */
const replayName = 'reconciliation';

/** Rows written per statement: 12 columns each, well under SQLite's 32,766 bound parameters. */
const rowsPerStatement = 500;

/**
 * Instructions collected, or blocks read, before what was read is written with the
 * position reached, in one transaction: a first reconciliation of a long chain keeps its
 * progress as it goes.
 */
const instructionsPerWrite = 2_000;
const blocksPerWrite = 500n;

/**
 * The ledger could not be read up to the height it had when reconciliation began: the
 * peer did not say its height, failed the block stream or sent nothing for
 * `stallAfterMs`. Nothing read before the failure is lost; the next call goes on from there.
 */
export class LedgerReplayError extends Error {
  constructor(
    /** The first block not read. */
    readonly nextBlock: bigint,
    /** The channel's height, when the peer said it. */
    readonly height: bigint | undefined,
    options?: ErrorOptions,
  ) {
    super(
      height === undefined
        ? `the peer did not say the channel's height (the ledger's blocks are read up to block ${String(nextBlock)})`
        : `the ledger's blocks could be read only up to block ${String(nextBlock)} of ${String(height)}`,
      options,
    );
    this.name = 'LedgerReplayError';
  }
}

type InstructionRow = SettlementLedgerInstructionsTable;

function rowOf(
  instruction: SettlementInstruction | RoyaltyInstruction,
  blockNumber: bigint,
  transactionPosition: number,
): InstructionRow {
  const record = instructionRecord(instruction);
  return {
    instruction_id: instruction.instructionId,
    amount: instruction.amount,
    currency: instruction.currency,
    status: instruction.status,
    requested_at: instruction.requestedAt,
    settling_organisation: instruction.settlingOrganisation ?? null,
    source: record.source,
    record_id: record.recordId,
    item_id: record.itemId,
    direction: record.direction,
    block_number: Number(blockNumber),
    transaction_position: transactionPosition,
  };
}

/**
 * The instructions one committed chaincode event states, in the order the event lists
 * them (a later one of the same id is the newer state): requests, held payouts, and the
 * confirmed instruction of a confirmation. Events of other contracts, and payloads that
 * do not parse, state none.
 */
export function instructionsOfEvent(
  event: Pick<TransactionEvent, 'name' | 'payload'>,
): (SettlementInstruction | RoyaltyInstruction)[] {
  const isLicensing = event.name.startsWith('licensing.');
  if (!isLicensing && !event.name.startsWith('agreement.')) return [];
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(event.payload));
  } catch {
    return [];
  }
  if (isLicensing) {
    const base = licensingEventBaseSchema.safeParse(payload);
    if (!base.success) return [];
    const confirmed =
      event.name === licensingEvents.royaltyPayoutConfirmed.name
        ? licensingEvents.royaltyPayoutConfirmed.payload.safeParse(payload)
        : undefined;
    return [...base.data.settlementRequests, ...(confirmed?.success === true ? [confirmed.data.instruction] : [])];
  }
  const base = agreementEventBaseSchema.safeParse(payload);
  if (!base.success) return [];
  const confirmed =
    event.name === agreementEvents.settlementConfirmed.name
      ? agreementEvents.settlementConfirmed.payload.safeParse(payload)
      : undefined;
  return [
    ...base.data.settlementRequests,
    ...base.data.heldPayouts,
    ...(confirmed?.success === true ? [confirmed.data.instruction] : []),
  ];
}

/** Where the blocks come from: the peer the server talks to, asked with the server's identity. */
export interface LedgerBlockSource {
  /** One more than the newest block's number (qscc `GetChainInfo`). */
  height(): Promise<bigint>;
  /** Committed blocks from `startBlock` on, in order, for as long as the stream is open. */
  blocks(startBlock: bigint): Promise<{ [Symbol.asyncIterator](): AsyncIterator<common.Block>; close(): void }>;
}

/** Blocks of `network`'s channel through its Gateway service (qscc for the height, the deliver service for blocks). */
export function networkBlockSource(network: Network): LedgerBlockSource {
  const ledgerBlocks = qsccLedgerBlocks(network);
  return {
    height: () => ledgerBlocks.height(),
    blocks: (startBlock) => network.getBlockEvents({ startBlock }),
  };
}

async function nextBlockToRead(db: SettlementDb): Promise<bigint> {
  const row = await db
    .selectFrom('settlement_ledger_replay')
    .select('next_block')
    .where('name', '=', replayName)
    .executeTakeFirst();
  return row === undefined ? 0n : BigInt(row.next_block);
}

/**
 * Writes what was read up to `nextBlock` in one transaction. A row is replaced only by
 * one from later on the chain and the position only moves forward, so two readers
 * catching up at once (two API workers, or the CLI beside the API) never undo each other.
 */
async function write(db: SettlementDb, rows: Iterable<InstructionRow>, nextBlock: bigint): Promise<void> {
  const all = [...rows];
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < all.length; start += rowsPerStatement) {
      await trx
        .insertInto('settlement_ledger_instructions')
        .values(all.slice(start, start + rowsPerStatement))
        .onConflict((conflict) =>
          conflict
            .column('instruction_id')
            .doUpdateSet((eb) => ({
              amount: eb.ref('excluded.amount'),
              currency: eb.ref('excluded.currency'),
              status: eb.ref('excluded.status'),
              requested_at: eb.ref('excluded.requested_at'),
              settling_organisation: eb.ref('excluded.settling_organisation'),
              source: eb.ref('excluded.source'),
              record_id: eb.ref('excluded.record_id'),
              item_id: eb.ref('excluded.item_id'),
              direction: eb.ref('excluded.direction'),
              block_number: eb.ref('excluded.block_number'),
              transaction_position: eb.ref('excluded.transaction_position'),
            }))
            .where((eb) =>
              eb.or([
                eb('settlement_ledger_instructions.block_number', '<', eb.ref('excluded.block_number')),
                eb.and([
                  eb('settlement_ledger_instructions.block_number', '=', eb.ref('excluded.block_number')),
                  eb(
                    'settlement_ledger_instructions.transaction_position',
                    '<=',
                    eb.ref('excluded.transaction_position'),
                  ),
                ]),
              ]),
            ),
        )
        .execute();
    }
    await trx
      .insertInto('settlement_ledger_replay')
      .values({ name: replayName, next_block: Number(nextBlock), updated_at: now })
      .onConflict((conflict) =>
        conflict
          .column('name')
          .doUpdateSet((eb) => ({
            next_block: eb.ref('excluded.next_block'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where('settlement_ledger_replay.next_block', '<', Number(nextBlock)),
      )
      .execute();
  });
}

/**
 * Reads the blocks committed since the last call, up to the channel's height when called,
 * and keeps each settlement instruction's latest state in `settlement_ledger_instructions`.
 * The first call reads from block 0; each later one only what was committed since, so a
 * reconciliation costs what the chain grew by, not the chain's length.
 *
 * @param stallAfterMs how long to wait for the peer's next block before giving up.
 * @throws LedgerReplayError when the peer does not say its height, or the stream fails or
 *   stalls before it; what was read until then is kept.
 */
export async function catchUpLedgerInstructions(
  source: LedgerBlockSource,
  chaincode: string,
  db: SettlementDb,
  stallAfterMs = 30_000,
): Promise<void> {
  let start = await nextBlockToRead(db);
  const height = await source.height().catch((error: unknown) => {
    throw new LedgerReplayError(start, undefined, { cause: error });
  });
  if (start >= height) return;
  let pending = new Map<string, InstructionRow>();
  let nextBlock = start;
  const stream = await source.blocks(start).catch((error: unknown) => {
    throw new LedgerReplayError(start, height, { cause: error });
  });
  const blocks = stream[Symbol.asyncIterator]();
  const keepProgress = async () => {
    if (nextBlock > start) await write(db, pending.values(), nextBlock);
  };
  try {
    while (nextBlock < height) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => {
        timer = setTimeout(() => {
          resolve('stalled');
        }, stallAfterMs);
      });
      let next: IteratorResult<common.Block> | 'stalled';
      try {
        next = await Promise.race([blocks.next(), stalled]);
      } catch (error) {
        throw new LedgerReplayError(nextBlock, height, { cause: error });
      } finally {
        clearTimeout(timer);
      }
      if (next === 'stalled' || next.done === true) throw new LedgerReplayError(nextBlock, height);
      const block = decodeBlockContents(next.value);
      for (const transaction of block.transactions) {
        // Only a valid transaction's event was committed; an invalidated one's never happened.
        if (transaction.validationCode !== 0 || transaction.event?.chaincode !== chaincode) continue;
        for (const instruction of instructionsOfEvent(transaction.event)) {
          pending.set(instruction.instructionId, rowOf(instruction, block.blockNumber, transaction.position));
        }
      }
      nextBlock = block.blockNumber + 1n;
      if (pending.size >= instructionsPerWrite || nextBlock - start >= blocksPerWrite) {
        await write(db, pending.values(), nextBlock);
        pending = new Map();
        start = nextBlock;
      }
    }
  } catch (error) {
    // What was read before the failure stays read; the caller hears of the failure itself.
    await keepProgress().catch(() => undefined);
    throw error;
  } finally {
    stream.close();
  }
  await keepProgress();
}

/** A reconciliation's period, and the instructions the providers' statements of it name. */
export interface ReconciliationScope {
  readonly from: Date;
  readonly to: Date;
  readonly statementIds: readonly string[];
}

/** The ledger's instructions and the outbox rows a reconciliation compares (see {@link reconciliationRecords}). */
export interface ReconciliationRecords {
  readonly ledger: LedgerInstructionView[];
  readonly outbox: SettlementOutboxTable[];
}

/** How far each side of a period the rows read reach: `reconcile` keeps the exact period, whatever offset a time was written with. */
const periodMarginMs = 24 * 3600 * 1000;

/** Ids asked for per statement, well under SQLite's bound parameters. */
const idsPerStatement = 500;

function viewOf(row: SettlementLedgerInstructionsTable): LedgerInstructionView {
  return {
    instructionId: row.instruction_id,
    amountMinor: BigInt(row.amount),
    currency: row.currency,
    status: row.status,
    requestedAt: row.requested_at,
    record: { source: row.source, recordId: row.record_id, itemId: row.item_id, direction: row.direction },
    ...(row.settling_organisation === null ? {} : { settlingOrganisation: row.settling_organisation }),
  };
}

/** The rows `read` gives for all of `values`, asked for `idsPerStatement` at a time. */
async function rowsWhereIn<Row>(
  values: ReadonlySet<string>,
  read: (chunk: string[]) => Promise<Row[]>,
): Promise<Row[]> {
  const all = [...values];
  const rows: Row[] = [];
  for (let start = 0; start < all.length; start += idsPerStatement)
    rows.push(...(await read(all.slice(start, start + idsPerStatement))));
  return rows;
}

/**
 * Reads the blocks committed since the last call (see {@link catchUpLedgerInstructions}),
 * then the ledger's settlement instructions (agreements' and royalties', each with its
 * latest status, read from committed blocks, independent of what the outbox took in,
 * which is the point of reconciling) and the outbox rows that a reconciliation of `scope`
 * compares: those requested in the period (with a day's margin each side), those the
 * providers' statements name whenever they were requested (an earlier period's
 * instruction booked in this one is no stranger), and every row of the records (an
 * agreement, a licence grant) the period's outbox rows move money for, since
 * `paid-beyond-collected` adds up a record's whole history. Other periods' rows stay in the
 * database: a reconciliation's memory and time follow its period, not the ledger's age.
 * `reconcile` given these reports what it reports given every row.
 *
 * @throws as {@link catchUpLedgerInstructions}.
 */
export async function reconciliationRecords(
  source: LedgerBlockSource,
  chaincode: string,
  db: SettlementDb,
  scope: ReconciliationScope,
): Promise<ReconciliationRecords> {
  await catchUpLedgerInstructions(source, chaincode, db);
  const from = new Date(scope.from.getTime() - periodMarginMs).toISOString();
  const to = new Date(scope.to.getTime() + periodMarginMs).toISOString();
  const statementIds = new Set(scope.statementIds);
  const [ledgerInPeriod, outboxInPeriod, ledgerNamed, outboxNamed] = await Promise.all([
    db
      .selectFrom('settlement_ledger_instructions')
      .selectAll()
      .where('requested_at', '>=', from)
      .where('requested_at', '<', to)
      .execute(),
    db
      .selectFrom('settlement_outbox')
      .selectAll()
      .where('requested_at', '>=', from)
      .where('requested_at', '<', to)
      .execute(),
    rowsWhereIn(statementIds, (ids) =>
      db.selectFrom('settlement_ledger_instructions').selectAll().where('instruction_id', 'in', ids).execute(),
    ),
    rowsWhereIn(statementIds, (ids) =>
      db.selectFrom('settlement_outbox').selectAll().where('instruction_id', 'in', ids).execute(),
    ),
  ]);
  const records = new Set(outboxInPeriod.map((row) => row.agreement_id));
  const [ledgerOfRecords, outboxOfRecords] = await Promise.all([
    rowsWhereIn(records, (ids) =>
      db.selectFrom('settlement_ledger_instructions').selectAll().where('record_id', 'in', ids).execute(),
    ),
    rowsWhereIn(records, (ids) =>
      db.selectFrom('settlement_outbox').selectAll().where('agreement_id', 'in', ids).execute(),
    ),
  ]);
  const byId = <Row>(rows: readonly Row[], id: (row: Row) => string) => [
    ...new Map(rows.map((row) => [id(row), row])).values(),
  ];
  return {
    ledger: byId([...ledgerInPeriod, ...ledgerNamed, ...ledgerOfRecords], (row) => row.instruction_id).map(viewOf),
    outbox: byId([...outboxInPeriod, ...outboxNamed, ...outboxOfRecords], (row) => row.instruction_id),
  };
}
