import {
  agreementOrganisationReaderRoles,
  agreementReaderRoles,
  credentialOrganisationReaderRoles,
  credentialReaderRoles,
  governedRoles,
  ipOrganisationReaderRoles,
  ipReaderRoles,
  licensingOrganisationReaderRoles,
  licensingReaderRoles,
  provenanceAuditorRoles,
  type AuditGrantRecord,
  type AuditRecordKind,
  type AuditScope,
  type Role,
} from '@gigledger/chaincode/model';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Principal, Scope } from '../auth/principal.js';
import { forbidden, unauthenticated } from '../errors/api-error.js';
import { transactionReach, transactionReaderRoles, type TransactionReach } from '../proofs/transaction-reach.js';

/** What the index answers about, each read under its own rule. */
export type IndexedKind =
  | 'agreements'
  | 'milestones'
  | 'payouts'
  | 'credentials'
  | 'reputation'
  /** Blocks and heights. */
  | 'ledger'
  | 'transactions'
  | 'transactionKeys'
  | 'proposals'
  | 'works'
  | 'ownershipChanges'
  | 'licenceOffers'
  | 'licences'
  | 'royaltyPeriods'
  | 'provenanceRecords'
  | 'lineage'
  | 'datasetAccessGrants'
  | 'datasetAccessLog'
  | 'erasureReceipts';

/**
 * Roles that may browse the block explorer (blocks, transactions, their keys and
 * validation codes): those that may export proofs, as both show what transactions did.
 * Which transactions each sees is `transactionReach`.
 */
export const ledgerExplorerRoles: readonly Role[] = transactionReaderRoles;

/** The API scope that guards each kind's chaincode reads, and so its index reads. */
export const indexedKindScopes: Readonly<Record<IndexedKind, Scope>> = {
  agreements: 'agreements:read',
  milestones: 'agreements:read',
  payouts: 'agreements:read',
  credentials: 'credentials:read',
  reputation: 'reputation:read',
  ledger: 'ledger:read',
  transactions: 'ledger:read',
  transactionKeys: 'ledger:read',
  proposals: 'governance:read',
  works: 'ip:read',
  ownershipChanges: 'ip:read',
  licenceOffers: 'licensing:read',
  licences: 'licensing:read',
  royaltyPeriods: 'licensing:read',
  provenanceRecords: 'provenance:read',
  lineage: 'provenance:read',
  datasetAccessGrants: 'provenance:read',
  datasetAccessLog: 'provenance:read',
  erasureReceipts: 'provenance:read',
};

const everything = sql<SqlBool>`1 = 1`;
const nothing = sql<SqlBool>`1 = 0`;

