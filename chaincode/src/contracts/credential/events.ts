import type { z } from 'zod';
import type { CredentialEventBase } from '../../model/credential-events';
import type { EventSpec } from '../../model/spec';
import { emitEvent } from '../../ledger/events';
import { actorOf, type Tx } from '../../ledger/tx';

type EventBody<Payload extends z.ZodType> = Omit<z.input<Payload>, keyof CredentialEventBase>;

/** Emits the transaction's one credential event, filling in the fields every credential event carries. */
export function emitCredentialEvent<Payload extends z.ZodType>(
  tx: Tx,
  event: EventSpec<Payload>,
  body: EventBody<Payload>,
): void {
  const base: CredentialEventBase = { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
  emitEvent(tx.ctx, event, { ...body, ...base } as z.input<Payload>);
}
