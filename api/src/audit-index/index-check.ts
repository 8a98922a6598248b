import { licenceFeeView, royaltyPeriodRecordSchema, type LicenceGrantRecord } from '@gigledger/chaincode/model';
import { RefusedError, type LedgerClient } from '@gigledger/gateway';
import type { Db } from '../db/database.js';
import { readEveryLedgerPage } from '../http/ledger-pages.js';

/** One way the index and the ledger's current state disagree. */
export interface IndexDifference {
  /**
   * `agreement`, `milestone`, `payout`, `credential`, `reputation`, `proposal`, `vote`,
   * `work`, `ownershipChange`, `licenceOffer`, `licence`, `royaltyPeriod`,
   * `provenanceRecord` or `lineageEdge`.
   */
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
    proposals: number;
    votes: number;
    works: number;
    ownershipChanges: number;
    licenceOffers: number;
    licences: number;
    royaltyPeriods: number;
    provenanceRecords: number;
    lineageEdges: number;
  };
  /**
   * Index tables the check cannot compare: the chaincode lets only a dataset's
   * controller, its grantee and auditors under a grant read access grants, uses and
   * erasure receipts, and the checking identity is neither.
   */
  readonly notCompared: readonly string[];
  readonly differences: readonly IndexDifference[];
}

/**
 * What a read by id answers, or `undefined` when the chaincode refuses it as missing
 * (NOT_FOUND: not on the ledger, or not for this reader, which the chaincode answers
 * alike) or, with `forbiddenToo`, as not this reader's to read.
 *
 * Any other failure (a peer unreachable, a timeout, an identity the channel refuses)
 * ends the check: counted as a record the ledger lacks, an outage would read as an index
 * holding records that are not on the ledger.
 *
 * @param what the record and the reader, for the error (`agreement A-1 through ClientOrgMSP's checker`).
 * @throws Error naming `what`, its cause any other failure of `read`.
 */