function namedAs(principal: Principal, msp: string, user: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(msp)} = ${principal.mspId} and ${sql.ref(user)} = ${principal.userId})`;
}

function anyOf(conditions: readonly RawBuilder<SqlBool>[]): RawBuilder<SqlBool> {
  if (conditions.length === 0) return nothing;
  return sql<SqlBool>`(${sql.join(conditions, sql` or `)})`;
}

// Record times are stored as the transaction's ISO 8601 instant (milliseconds, `Z`);
// grant bounds are brought to the same form so that text order is time order.
const instant = (value: string): string => new Date(value).toISOString();

/** How {@link indexVisibility} writes its conditions for the database that runs them. */
export interface VisibilityOptions {
  /**
   * The conditions run on SQLite. A grant's arm (an organisation over months) matches most
   * of a table, yet SQLite's planner takes its columns as index terms: OR-ed with the party
   * arm, each of a filter's party look-ups became range scans, one per grant, and the
   * visibility cost three to five times the look-up it filtered (bench/README.md, audit
   * index queries, sixth round). On SQLite those columns are read through unary `+`, which
   * its documentation gives as the way to keep a term from constraining an index, so the
   * grant arm filters the rows the query's own filter found. PostgreSQL has no unary `+`
   * for text and plans OR-ed terms by cost, so its conditions stay plain.
   */
  readonly sqlite?: boolean;
}

const plainColumn = (name: string): RawBuilder<unknown> => sql.ref(name);

/** A column read through SQLite's unary `+`: compared as itself, never an index term. */
const filterOnly = (name: string): RawBuilder<unknown> => sql`+${sql.ref(name)}`;

/**
 * The rows some live grant covers, as `grantCovers` in the chaincode decides: one grant
 * naming the kind, from one of the organisations the record concerns (`orgColumns`), with
 * the record's time (`timeColumn`) in its `[from, to)`; `column` writes a column's
 * reference (see {@link VisibilityOptions}).
 */
function coveredByGrant(
  grants: readonly AuditGrantRecord[],
  kind: AuditRecordKind,
  orgColumns: readonly string[],
  timeColumn: string,
  column: (name: string) => RawBuilder<unknown> = plainColumn,
): RawBuilder<SqlBool> {
  return coveredByGrantOf(
    grants,
    kind,
    (organisation) => anyOf(orgColumns.map((name) => sql<SqlBool>`${column(name)} = ${organisation}`)),
    timeColumn,
    column,
  );
}

/**
 * As {@link coveredByGrant}, with whether a row concerns an organisation told by
 * `concerns` (a condition that may look at other tables, such as a work's owners now).
 */
function coveredByGrantOf(
  grants: readonly AuditGrantRecord[],
  kind: AuditRecordKind,
  concerns: (organisation: string) => RawBuilder<SqlBool>,
  timeColumn: string,
  column: (name: string) => RawBuilder<unknown> = plainColumn,
): RawBuilder<SqlBool> {
  return anyOf(
    grants
      .filter((grant) => grant.kinds.includes(kind))
      .map((grant) => {
        const parts = [concerns(grant.organisation)];
        if (grant.from !== undefined) parts.push(sql<SqlBool>`${column(timeColumn)} >= ${instant(grant.from)}`);
        if (grant.to !== undefined) parts.push(sql<SqlBool>`${column(timeColumn)} < ${instant(grant.to)}`);
        return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
      }),
  );
}

/** A person named by two columns of another table, in rows tied to this one by `link`. */
function namedIn(
  principal: Principal,
  table: string,
  msp: string,
  user: string,
  link: RawBuilder<SqlBool>,
): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from ${sql.table(table)} where ${link} and ${namedAs(principal, `${table}.${msp}`, `${table}.${user}`)})`;
}

/** Rows of another table, tied to this one by `link`, with an organisation in `msp`. */
function organisationIn(table: string, msp: string, link: RawBuilder<SqlBool>, organisation: string) {
  return sql<SqlBool>`exists (select 1 from ${sql.table(table)} where ${link} and ${sql.ref(`${table}.${msp}`)} = ${organisation})`;
}

const sameColumns = (table: string, outer: string, columns: readonly string[]) =>
  sql<SqlBool>`${sql.join(
    columns.map((column) => sql`${sql.ref(`${table}.${column}`)} = ${sql.ref(`${outer}.${column}`)}`),
    sql` and `,
  )}`;

/** A work's owners now, for rows of `outer` that name the work in `work_id`. */
const workOwners = (outer: string) => sameColumns('ix_work_owners', outer, ['work_id']);

/**
 * The licensing reader roles that read every licensing row here. The index does not know
 * the governance decision the settlement role's reach needs (`Caller.governed`), so that
 * role reads licences it is not named in through the chaincode only, as for agreements.
 */
const licensingIndexReaderRoles: readonly Role[] = licensingReaderRoles.filter(
  (role) => !(governedRoles as readonly Role[]).includes(role),
);

/** As {@link licensingIndexReaderRoles}, for agreements: an arbitrator reads its disputes through the chaincode. */
const agreementIndexReaderRoles: readonly Role[] = agreementReaderRoles.filter(
  (role) => !(governedRoles as readonly Role[]).includes(role),
);

