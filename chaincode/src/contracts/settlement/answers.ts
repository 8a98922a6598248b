import type { z } from 'zod';
import type { settlementConfirmationSchema } from '../../model/agreement-records';
import { refuse } from '../../ledger/refusal';
import { actorOf, type Tx } from '../../ledger/tx';

/** What a settlement service reports for one instruction, whichever contract issued it. */
export interface ProviderAnswer {
  readonly instructionId: string;
  readonly outcome: 'paid' | 'failed';
  readonly providerReference: string;
  readonly payoutAccountId?: string | undefined;
  readonly reason?: string | undefined;
}

interface AnswerableInstruction {
  readonly instructionId: string;
  readonly status: string;
  readonly confirmation?: z.output<typeof settlementConfirmationSchema> | undefined;
}

/**
 * Records a provider's answer on the pending instruction it names, with who recorded it
 * and when (the transaction's time), and returns the instruction list with it answered.
 * Milestone payouts and royalty payouts are answered the same way.
 *
 * @param owner names what holds the instructions, for refusals (e.g. `milestone m1 of agreement A-1`).
 * @throws RefusalError NOT_FOUND (`instructionId`) when `owner` has no such instruction;
 *   INVALID_STATE when it was already answered.
 */
export function answerInstruction<Instruction extends AnswerableInstruction>(
  tx: Tx,
  instructions: readonly Instruction[],
  answer: ProviderAnswer,
  owner: string,
): { answered: Instruction; instructions: Instruction[] } {
  const index = instructions.findIndex((instruction) => instruction.instructionId === answer.instructionId);
  const instruction = instructions[index];
  if (instruction === undefined) {
    refuse('NOT_FOUND', `${owner} has no settlement instruction ${answer.instructionId}`, 'instructionId');
  }
  if (instruction.status !== 'pending') {
    refuse(
      'INVALID_STATE',
      `settlement instruction ${instruction.instructionId} is already ${instruction.status}`,
      'instructionId',
    );
  }
  const answered: Instruction = {
    ...instruction,
    status: answer.outcome,
    confirmation: {
      outcome: answer.outcome,
      providerReference: answer.providerReference,
      ...(answer.payoutAccountId === undefined ? {} : { payoutAccountId: answer.payoutAccountId }),
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
      at: tx.at,
      txId: tx.txId,
      by: actorOf(tx.caller),
    },
  };
  return {
    answered,
    instructions: instructions.map((existing, position) => (position === index ? answered : existing)),
  };
}
