import type { LedgerClient } from '@gigledger/gateway';
import type { Db } from '../db/database.js';

/** One way the index and the ledger's current state disagree. */
export interface IndexDifference {
  /** `agreement`, `milestone`, `payout`, `credential` or `reputation`. */
  readonly kind: string;
  readonly id: string;
  /** `missing-in-index`, `missing-on-ledger` or `differs`. */
  readonly problem: 'missing-in-index' | 'missing-on-ledger' | 'differs';
  readonly detail: string;
}

export interface IndexCheckReport {
  readonly indexedHeight: string;
  readonly checked: {
    agreements: number;
    milestones: number;
    payouts: number;
    credentials: number;
    reputation: number;
  };
  readonly differences: readonly IndexDifference[];
}

const partyKey = (party: { mspId: string; userId: string }) => `${party.mspId}/${party.userId}`;

/**
 * Compares the index's records with the ledger's current state, read through the
 * chaincode by `ledger` (an auditor, who may read every agreement and credential):
 * every indexed agreement with its milestones and their settlement instructions, every
 * indexed credential, every reputation record of every indexed subject; and, through
 * the listings by party, the ledger's records the index lacks. A record is compared by
 * its status and the transaction that last wrote it.
 *
 * Records written after the index's height show as differences; run it on an index
 * that has caught up with the channel (the CLI does).
 */