/**
 * The rule shared by records that reader roles see whole and everyone else only when
 * named in them: `party` for other roles; for an auditor (`auditScope`), `party` or what
 * a live grant naming `kind` covers (`granted`); every row for reader roles no grant
 * limits; for organisation readers (`byOrganisation.readers`, admins), `party` or the rows
 * concerning their own organisation (`byOrganisation.concerns`).
 */
function partyOrReader(
  principal: Principal,
  readers: readonly Role[],
  party: RawBuilder<SqlBool>,
  auditScope: AuditScope | undefined,
  kind: AuditRecordKind,
  granted: (grants: readonly AuditGrantRecord[]) => RawBuilder<SqlBool>,
  byOrganisation?: {
    readonly readers: readonly Role[];
    readonly concerns: (organisation: string) => RawBuilder<SqlBool>;
  },
): RawBuilder<SqlBool> {
  if (byOrganisation?.readers.includes(principal.role) === true) {
    return anyOf([party, byOrganisation.concerns(principal.mspId)]);
  }
  if (!readers.includes(principal.role)) return party;
  if (auditScope === undefined) return everything;
  if (!auditScope.grants.some((grant) => grant.kinds.includes(kind))) return party;
  return anyOf([party, granted(auditScope.grants)]);
}

/**
 * {@link partyOrReader} for records whose organisations `concerns` names: an auditor's
 * grants cover a row concerning the granting organisation dated within their range, an
 * organisation reader's (admin's) own organisation opens the rows concerning it.
 */
function partyOrOrganisationReader(
  principal: Principal,
  party: RawBuilder<SqlBool>,
  auditScope: AuditScope | undefined,
  rule: {
    readonly kind: AuditRecordKind;
    readonly readers: readonly Role[];
    readonly organisationReaders: readonly Role[];
    readonly concerns: (organisation: string) => RawBuilder<SqlBool>;
    readonly dated: string;
  },
): RawBuilder<SqlBool> {
  return partyOrReader(
    principal,
    rule.readers,
    party,
    auditScope,
    rule.kind,
    (grants) => coveredByGrantOf(grants, rule.kind, rule.concerns, rule.dated),
    { readers: rule.organisationReaders, concerns: rule.concerns },
  );
}

/**
 * The transactions a caller's reach takes in (`reachesTransaction`), as an SQL condition.
 * An auditor whose grants are unknown is a tool reading the index as an operator (see
 * `IndexQueries`), which sees every transaction; the server always knows the grants.
 */
function reachedTransactions(
  principal: Principal,
  auditScope: AuditScope | undefined,
  creatorColumn: string,
  timeColumn: string,
): RawBuilder<SqlBool> {
  if (principal.role === 'auditor' && auditScope === undefined) return everything;
  const reach: TransactionReach = transactionReach(principal, auditScope);
  switch (reach.kind) {
    case 'none':
      return nothing;
    case 'own':
      return sql<SqlBool>`${sql.ref(creatorColumn)} = ${reach.mspId}`;
    case 'granted':
      return coveredByGrant(reach.grants, 'transaction', [creatorColumn], timeColumn);
  }
}

