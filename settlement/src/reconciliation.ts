import type { InstructionSource, SettlementOutboxTable } from './outbox/schema.js';
import type { StatementEntry } from './provider.js';

/** An instruction as the ledger records it (replayed from committed chaincode events). */
export interface LedgerInstructionView {
  readonly instructionId: string;
  /** Integer minor units. */
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly status: 'held' | 'pending' | 'paid' | 'failed';
  readonly requestedAt: string;
  /** The organisation whose settlement service sends it; absent on instructions issued before the ledger named one. */
  readonly settlingOrganisation?: string;
  readonly record?: InstructionRecord;
}

/** The record an instruction moves money for, as an outbox row names it, and which way. */
export interface InstructionRecord {
  readonly source: InstructionSource;
  /** Agreement id, or grant id for a royalty. */
  readonly recordId: string;
  /** Milestone id, or royalty period. */
  readonly itemId: string;
  readonly direction: 'collect' | 'payout';
}

const recordKey = (source: string, recordId: string, itemId: string) => JSON.stringify([source, recordId, itemId]);

export const discrepancyKinds = [
  'missing-in-outbox',
  'missing-at-provider',
  'missing-on-ledger',
  'duplicated-at-provider',
  'amount-mismatch',
  'currency-mismatch',
  'status-mismatch',
  'stuck',
  'pending-elsewhere',
  'dead-letter',
  'paid-beyond-collected',
] as const;
export type DiscrepancyKind = (typeof discrepancyKinds)[number];

export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly instructionId: string;
  readonly detail: string;
}

export interface ReconciliationReport {
  readonly from: string;
  readonly to: string;
  readonly checkedAt: string;
  readonly counts: { readonly ledger: number; readonly outbox: number; readonly provider: number };
  /** Empty when ledger, outbox and provider statements agree. */
  readonly discrepancies: readonly Discrepancy[];
}

/**
 * Records (a milestone, or a licence's royalty month or fee) whose payouts, paid or
 * with a provider, add up to more than the collections confirmed paid for them: money
 * out that nobody paid in. Every outbox row counts, whenever it was requested; a record
 * is reported when one of its rows lies in the period (`inPeriod`), against the payout
 * that took it over.
 */
function paidBeyondCollected(
  rows: readonly SettlementOutboxTable[],
  inPeriod: ReadonlyMap<string, SettlementOutboxTable>,
  collectedElsewhere: ReadonlyMap<string, bigint>,
): { instructionId: string; detail: string }[] {
  const records = new Map<string, { rows: SettlementOutboxTable[]; collected: bigint }>();
  for (const row of rows) {
    const key = recordKey(row.source, row.agreement_id, row.milestone_id);
    const record = records.get(key) ?? { rows: [], collected: collectedElsewhere.get(key) ?? 0n };
    record.rows.push(row);
    if (row.direction === 'collect' && row.outcome === 'paid') record.collected += BigInt(row.amount);
    records.set(key, record);
  }
  const found: { instructionId: string; detail: string }[] = [];
  for (const record of records.values()) {
    if (!record.rows.some((row) => inPeriod.has(row.instruction_id))) continue;
    // A payout the provider may still execute counts: once it pays, the money is gone.
    const outgoing = record.rows
      .filter(
        (row) =>
          row.direction === 'payout' &&
          (row.outcome === 'paid' || (row.outcome === null && ['sending', 'sent'].includes(row.state))),
      )
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    let out = 0n;
    for (const row of outgoing) {
      out += BigInt(row.amount);
      if (out > record.collected) {
        found.push({
          instructionId: row.instruction_id,
          detail: `${row.source} ${row.agreement_id} ${row.milestone_id}: ${out.toString()} ${row.currency} paid or sent out, ${record.collected.toString()} collected (minor units)`,
        });
        break;
      }
    }
  }
  return found;
}

