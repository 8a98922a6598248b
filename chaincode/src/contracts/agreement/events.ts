import type { z } from 'zod';
import type { MilestoneRecord, SettlementInstruction } from '../../model/agreement-records';
import type { AgreementEventBase } from '../../model/agreement-events';
import type { EventSpec } from '../../model/spec';
import { emitEvent } from '../../ledger/events';
import { actorOf, type Tx } from '../../ledger/tx';
import { writeMilestone } from './store';

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

/**
 * Writes a changed milestone and emits the transaction's one event about it, whose
 * `milestoneId` and `milestone` are the record's; `body` holds the event's other fields.
 * Resolves to the record written.
 */
export async function commitMilestone<Payload extends z.ZodType>(
  tx: Tx,
  milestone: MilestoneRecord,
  event: EventSpec<Payload>,
  body: Omit<EventBody<Payload>, 'milestoneId' | 'milestone'>,
  issued: readonly SettlementInstruction[] = [],
): Promise<MilestoneRecord> {
  await writeMilestone(tx.ctx, milestone);
  emitAgreementEvent(
    tx,
    event,
    milestone.agreementId,
    // Every milestone event's payload has these two fields; TypeScript cannot see that through the generic Omit.
    { milestoneId: milestone.milestoneId, milestone, ...body } as unknown as EventBody<Payload>,
    issued,
  );
  return milestone;
}