async function unlessRefusedAsMissing<Answer>(
  what: string,
  read: Promise<Answer>,
  forbiddenToo = false,
): Promise<Answer | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof RefusedError && (error.kind === 'not-found' || (forbiddenToo && error.kind === 'forbidden'))) {
      return undefined;
    }
    throw new Error(`the check could not read ${what}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
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
 * Governance proposals with their votes, works with their owners and ownership changes,
 * licence offers, licences and royalty periods, dataset and model records with their
 * lineage are compared too; dataset access grants, uses and erasure receipts are not
 * (see {@link IndexCheckReport.notCompared}).
 *
 * Records written after the index's height show as differences; run it on an index
 * that has caught up with the channel (the CLI does).
 */
export async function checkIndex(
  db: Db,
  ledger: LedgerClient,
  indexedHeight: bigint,
  /**
   * Reads agreements naming a person of an organisation: an admin reads only its own
   * organisation's people's agreements, so the check asks each organisation's admin;
   * `ledger` where none is given.
   */
  agreementsOf: (mspId: string) => LedgerClient = () => ledger,
  /**
   * One reader per organisation: an admin reads only the licences and ownership changes
   * naming its own organisation's people, so the check lists them through each; `ledger`
   * alone where none are given.
   */
  organisationReaders: readonly LedgerClient[] = [ledger],
): Promise<IndexCheckReport> {
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
    const view = await unlessRefusedAsMissing(
      `agreement ${row.agreement_id} through ${row.client_msp}'s checker`,
      agreementsOf(row.client_msp).agreements.getAgreement({ agreementId: row.agreement_id }),
    );
    if (view === undefined) {
      differ('agreement', row.agreement_id, 'missing-on-ledger', 'the chaincode answers NOT_FOUND');
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
        else if (
          payout.status !== instruction.status ||
          payout.amount !== instruction.amount ||
          (payout.settling_organisation ?? undefined) !== instruction.settlingOrganisation
        ) {
          differ(
            'payout',
            instruction.instructionId,
            'differs',
            `ledger ${instruction.status} ${instruction.amount} settled by ${instruction.settlingOrganisation ?? 'none named'}, ` +
              `index ${payout.status} ${payout.amount} settled by ${payout.settling_organisation ?? 'none named'}`,
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
    const listing = await readEveryLedgerPage((page) =>
      agreementsOf(party.mspId).agreements.listAgreementsByParty({ ...party, ...page }),
    );
    for (const listed of listing) {
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
    const record = await unlessRefusedAsMissing(
      `credential ${row.credential_id}`,
      ledger.credentials.getCredential({ credentialId: row.credential_id }),
    );
    if (record === undefined) {
      differ('credential', row.credential_id, 'missing-on-ledger', 'the chaincode answers NOT_FOUND');
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
    const held = await readEveryLedgerPage((page) =>
      ledger.credentials.listCredentialsBySubject({ ...subject, ...page }),
    );
    for (const record of held) {
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
    for (const record of await readEveryLedgerPage((page) =>
      ledger.reputation.listCompletions({ ...subject, ...page }),
    )) {
      ledgerTxIds.add(`completion ${record.txId} ${record.agreementId} ${record.milestoneId}`);
    }
    for (const record of await readEveryLedgerPage((page) =>
      ledger.reputation.listAttestations({ ...subject, ...page }),
    )) {
      ledgerTxIds.add(`attestation ${record.txId} ${record.agreementId} `);
    }
  }
  for (const id of ledgerTxIds)
    if (!indexedTxIds.has(id)) differ('reputation', id, 'missing-in-index', 'on the ledger');
  for (const id of indexedTxIds)
    if (!ledgerTxIds.has(id)) differ('reputation', id, 'missing-on-ledger', 'in the index only');

  const governance = await checkGovernance(db, ledger, differ);
  const ip = await checkIp(db, ledger, organisationReaders, differ);
  const licensing = await checkLicensing(db, organisationReaders, differ);
  const provenance = await checkProvenance(db, ledger, differ);

  return {
    indexedHeight: indexedHeight.toString(),
    checked: {
      agreements: agreements.length,
      milestones: milestones.length,
      payouts: payouts.length,
      credentials: credentials.length,
      reputation: reputation.length,
      ...governance,
      ...ip,
      ...licensing,
      ...provenance,
    },
    notCompared: ['ix_dataset_access_grants', 'ix_dataset_access_log', 'ix_erasure_receipts'],
    differences,
  };
}

type Differ = (kind: string, id: string, problem: IndexDifference['problem'], detail: string) => void;

/** Compares two sets of records by id: each missing on either side, and each whose `state` differs. */
function compareById<Ledger, Indexed>(
  kind: string,
  ledgerRecords: ReadonlyMap<string, Ledger>,
  indexedRecords: ReadonlyMap<string, Indexed>,
  ledgerState: (record: Ledger) => string,
  indexedState: (record: Indexed) => string,
  differ: Differ,
): void {
  for (const [id, record] of ledgerRecords) {
    const indexed = indexedRecords.get(id);
    if (indexed === undefined) differ(kind, id, 'missing-in-index', `ledger ${ledgerState(record)}`);
    else if (ledgerState(record) !== indexedState(indexed)) {
      differ(kind, id, 'differs', `ledger ${ledgerState(record)}, index ${indexedState(indexed)}`);
    }
  }
  for (const [id, indexed] of indexedRecords) {
    if (!ledgerRecords.has(id)) differ(kind, id, 'missing-on-ledger', `index ${indexedState(indexed)}`);
  }
}

/** Every proposal on the ledger (read page after page) with its votes. */
async function checkGovernance(db: Db, ledger: LedgerClient, differ: Differ) {
  const proposals = await db.selectFrom('ix_proposals').selectAll().execute();
  const votes = await db.selectFrom('ix_proposal_votes').selectAll().execute();
  const views = await readEveryLedgerPage((page) => ledger.governance.listProposals(page));
  compareById(
    'proposal',
    new Map(views.map((view) => [view.proposal.proposalId, view.proposal])),
    new Map(proposals.map((row) => [row.proposal_id, row])),
    (proposal) => `${proposal.status} (tx ${proposal.updatedTxId})`,
    (row) => `${row.status} (tx ${row.updated_tx_id})`,
    differ,
  );
  compareById(
    'vote',
    new Map(views.flatMap((view) => view.votes.map((vote) => [`${vote.proposalId}/${vote.mspId}`, vote]))),
    new Map(votes.map((row) => [`${row.proposal_id}/${row.msp_id}`, row])),
    (vote) => `${vote.choice} (tx ${vote.txId})`,
    (row) => `${row.choice} (tx ${row.tx_id})`,
    differ,
  );
  return { proposals: proposals.length, votes: votes.length };
}

const ownersText = (owners: readonly { party: { mspId: string; userId: string }; shareBps: number }[]) =>
  owners
    .map((owner) => `${partyKey(owner.party)}:${String(owner.shareBps)}`)
    .sort()
    .join(',');

/**
 * Every indexed work and its ownership changes; the ledger's works the index lacks,
 * through the listing of each indexed owner's works.
 */
async function checkIp(db: Db, ledger: LedgerClient, readers: readonly LedgerClient[], differ: Differ) {
  const works = await db.selectFrom('ix_works').selectAll().orderBy('work_id').execute();
  const owners = await db.selectFrom('ix_work_owners').selectAll().execute();
  const changes = await db.selectFrom('ix_ownership_changes').selectAll().execute();
  const ownersOf = (workId: string) =>
    ownersText(
      owners
        .filter((row) => row.work_id === workId)
        .map((row) => ({ party: { mspId: row.owner_msp, userId: row.owner_user }, shareBps: row.share_bps })),
    );
  const onLedger = new Map<string, { version: number; txId: string; owners: string }>();
  const ledgerChanges = new Map<string, { status: string; updatedTxId: string }>();
  for (const row of works) {
    const work = await unlessRefusedAsMissing(`work ${row.work_id}`, ledger.ip.getWork({ workId: row.work_id }));
    if (work === undefined) continue;
    onLedger.set(work.workId, {
      version: work.ownershipVersion,
      txId: work.updatedTxId,
      owners: ownersText(work.owners),
    });
    for (const reader of readers) {
      const changes = await readEveryLedgerPage((page) =>
        reader.ip.listOwnershipChanges({ workId: work.workId, ...page }),
      );
      for (const view of changes) {
        ledgerChanges.set(`${view.change.workId}/${view.change.changeId}`, view.change);
      }
    }
  }
  const people = new Map(
    owners.map((row) => [`${row.owner_msp}/${row.owner_user}`, { mspId: row.owner_msp, userId: row.owner_user }]),
  );
  for (const owner of people.values()) {
    for (const work of await readEveryLedgerPage((page) => ledger.ip.listWorksByOwner({ owner, ...page }))) {
      if (!onLedger.has(work.workId)) {
        onLedger.set(work.workId, {
          version: work.ownershipVersion,
          txId: work.updatedTxId,
          owners: ownersText(work.owners),
        });
      }
    }
  }
  compareById(
    'work',
    onLedger,
    new Map(works.map((row) => [row.work_id, row])),
    (work) => `version ${String(work.version)} owners ${work.owners} (tx ${work.txId})`,
    (row) => `version ${String(row.ownership_version)} owners ${ownersOf(row.work_id)} (tx ${row.updated_tx_id})`,
    differ,
  );
  compareById(
    'ownershipChange',
    ledgerChanges,
    new Map(changes.map((row) => [`${row.work_id}/${row.change_id}`, row])),
    (change) => `${change.status} (tx ${change.updatedTxId})`,
    (row) => `${row.status} (tx ${row.updated_tx_id})`,
    differ,
  );
  return { works: works.length, ownershipChanges: changes.length };
}

/**
 * Every offer and licence of every indexed work (the chaincode lists them by work), the
 * indexed royalty periods, and the fee record of every licence with a fee. Months
 * closed on the ledger are found only from the index's side: the chaincode lists no
 * grant's periods.
 */
async function checkLicensing(db: Db, readers: readonly LedgerClient[], differ: Differ) {
  const offers = await db.selectFrom('ix_licence_offers').selectAll().execute();
  const licences = await db.selectFrom('ix_licences').selectAll().execute();
  const periods = await db.selectFrom('ix_royalty_periods').selectAll().execute();
  const workIds = new Set([
    ...(await db.selectFrom('ix_works').select('work_id').execute()).map((row) => row.work_id),
    ...offers.map((row) => row.work_id),
    ...licences.map((row) => row.work_id),
  ]);
  const ledgerOffers = new Map<string, { status: string; updatedTxId: string }>();
  const ledgerLicences = new Map<string, LicenceGrantRecord>();
  for (const workId of workIds) {
    for (const reader of readers) {
      const listed = await unlessRefusedAsMissing(
        `the licences of work ${workId}`,
        reader.licensing.listWorkLicences({ workId }),
        true,
      );
      for (const offer of listed?.offers ?? []) ledgerOffers.set(offer.offerId, offer);
      for (const grant of listed?.grants ?? []) ledgerLicences.set(grant.grantId, grant);
    }
  }
  compareById(
    'licenceOffer',
    ledgerOffers,
    new Map(offers.map((row) => [row.offer_id, row])),
    (offer) => `${offer.status} (tx ${offer.updatedTxId})`,
    (row) => `${row.status} (tx ${row.updated_tx_id})`,
    differ,
  );
  compareById(
    'licence',
    ledgerLicences,
    new Map(licences.map((row) => [row.grant_id, row])),
    (grant) => `${grant.status} (tx ${grant.updatedTxId})`,
    (row) => `${row.status} (tx ${row.updated_tx_id})`,
    differ,
  );
  // A licence's fee record is read through its licence (the chaincode adds the fee's
  // payouts to it); a month, by its own key.
  const feeState = (status: string, payouts: readonly { instructionId: string; status: string }[]) =>
    `fee ${status} ${payouts.map((payout) => `${payout.instructionId}:${payout.status}`).join(',')}`;
  const ledgerPeriods = new Map<string, string>();
  for (const grant of ledgerLicences.values()) {
    if (grant.fee?.status !== undefined) {
      ledgerPeriods.set(`${grant.grantId}/fee`, feeState(grant.fee.status, grant.fee.payouts ?? []));
    }
  }
  const indexedPeriods = new Map<string, string>();
  for (const row of periods) {
    const id = `${row.grant_id}/${row.period_id}`;
    if (row.period_id === 'fee') {
      const record = royaltyPeriodRecordSchema.parse(JSON.parse(row.record));
      const view = licenceFeeView(record);
      indexedPeriods.set(id, feeState(view.status, view.payouts));
      continue;
    }
    indexedPeriods.set(id, `${row.status} (tx ${row.updated_tx_id})`);
    for (const reader of readers) {
      const view = await unlessRefusedAsMissing(
        `royalty period ${row.period_id} of licence ${row.grant_id}`,
        reader.licensing.getRoyaltyPeriod({ grantId: row.grant_id, periodId: row.period_id }),
        true,
      );
      if (view?.closed === undefined) continue;
      ledgerPeriods.set(id, `${view.closed.status} (tx ${view.closed.updatedTxId})`);
      break;
    }
  }
  compareById(
    'royaltyPeriod',
    ledgerPeriods,
    indexedPeriods,
    (state) => state,
    (state) => state,
    differ,
  );
  return { licenceOffers: offers.length, licences: licences.length, royaltyPeriods: periods.length };
}

/**
 * Every indexed dataset and model record and the lineage edges from it; the ledger's
 * records the index lacks, through those edges (a record registered from an indexed parent).
 */
async function checkProvenance(db: Db, ledger: LedgerClient, differ: Differ) {
  const records = await db.selectFrom('ix_provenance_records').selectAll().orderBy('record_id').execute();
  const edges = await db.selectFrom('ix_lineage_edges').selectAll().execute();
  const state = (record: { kind: string; contentSha256: string; subjectData?: { status: string } | undefined }) =>
    `${record.kind} ${record.contentSha256} subject data ${record.subjectData?.status ?? 'none'}`;
  const ledgerRecords = new Map<string, string>();
  const ledgerEdges = new Map<string, string>();
  const pending = records.map((row) => row.record_id);
  const visited = new Set<string>();
  for (let recordId = pending.shift(); recordId !== undefined; recordId = pending.shift()) {
    if (visited.has(recordId)) continue;
    visited.add(recordId);
    const record = await unlessRefusedAsMissing(`record ${recordId}`, ledger.provenance.getRecord({ recordId }));
    if (record === undefined) continue;
    ledgerRecords.set(record.recordId, state(record));
    const lineage = await ledger.provenance.getLineage({ recordId, direction: 'descendants', depth: 1 });
    for (const edge of lineage.edges) {
      ledgerEdges.set(`${edge.from}/${edge.to}`, edge.relation);
      pending.push(edge.to);
    }
  }
  compareById(
    'provenanceRecord',
    ledgerRecords,
    new Map(records.map((row) => [row.record_id, row])),
    (text) => text,
    (row) => `${row.kind} ${row.content_sha256} subject data ${row.subject_data_status ?? 'none'}`,
    differ,
  );
  compareById(
    'lineageEdge',
    ledgerEdges,
    new Map(edges.map((row) => [`${row.parent_id}/${row.child_id}`, row])),
    (relation) => relation,
    (row) => row.relation,
    differ,
  );
  return { provenanceRecords: records.length, lineageEdges: edges.length };
}