/**
 * Compares the three records of every instruction requested in `[from, to)`: the
 * ledger's, the outbox's and the providers' statements. Reports what one side has and
 * another lacks, an instruction a provider booked twice, amounts or currencies that
 * differ, outcomes that disagree, instructions open longer than `stuckAfterSeconds`
 * (another organisation's still pending on the ledger after that long included), and
 * records that paid out more than was collected for them.
 */
export function reconcile(input: {
  /**
   * MSP id of the organisation whose outbox this is. When given, ledger instructions that
   * name another settling organisation are that organisation's service's, and compared
   * with nothing here; only one still pending after `stuckAfterSeconds` is reported
   * (`pending-elsewhere`): that organisation may run no settlement service.
   */
  readonly organisation?: string;
  readonly from: Date;
  readonly to: Date;
  readonly now: Date;
  readonly ledger: readonly LedgerInstructionView[];
  readonly outbox: readonly SettlementOutboxTable[];
  readonly statements: readonly StatementEntry[];
  readonly stuckAfterSeconds: number;
}): ReconciliationReport {
  const inWindow = (instant: string) => {
    const time = Date.parse(instant);
    return time >= input.from.getTime() && time < input.to.getTime();
  };
  const ours = (entry: LedgerInstructionView) =>
    input.organisation === undefined ||
    entry.settlingOrganisation === undefined ||
    entry.settlingOrganisation === input.organisation;
  const ledger = new Map(
    input.ledger
      .filter((entry) => ours(entry) && inWindow(entry.requestedAt))
      .map((entry) => [entry.instructionId, entry]),
  );
  const outbox = new Map(
    input.outbox.filter((row) => inWindow(row.requested_at)).map((row) => [row.instruction_id, row]),
  );
  // An instruction requested before the period but booked inside it belongs to the earlier period.
  const knownAnywhere = new Set([
    ...input.ledger.map((entry) => entry.instructionId),
    ...input.outbox.map((row) => row.instruction_id),
  ]);
  const booked = new Map<string, StatementEntry[]>();
  for (const entry of input.statements) {
    const inPeriod = knownAnywhere.has(entry.instructionId)
      ? ledger.has(entry.instructionId) || outbox.has(entry.instructionId)
      : inWindow(entry.bookedAt);
    if (!inPeriod) continue;
    booked.set(entry.instructionId, [...(booked.get(entry.instructionId) ?? []), entry]);
  }
  const discrepancies: Discrepancy[] = [];
  const report = (kind: DiscrepancyKind, instructionId: string, detail: string) => {
    discrepancies.push({ kind, instructionId, detail });
  };

  for (const entry of ledger.values()) {
    if (entry.status === 'held') continue;
    const row = outbox.get(entry.instructionId);
    if (row === undefined) {
      report(
        'missing-in-outbox',
        entry.instructionId,
        `on the ledger as ${entry.status} but never taken into the outbox`,
      );
      continue;
    }
    if (row.amount !== entry.amountMinor.toString()) {
      report(
        'amount-mismatch',
        entry.instructionId,
        `ledger ${entry.amountMinor.toString()}, outbox ${row.amount} (minor units)`,
      );
    }
    if (row.currency !== entry.currency) {
      report('currency-mismatch', entry.instructionId, `ledger ${entry.currency}, outbox ${row.currency}`);
    }
    const answeredOnLedger = entry.status === 'paid' || entry.status === 'failed';
    const answeredHere = row.state === 'confirming' || row.state === 'confirmed';
    if (answeredOnLedger && !answeredHere) {
      // Someone recorded an outcome on the ledger that no provider answer of ours backs.
      report(
        'status-mismatch',
        entry.instructionId,
        `ledger says ${entry.status}, but the outbox holds no provider answer (${row.state})`,
      );
      if (!['sent'].includes(row.state) && !booked.has(entry.instructionId)) {
        report('missing-at-provider', entry.instructionId, `ledger says ${entry.status}, but no provider booked it`);
      }
    }
    if (row.state === 'confirmed' && row.outcome !== entry.status) {
      report(
        'status-mismatch',
        entry.instructionId,
        `outbox confirmed ${row.outcome ?? '?'}, ledger says ${entry.status}`,
      );
    }
  }
  // Another organisation's service sends these; one that stays unanswered may have no service running to send it.
  for (const entry of input.ledger) {
    if (ours(entry) || entry.status !== 'pending' || !inWindow(entry.requestedAt)) continue;
    const age = (input.now.getTime() - Date.parse(entry.requestedAt)) / 1000;
    if (age > input.stuckAfterSeconds) {
      report(
        'pending-elsewhere',
        entry.instructionId,
        `pending for ${Math.round(age)} s, left to the settlement service of ${entry.settlingOrganisation ?? '?'}, which has recorded no answer`,
      );
    }
  }
  for (const row of outbox.values()) {
    if (!ledger.has(row.instruction_id)) {
      report('missing-on-ledger', row.instruction_id, `in the outbox (${row.state}) but not requested on the ledger`);
    }
    if (row.state === 'dead') {
      report(
        'dead-letter',
        row.instruction_id,
        `gave up after ${row.attempts} attempts: ${row.last_error ?? 'rejected'}`,
      );
    }
    const open = row.state !== 'confirmed' && row.state !== 'dead';
    const age = (input.now.getTime() - Date.parse(row.created_at)) / 1000;
    if (open && age > input.stuckAfterSeconds) {
      report(
        'stuck',
        row.instruction_id,
        `${row.state} for ${Math.round(age)} s${row.last_error === null ? '' : `: ${row.last_error}`}`,
      );
    }
    const entries = booked.get(row.instruction_id) ?? [];
    const sentToProvider = ['sent', 'confirming', 'confirmed'].includes(row.state);
    if (entries.length === 0 && sentToProvider) {
      report('missing-at-provider', row.instruction_id, `${row.state} here, absent from ${row.provider}'s statement`);
    }
    const executed = entries.filter((entry) => entry.status !== 'failed');
    if (executed.length > 1) {
      report('duplicated-at-provider', row.instruction_id, `${row.provider} booked it ${executed.length} times`);
    }
    for (const entry of entries) {
      if (entry.amountMinor.toString() !== row.amount) {
        report(
          'amount-mismatch',
          row.instruction_id,
          `outbox ${row.amount}, ${row.provider} booked ${entry.amountMinor.toString()} (minor units)`,
        );
      }
      if (entry.currency !== row.currency) {
        report(
          'currency-mismatch',
          row.instruction_id,
          `outbox ${row.currency}, ${row.provider} booked ${entry.currency}`,
        );
      }
      if (row.state === 'confirmed' && entry.status !== 'pending' && entry.status !== row.outcome) {
        report(
          'status-mismatch',
          row.instruction_id,
          `ledger confirmed ${row.outcome ?? '?'}, ${row.provider} says ${entry.status}`,
        );
      }
    }
  }
  // Collections another organisation's service made (before a hand-over, say) paid in what this one pays out.
  const collectedElsewhere = new Map<string, bigint>();
  for (const entry of input.ledger) {
    if (ours(entry) || entry.status !== 'paid' || entry.record?.direction !== 'collect') continue;
    const key = recordKey(entry.record.source, entry.record.recordId, entry.record.itemId);
    collectedElsewhere.set(key, (collectedElsewhere.get(key) ?? 0n) + entry.amountMinor);
  }
  for (const overdrawn of paidBeyondCollected(input.outbox, outbox, collectedElsewhere)) {
    report('paid-beyond-collected', overdrawn.instructionId, overdrawn.detail);
  }
  for (const [instructionId, entries] of booked) {
    if (!outbox.has(instructionId) && !ledger.has(instructionId)) {
      report(
        'missing-on-ledger',
        instructionId,
        `booked by the provider as ${entries[0]?.providerReference ?? '?'} but unknown here`,
      );
    }
  }
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    checkedAt: input.now.toISOString(),
    counts: { ledger: ledger.size, outbox: outbox.size, provider: booked.size },
    discrepancies,
  };
}
