import {
  agreementRecordSchema,
  milestoneRecordSchema,
  type AgreementRecord,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import { written, type BlockRows, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';
import { agreementPartyColumns, type AgreementParties } from './index-schema.js';

function partiesOf(agreement: AgreementRecord): AgreementParties {
  return {
    client_msp: agreement.client.mspId,
    client_user: agreement.client.userId,
    freelancer_msp: agreement.freelancer.mspId,
    freelancer_user: agreement.freelancer.userId,
    evaluator_msp: agreement.evaluator?.mspId ?? null,
    evaluator_user: agreement.evaluator?.userId ?? null,
  };
}

function indexAgreement(write: IndexedWrite, rows: BlockRows): void {
  const agreement = agreementRecordSchema.parse(write.value);
  rows.upsert('ix_agreements', ['agreement_id'], {
    ...partiesOf(agreement),
    agreement_id: agreement.agreementId,
    title: agreement.title,
    status: agreement.status,
    milestone_count: agreement.milestoneIds.length,
    created_at: agreement.createdAt,
    created_tx_id: agreement.createdTxId,
    updated_at: agreement.updatedAt,
    updated_tx_id: agreement.updatedTxId,
    ...written(write, agreement),
  });
}

/**
 * The party an instruction's money goes to, as the index's payee: its `recipient` where
 * the ledger records one. Older records name the client as payer and the freelancer as
 * payee whichever way the money moves (their `kind` says which), so a refund pays its
 * payer. Escrow funding stays with the freelancer it is held for.
 */
function paidParty(instruction: SettlementInstruction): { payee_msp: string; payee_user: string } {
  const paid = instruction.recipient ?? (instruction.kind === 'refund' ? instruction.payer : instruction.payee);
  return { payee_msp: paid.mspId, payee_user: paid.userId };
}

/** A milestone row and one row per settlement instruction it holds (payouts, funding, refunds). */
async function indexMilestone(write: IndexedWrite, rows: BlockRows): Promise<void> {
  const milestone = milestoneRecordSchema.parse(write.value);
  const found = await rows.find('ix_agreements', { agreement_id: milestone.agreementId }, [
    ...agreementPartyColumns,
    'created_at',
  ]);
  // The draft writes the agreement before its milestones, in the same transaction.
  if (found === undefined) {
    throw new Error(`milestone ${milestone.milestoneId} of ${milestone.agreementId} written before its agreement`);
  }
  const agreement: AgreementParties & { agreement_created_at: string } = {
    client_msp: found.client_msp,
    client_user: found.client_user,
    freelancer_msp: found.freelancer_msp,
    freelancer_user: found.freelancer_user,
    evaluator_msp: found.evaluator_msp ?? null,
    evaluator_user: found.evaluator_user ?? null,
    agreement_created_at: found.created_at,
  };
  rows.upsert('ix_milestones', ['agreement_id', 'milestone_id'], {
    ...agreement,
    agreement_id: milestone.agreementId,
    milestone_id: milestone.milestoneId,
    position: milestone.position,
    kind: milestone.kind,
    title: milestone.title,
    status: milestone.status,
    amount: milestone.amount,
    amount_minor: BigInt(milestone.amount),
    currency: milestone.currency,
    due_date: milestone.dueDate,
    created_at: milestone.createdAt,
    updated_at: milestone.updatedAt,
    updated_tx_id: milestone.updatedTxId,
    ...written(write, milestone),
  });
  rows.replace(
    'ix_payouts',
    { agreement_id: milestone.agreementId, milestone_id: milestone.milestoneId },
    milestone.instructions.map((instruction) => ({
      ...agreement,
      instruction_id: instruction.instructionId,
      agreement_id: instruction.agreementId,
      milestone_id: instruction.milestoneId,
      kind: instruction.kind,
      cause: instruction.cause,
      status: instruction.status,
      amount: instruction.amount,
      amount_minor: BigInt(instruction.amount),
      platform_fee: instruction.platformFee,
      currency: instruction.currency,
      ...paidParty(instruction),
      requested_at: instruction.requestedAt,
      request_tx_id: instruction.requestTxId,
      compliance_outcome: instruction.compliance?.outcome ?? null,
      compliance_credential_id: instruction.compliance?.credentialId ?? null,
      settling_organisation: instruction.settlingOrganisation ?? null,
      record: JSON.stringify(instruction),
    })),
  );
}

/**
 * Agreements, their milestones and the settlement instructions (payouts) each milestone
 * holds, from the agreement contract's keys (see `contracts/agreement/store.ts`).
 */
export const agreementIndexer: DomainIndexer = {
  domain: 'agreement',
  records: [
    ['agreement', indexAgreement],
    ['milestone', indexMilestone],
  ],
};