/**
 * THE rule of what the audit index may answer a caller: the rows of `kind` the
 * principal could read through the chaincode, as an SQL condition over that kind's
 * table. Every index query (GraphQL and REST) filters with it and with nothing else.
 *
 * - agreements, their milestones and payouts: every row for an auditor (under its
 *   grants, below); for admins, HR systems and the settlement role
 *   (`agreementOrganisationReaderRoles`) rows of agreements naming a person of their
 *   organisation (a governed role's wider reach, the settlement role's and an arbitrator's
 *   disputes, is read through the chaincode, which knows the governance decision and the
 *   panels); otherwise only rows of agreements that name the
 *   caller (its MSP id and userId) as client, freelancer or evaluator, as
 *   `canReadAgreement` in `contracts/agreement/access.ts` decides;
 * - credentials: every row for `credentialReaderRoles` (an auditor, under its grants);
 *   for admins (`credentialOrganisationReaderRoles`) those whose subject or issuer is of
 *   their organisation; otherwise those whose subject or issuer is the caller
 *   (`canReadCredential`);
 * - reputation records: every row; the chaincode answers any signed-in reader;
 * - blocks: every row for {@link ledgerExplorerRoles} but auditors, none otherwise; an
 *   auditor only blocks holding a transaction it reaches (below); transactions (with
 *   their keys): those `transactionReach` takes in, the rule proofs follow too: an admin
 *   its own organisation's, an auditor those its grants cover;
 * - governance proposals (with their votes), works, dataset and model records and their
 *   lineage: every row; the chaincode answers any member of the channel;
 * - ownership changes: every row for `ipReaderRoles` (an auditor, under its grants);
 *   for admins (`ipOrganisationReaderRoles`) those naming a person of their organisation;
 *   otherwise those naming the caller as an owner they were proposed to, an owner they
 *   propose, or an owner of the work now (`mayReadChange` in `contracts/ip/works.ts`);
 * - licence offers: every row for `licensingReaderRoles` but the governed settlement
 *   role (an auditor, under its grants); for admins (`licensingOrganisationReaderRoles`)
 *   those naming a person of their organisation; otherwise those naming the caller as an
 *   owner or the licensee, and offers open to anyone while open (`canReadOffer` in
 *   `contracts/licensing/queries.ts`);
 * - licences and their royalty periods: as offers, with the licensee and the work's
 *   owners now (`canReadGrant`);
 * - dataset access grants: every row for `provenanceAuditorRoles`; otherwise those
 *   whose dataset the caller controls or that the caller holds; the access log: every
 *   row for those roles, otherwise the uses of the caller's datasets
 *   (`contracts/provenance/access.ts`); erasure receipts: every row for those roles,
 *   otherwise those the caller asked for, is the data subject of or controls the data of.
 *
 * An auditor (`auditScope`, from `AuditScopes`) reads as the chaincode lets them: an agreement
 * (with its milestones and payouts) or a credential it is not a party to only when one
 * live grant covers it (`requireAuditGrant`: the kind, one of the organisations it
 * concerns, its creation or issue time within the grant's range); the block explorer
 * only with a live grant naming `transaction`, and of the transactions (with their keys)
 * those created by a granting organisation's members at a time in the grant's range, and
 * of the blocks those holding at least one such transaction;
 * ownership changes under a grant naming `ip` from an organisation of their owners (then
 * or now), dated by the proposal; licence offers, licences and royalty periods under one
 * naming `licensing` from the licensee's or an owner's organisation, dated by the offer
 * or the licence's acceptance; dataset access grants and uses under one naming
 * `provenance` from the controller's organisation, dated by the dataset's registration;
 * erasure receipts under one naming `provenance` from the requester's, the data
 * subject's or a controller's organisation, dated by the erasure.
 *
 * The API scope that guards the same chaincode reads is required first.
 *
 * @throws ApiError 401 without a principal; 403 when the principal lacks the scope.
 */