export async function checkIndex(db: Db, ledger: LedgerClient, indexedHeight: bigint): Promise<IndexCheckReport> {
  const differences: IndexDifference[] = [];
  const differ = (kind: string, id: string, problem: IndexDifference['problem'], detail: string) =>
    differences.push({ kind, id, problem, detail });

  const agreements = await db.selectFrom('ix_agreements').selectAll().orderBy('agreement_id').execute();
  const milestones = await db.selectFrom('ix_milestones').selectAll().execute();
  const payouts = await db.selectFrom('ix_payouts').selectAll().execute();
  const milestonesOf = new Map<string, typeof milestones>();
  for (const milestone of milestones) {
    milestonesOf.set(milestone.agreement_id, [...(milestonesOf.get(milestone.agreement_id) ?? []), milestone]);
  }
  const payoutById = new Map(payouts.map((payout) => [payout.instruction_id, payout]));
  const seenPayouts = new Set<string>();
  for (const row of agreements) {
    let view;
    try {
      view = await ledger.agreements.getAgreement({ agreementId: row.agreement_id });
    } catch {
      differ('agreement', row.agreement_id, 'missing-on-ledger', 'the chaincode does not answer it');
      continue;
    }
    if (view.agreement.status !== row.status || view.agreement.updatedTxId !== row.updated_tx_id) {
      differ(
        'agreement',
        row.agreement_id,
        'differs',
        `ledger ${view.agreement.status} (tx ${view.agreement.updatedTxId}), index ${row.status} (tx ${row.updated_tx_id})`,
      );
    }
    const indexed = new Map((milestonesOf.get(row.agreement_id) ?? []).map((m) => [m.milestone_id, m]));
    for (const milestone of view.milestones) {
      const id = `${row.agreement_id}/${milestone.milestoneId}`;
      const mine = indexed.get(milestone.milestoneId);
      indexed.delete(milestone.milestoneId);
      if (mine === undefined) {
        differ('milestone', id, 'missing-in-index', `ledger ${milestone.status}`);
        continue;
      }
      if (
        mine.status !== milestone.status ||
        mine.updated_tx_id !== milestone.updatedTxId ||
        mine.amount !== milestone.amount
      ) {
        differ(
          'milestone',
          id,
          'differs',
          `ledger ${milestone.status} ${milestone.amount} (tx ${milestone.updatedTxId}), index ${mine.status} ${mine.amount} (tx ${mine.updated_tx_id})`,
        );
      }
      for (const instruction of milestone.instructions) {
        seenPayouts.add(instruction.instructionId);
        const payout = payoutById.get(instruction.instructionId);
        if (payout === undefined)
          differ('payout', instruction.instructionId, 'missing-in-index', `ledger ${instruction.status}`);
        else if (payout.status !== instruction.status || payout.amount !== instruction.amount) {
          differ(
            'payout',
            instruction.instructionId,
            'differs',
            `ledger ${instruction.status} ${instruction.amount}, index ${payout.status} ${payout.amount}`,
          );
        }
      }
    }
    for (const milestoneId of indexed.keys()) {
      differ(
        'milestone',
        `${row.agreement_id}/${milestoneId}`,
        'missing-on-ledger',
        'the agreement has no such milestone',
      );
    }
  }
  for (const payout of payouts) {
    if (!seenPayouts.has(payout.instruction_id) && agreements.some((row) => row.agreement_id === payout.agreement_id)) {
      differ('payout', payout.instruction_id, 'missing-on-ledger', 'its milestone holds no such instruction');
    }
  }
  // The ledger's agreements the index lacks, found through each indexed party's listing.
  const indexedAgreements = new Set(agreements.map((row) => row.agreement_id));
  const parties = new Map<string, { mspId: string; userId: string }>();
  for (const row of agreements) {
    parties.set(partyKey({ mspId: row.client_msp, userId: row.client_user }), {
      mspId: row.client_msp,
      userId: row.client_user,
    });
    parties.set(partyKey({ mspId: row.freelancer_msp, userId: row.freelancer_user }), {
      mspId: row.freelancer_msp,
      userId: row.freelancer_user,
    });
  }
  for (const party of parties.values()) {
    for (const listed of await ledger.agreements.listAgreementsByParty({ ...party })) {
      if (!indexedAgreements.has(listed.agreement.agreementId)) {
        indexedAgreements.add(listed.agreement.agreementId);
        differ('agreement', listed.agreement.agreementId, 'missing-in-index', `ledger ${listed.agreement.status}`);
      }
    }
  }

  const credentials = await db.selectFrom('ix_credentials').selectAll().orderBy('credential_id').execute();
  const indexedCredentials = new Set(credentials.map((row) => row.credential_id));
  const subjects = new Map<string, { mspId: string; userId: string }>();
  for (const row of credentials) {
    subjects.set(partyKey({ mspId: row.subject_msp, userId: row.subject_user }), {
      mspId: row.subject_msp,
      userId: row.subject_user,
    });
    let record;
    try {
      record = await ledger.credentials.getCredential({ credentialId: row.credential_id });
    } catch {
      differ('credential', row.credential_id, 'missing-on-ledger', 'the chaincode does not answer it');
      continue;
    }
    if (record.status !== row.status || record.updatedTxId !== row.updated_tx_id) {
      differ(
        'credential',
        row.credential_id,
        'differs',
        `ledger ${record.status} (tx ${record.updatedTxId}), index ${row.status} (tx ${row.updated_tx_id})`,
      );
    }
  }
  for (const subject of subjects.values()) {
    for (const record of await ledger.credentials.listCredentialsBySubject({ ...subject })) {
      if (!indexedCredentials.has(record.credentialId)) {
        indexedCredentials.add(record.credentialId);
        differ('credential', record.credentialId, 'missing-in-index', `ledger ${record.status}`);
      }
    }
  }

  const reputation = await db.selectFrom('ix_reputation').selectAll().execute();
  const reputationSubjects = new Map<string, { mspId: string; userId: string }>();
  for (const row of reputation) {
    reputationSubjects.set(partyKey({ mspId: row.subject_msp, userId: row.subject_user }), {
      mspId: row.subject_msp,
      userId: row.subject_user,
    });
  }
  const indexedTxIds = new Set(
    reputation.map((row) => `${row.kind} ${row.tx_id} ${row.agreement_id} ${row.milestone_id ?? ''}`),
  );
  const ledgerTxIds = new Set<string>();
  for (const subject of reputationSubjects.values()) {
    for (const record of await ledger.reputation.listCompletions({ ...subject })) {
      ledgerTxIds.add(`completion ${record.txId} ${record.agreementId} ${record.milestoneId}`);
    }
    for (const record of await ledger.reputation.listAttestations({ ...subject })) {
      ledgerTxIds.add(`attestation ${record.txId} ${record.agreementId} `);
    }
  }
  for (const id of ledgerTxIds)
    if (!indexedTxIds.has(id)) differ('reputation', id, 'missing-in-index', 'on the ledger');
  for (const id of indexedTxIds)
    if (!ledgerTxIds.has(id)) differ('reputation', id, 'missing-on-ledger', 'in the index only');

  return {
    indexedHeight: indexedHeight.toString(),
    checked: {
      agreements: agreements.length,
      milestones: milestones.length,
      payouts: payouts.length,
      credentials: credentials.length,
      reputation: reputation.length,
    },
    differences,
  };
}
