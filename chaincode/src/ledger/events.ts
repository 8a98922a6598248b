import type { Context } from 'fabric-contract-api';
import type { z } from 'zod';
import type { Actor } from '../model/party';
import type { EventSpec } from '../model/spec';
import { encodeRecord } from './state';
import { actorOf, type Tx } from './tx';

const emitted = new WeakSet<object>();

/**
 * Sets the transaction's chaincode event. Fabric keeps only the last event a
 * transaction sets, so a second call is a programming error, not a silent overwrite.
 */
export function emitEvent<Payload extends z.ZodType>(
  ctx: Context,
  event: EventSpec<Payload>,
  payload: z.input<Payload>,
): void {
  if (emitted.has(ctx.stub))
    throw new Error(`a transaction emits one event; ${event.name} would replace an earlier one`);
  emitted.add(ctx.stub);
  ctx.stub.setEvent(event.name, encodeRecord(event.payload.parse(payload)));
}

/** The fields every domain event opens with: the transaction's timestamp and id, and who called it. */
export function eventBase(tx: Tx): { at: string; txId: string; actor: Actor } {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
}

/**
 * A transaction step that emits `event` once `step` has succeeded: the payload is the
 * {@link eventBase} and what `fields` makes of the step's result and request. It answers
 * the step's result.
 */
export function announcing<Request, Result, Payload extends z.ZodType>(
  event: EventSpec<Payload>,
  step: (tx: Tx, request: Request) => Promise<Result>,
  fields: (result: Result, request: Request) => Omit<z.input<Payload>, 'at' | 'txId' | 'actor'>,
): (tx: Tx, request: Request) => Promise<Result> {
  return async (tx, request) => {
    const result = await step(tx, request);
    emitEvent(tx.ctx, event, { ...eventBase(tx), ...fields(result, request) } as z.input<Payload>);
    return result;
  };
}
