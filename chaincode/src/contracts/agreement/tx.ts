import type { Context } from 'fabric-contract-api';
import type { z } from 'zod';
import type { Actor, SettlementInstruction } from '../../model/agreement-records';
import type { AgreementEventBase } from '../../model/agreement-events';
import type { Caller } from '../../model/identity';
import type { EventSpec } from '../../model/spec';
import { callerOf } from '../../ledger/caller';
import { emitEvent } from '../../ledger/events';
import { transactionInstant } from '../../ledger/time';

/** What every agreement transition needs to know about the transaction it runs in. */
export interface Tx {
  readonly ctx: Context;
  readonly caller: Caller;
  /** Transaction timestamp, the only clock a transition may read. */
  readonly at: string;
  readonly txId: string;
}

export function txOf(ctx: Context): Tx {
  return { ctx, caller: callerOf(ctx), at: transactionInstant(ctx), txId: ctx.stub.getTxID() };
}

export function actorOf(caller: Caller): Actor {
  return {
    mspId: caller.mspId,
    ...(caller.userId === undefined ? {} : { userId: caller.userId }),
    ...(caller.role === undefined ? {} : { role: caller.role }),
  };
}

/** The instant `seconds` after `instant`. */
export function addSeconds(instant: string, seconds: number): string {
  return new Date(Date.parse(instant) + seconds * 1000).toISOString();
}

/** Whether the transaction happens at or after `instant`. */
export function reached(tx: Tx, instant: string): boolean {
  return Date.parse(tx.at) >= Date.parse(instant);
}

/** Marks a record as changed by this transaction. */
export function touched<Record extends { updatedAt: string; updatedTxId: string }>(tx: Tx, record: Record): Record {
  return { ...record, updatedAt: tx.at, updatedTxId: tx.txId };
}

type EventBody<Payload extends z.ZodType> = Omit<z.input<Payload>, keyof AgreementEventBase>;

/**
 * Emits the transaction's one agreement event, filling in the fields every agreement
 * event carries. Of the instructions the transaction issued, only pending ones become
 * settlement requests; held payouts are listed apart so nobody sends them.
 */
export function emitAgreementEvent<Payload extends z.ZodType>(
  tx: Tx,
  event: EventSpec<Payload>,
  agreementId: string,
  body: EventBody<Payload>,
  issued: readonly SettlementInstruction[] = [],
): void {
  const base: AgreementEventBase = {
    agreementId,
    at: tx.at,
    txId: tx.txId,
    actor: actorOf(tx.caller),
    settlementRequests: issued.filter((instruction) => instruction.status === 'pending'),
    heldPayouts: issued.filter((instruction) => instruction.status === 'held'),
  };
  emitEvent(tx.ctx, event, { ...body, ...base } as z.input<Payload>);
}