export function indexVisibility(
  principal: Principal | undefined,
  kind: IndexedKind,
  auditScope?: AuditScope,
  options: VisibilityOptions = {},
): RawBuilder<SqlBool> {
  if (principal === undefined) throw unauthenticated();
  const grantColumn = options.sqlite === true ? filterOnly : plainColumn;
  const needed = indexedKindScopes[kind];
  if (!principal.scopes.includes(needed)) {
    throw forbidden(`this operation needs scope ${needed}; the caller (role ${principal.role}) does not have it`);
  }
  switch (kind) {
    case 'agreements':
    case 'milestones':
    case 'payouts': {
      const party = anyOf([
        namedAs(principal, 'client_msp', 'client_user'),
        namedAs(principal, 'freelancer_msp', 'freelancer_user'),
        namedAs(principal, 'evaluator_msp', 'evaluator_user'),
      ]);
      // Without a grant naming agreements the grant arm matches nothing; leaving it out
      // lets SQLite answer from the party indexes instead of scanning the filter's range.
      if (auditScope !== undefined && !auditScope.grants.some((grant) => grant.kinds.includes('agreement'))) {
        return party;
      }
      if (auditScope !== undefined) {
        // Milestones and payouts date from their agreement, as the chaincode judges them;
        // each row keeps its agreement's parties and creation time, so the rule reads the
        // row alone, and the covering indexes hold those columns: counts are index-only.
        const dated = kind === 'agreements' ? 'created_at' : 'agreement_created_at';
        return anyOf([
          party,
          coveredByGrant(auditScope.grants, 'agreement', ['client_msp', 'freelancer_msp'], dated, grantColumn),
        ]);
      }
      // The index does not know the governance decision a governed role's wider reach
      // needs (`Caller.governed`), so such a role reads its organisation's agreements here
      // and any other one through the chaincode.
      if (agreementOrganisationReaderRoles.includes(principal.role)) {
        return anyOf([
          party,
          ...['client_msp', 'freelancer_msp', 'evaluator_msp'].map(
            (column) => sql<SqlBool>`${sql.ref(column)} = ${principal.mspId}`,
          ),
        ]);
      }
      // An arbitrator's wider reach is the disputes it was drawn for, which the index does
      // not know either: it reads those through the chaincode, and here only what names it.
      if (agreementIndexReaderRoles.includes(principal.role)) return everything;
      return party;
    }
    case 'credentials': {
      const party = anyOf([
        namedAs(principal, 'subject_msp', 'subject_user'),
        namedAs(principal, 'issuer_msp', 'issuer_user'),
      ]);
      if (auditScope !== undefined && !auditScope.grants.some((grant) => grant.kinds.includes('credential'))) {
        return party;
      }
      if (auditScope !== undefined) {
        return anyOf([
          party,
          coveredByGrant(auditScope.grants, 'credential', ['subject_msp', 'issuer_msp'], 'issued_at', grantColumn),
        ]);
      }
      if (credentialOrganisationReaderRoles.includes(principal.role)) {
        return anyOf([
          party,
          sql<SqlBool>`(${sql.ref('subject_msp')} = ${principal.mspId} or ${sql.ref('issuer_msp')} = ${principal.mspId})`,
        ]);
      }
      if (credentialReaderRoles.includes(principal.role)) return everything;
      return party;
    }
    case 'reputation':
      return everything;
    case 'ledger': {
      if (!ledgerExplorerRoles.includes(principal.role)) return nothing;
      if (auditScope !== undefined && !auditScope.kinds.includes('transaction')) return nothing;
      // An admin's peer holds every block of the channel, so its headers tell an admin
      // nothing Fabric does not already give it; an auditor holds no peer and sees only
      // blocks holding a transaction its grants cover (organisation and time).
      if (principal.role !== 'auditor' || auditScope === undefined) return everything;
      const reached = reachedTransactions(
        principal,
        auditScope,
        'ix_transactions.creator_msp',
        'ix_transactions.timestamp',
      );
      return sql<SqlBool>`exists (select 1 from ix_transactions where ix_transactions.block_number = ix_blocks.block_number and ${reached})`;
    }
    case 'transactions':
      return reachedTransactions(principal, auditScope, 'creator_msp', 'timestamp');
    case 'transactionKeys': {
      if (!ledgerExplorerRoles.includes(principal.role)) return nothing;
      const reached = reachedTransactions(principal, auditScope, 'creator_msp', 'timestamp');
      return sql<SqlBool>`exists (select 1 from ix_transactions where ix_transactions.block_number = ix_tx_keys.block_number and ix_transactions.position = ix_tx_keys.position and ${reached})`;
    }
    case 'proposals':
    case 'works':
    case 'provenanceRecords':
    case 'lineage':
      return everything;
    case 'ownershipChanges': {
      const change = sameColumns('ix_ownership_change_parties', 'ix_ownership_changes', ['work_id', 'change_id']);
      const owners = workOwners('ix_ownership_changes');
      const party = anyOf([
        namedIn(principal, 'ix_ownership_change_parties', 'party_msp', 'party_user', change),
        namedIn(principal, 'ix_work_owners', 'owner_msp', 'owner_user', owners),
      ]);
      const concerns = (organisation: string) =>
        anyOf([
          organisationIn('ix_ownership_change_parties', 'party_msp', change, organisation),
          organisationIn('ix_work_owners', 'owner_msp', owners, organisation),
        ]);
      return partyOrOrganisationReader(principal, party, auditScope, {
        kind: 'ip',
        readers: ipReaderRoles,
        organisationReaders: ipOrganisationReaderRoles,
        concerns,
        dated: 'ix_ownership_changes.proposed_at',
      });
    }
    case 'licenceOffers': {
      const owners = sameColumns('ix_licence_offer_owners', 'ix_licence_offers', ['offer_id']);
      const party = anyOf([
        namedAs(principal, 'ix_licence_offers.licensee_msp', 'ix_licence_offers.licensee_user'),
        namedIn(principal, 'ix_licence_offer_owners', 'owner_msp', 'owner_user', owners),
        sql<SqlBool>`(${sql.ref('ix_licence_offers.licensee_msp')} is null and ${sql.ref('ix_licence_offers.status')} = ${'open'})`,
      ]);
      const concerns = (organisation: string) =>
        anyOf([
          sql<SqlBool>`${sql.ref('ix_licence_offers.licensee_msp')} = ${organisation}`,
          organisationIn('ix_licence_offer_owners', 'owner_msp', owners, organisation),
        ]);
      return partyOrOrganisationReader(principal, party, auditScope, {
        kind: 'licensing',
        readers: licensingIndexReaderRoles,
        organisationReaders: licensingOrganisationReaderRoles,
        concerns,
        dated: 'ix_licence_offers.offered_at',
      });
    }
    case 'licences':
    case 'royaltyPeriods': {
      const table = kind === 'licences' ? 'ix_licences' : 'ix_royalty_periods';
      const owners = workOwners(table);
      // `work_id in (…)` rather than a correlated `exists`: each arm of the OR is then an
      // index look-up (licensee, work), not a scan of every licence.
      const party = anyOf([
        namedAs(principal, `${table}.licensee_msp`, `${table}.licensee_user`),
        sql<SqlBool>`${sql.ref(`${table}.work_id`)} in (select work_id from ix_work_owners where ${namedAs(principal, 'owner_msp', 'owner_user')})`,
      ]);
      const concerns = (organisation: string) =>
        anyOf([
          sql<SqlBool>`${sql.ref(`${table}.licensee_msp`)} = ${organisation}`,
          organisationIn('ix_work_owners', 'owner_msp', owners, organisation),
        ]);
      return partyOrOrganisationReader(principal, party, auditScope, {
        kind: 'licensing',
        readers: licensingIndexReaderRoles,
        organisationReaders: licensingOrganisationReaderRoles,
        concerns,
        dated: kind === 'licences' ? `${table}.accepted_at` : `${table}.licence_accepted_at`,
      });
    }
    case 'datasetAccessGrants':
    case 'datasetAccessLog': {
      const controller = namedAs(principal, 'controller_msp', 'controller_user');
      const party =
        kind === 'datasetAccessGrants'
          ? anyOf([controller, namedAs(principal, 'grantee_msp', 'grantee_user')])
          : controller;
      return partyOrReader(principal, provenanceAuditorRoles, party, auditScope, 'provenance', (grants) =>
        coveredByGrant(grants, 'provenance', ['controller_msp'], 'dataset_registered_at'),
      );
    }
    case 'erasureReceipts': {
      const party = anyOf([
        namedAs(principal, 'requester_msp', 'requester_user'),
        namedAs(principal, 'subject_msp', 'subject_user'),
        namedAs(principal, 'controller_msp', 'controller_user'),
        namedAs(principal, 'controller2_msp', 'controller2_user'),
      ]);
      return partyOrReader(principal, provenanceAuditorRoles, party, auditScope, 'provenance', (grants) =>
        coveredByGrant(
          grants,
          'provenance',
          ['requester_msp', 'subject_msp', 'controller_msp', 'controller2_msp'],
          'at',
        ),
      );
    }
  }
}
