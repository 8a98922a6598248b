import { agreementRecordSchema, milestoneRecordSchema, type AgreementRecord } from '@gigledger/chaincode/model';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/database.js';
import type { DomainIndexer, IndexedWrite } from './domain-indexer.js';
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

async function indexAgreement(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const agreement = agreementRecordSchema.parse(write.value);
  const row = {
    ...partiesOf(agreement),
    agreement_id: agreement.agreementId,
    title: agreement.title,
    status: agreement.status,
    milestone_count: agreement.milestoneIds.length,
    created_at: agreement.createdAt,
    created_tx_id: agreement.createdTxId,
    updated_at: agreement.updatedAt,
    updated_tx_id: agreement.updatedTxId,
    updated_block: write.blockNumber,
    record: JSON.stringify(agreement),
  };
  await db
    .insertInto('ix_agreements')
    .values(row)
    .onConflict((conflict) => conflict.column('agreement_id').doUpdateSet(row))
    .execute();
}

/** A milestone row and one row per settlement instruction it holds (payouts, funding, refunds). */
async function indexMilestone(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const milestone = milestoneRecordSchema.parse(write.value);
  const agreement = await db
    .selectFrom('ix_agreements')
    .select([...agreementPartyColumns, 'created_at as agreement_created_at'])
    .where('agreement_id', '=', milestone.agreementId)
    .executeTakeFirst();
  // The draft writes the agreement before its milestones, in the same transaction.
  if (agreement === undefined) {
    throw new Error(`milestone ${milestone.milestoneId} of ${milestone.agreementId} written before its agreement`);
  }
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(milestone),
  };
  await db
    .insertInto('ix_milestones')
    .values(row)
    .onConflict((conflict) => conflict.columns(['agreement_id', 'milestone_id']).doUpdateSet(row))
    .execute();
  await db
    .deleteFrom('ix_payouts')
    .where('agreement_id', '=', milestone.agreementId)
    .where('milestone_id', '=', milestone.milestoneId)
    .execute();
  if (milestone.instructions.length === 0) return;
  await db
    .insertInto('ix_payouts')
    .values(
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
        payee_msp: instruction.payee.mspId,
        payee_user: instruction.payee.userId,
        requested_at: instruction.requestedAt,
        request_tx_id: instruction.requestTxId,
        compliance_outcome: instruction.compliance?.outcome ?? null,
        compliance_credential_id: instruction.compliance?.credentialId ?? null,
        record: JSON.stringify(instruction),
      })),
    )
    .execute();
}

/**
 * Agreements, their milestones and the settlement instructions (payouts) each milestone
 * holds, from the agreement contract's keys (see `contracts/agreement/store.ts`).
 */
export const agreementIndexer: DomainIndexer = {
  domain: 'agreement',
  objectTypes: ['agreement', 'milestone'],
  apply(db, write) {
    if (write.value === undefined) return Promise.resolve();
    return write.objectType === 'agreement' ? indexAgreement(db, write) : indexMilestone(db, write);
  },
};
