import type { z } from 'zod';
import type { Party } from '../../model/party';
import type { ReputationEventBase } from '../../model/reputation';
import type { EventSpec } from '../../model/spec';
import { emitEvent } from '../../ledger/events';
import { actorOf, type Tx } from '../../ledger/tx';

type EventBody<Payload extends z.ZodType> = Omit<z.input<Payload>, keyof ReputationEventBase>;

/** Emits the transaction's one reputation event, filling in the fields every reputation event carries. */
export function emitReputationEvent<Payload extends z.ZodType>(
  tx: Tx,
  event: EventSpec<Payload>,
  subject: Party,
  body: EventBody<Payload>,
): void {
  const base: ReputationEventBase = { subject, at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
  emitEvent(tx.ctx, event, { ...body, ...base } as z.input<Payload>);
}
