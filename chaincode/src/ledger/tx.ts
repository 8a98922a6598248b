import type { Context } from 'fabric-contract-api';
import type { Caller } from '../model/identity';
import type { Actor } from '../model/party';
import { callerOf } from './caller';
import { transactionInstant } from './time';

/** What every transition, in every contract, needs to know about the transaction it runs in. */
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

/** The caller as a record stores who acted. */
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
