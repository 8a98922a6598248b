import type { Logger } from 'pino';
import type { SubjectRecordKind } from '@gigledger/chaincode/model';
import {
  RefusedError,
  TransactionNotFoundError,
  type BlockTransaction,
  type LedgerClient,
  type ProofExporter,
} from '@gigledger/gateway';
import type { Db } from '../db/database.js';
import { organisationsAndCount } from './read-recorder.js';

/** Kinds of record a read can name by id (path segment or argument), each looked up its own way. */
export type ReadTargetKind = 'transaction' | 'block' | SubjectRecordKind;

/** A record a read asked for by its id, as far as its arguments tell. */
export interface ReadTarget {
  readonly kind: ReadTargetKind;
  readonly id: string;
}

/** What a read was about before anyone answered it: organisations it named and records it asked for. */
export interface ReadSubjects {
  readonly organisations: readonly string[];
  readonly targets: readonly ReadTarget[];
}

const noSubjects: ReadSubjects = { organisations: [], targets: [] };

// Argument names (REST query parameters, GraphQL arguments and input fields) that hold a
// record id, and the record they name.
export const idArguments: Readonly<Record<string, ReadTargetKind>> = {
  agreementId: 'agreement',
  credentialId: 'credential',
  workId: 'work',
  contentHash: 'workByContentHash',
  datasetId: 'dataset',
  recordId: 'dataset',
  // A lineage edge's ends are provenance records.
  parentId: 'dataset',
  childId: 'dataset',
  offerId: 'licenceOffer',
  licenceGrantId: 'licenceGrant',
  datasetGrantId: 'datasetAccessGrant',
  receiptId: 'erasureReceipt',
  auditGrantId: 'auditGrant',
  transactionId: 'transaction',
  blockNumber: 'block',
};

// Argument names that name an organisation outright (a filter's organisation, a party's MSP id).
const organisationArgument = /^(mspId|org|organi[sz]ations?|\w+Msp(Id)?|\w+Org)$/;

// REST paths whose first captured segment is a record id, or a party's MSP id, after `/v1`.
const pathPatterns: readonly [RegExp, ReadTargetKind | 'organisation'][] = [
  [/^\/agreements\/([^/]+)/, 'agreement'],
  [/^\/proofs\/records\/agreement\/([^/]+)/, 'agreement'],
  [/^\/proofs\/records\/credential\/([^/]+)$/, 'credential'],
  [/^\/proofs\/records\/work\/([^/]+)$/, 'work'],
  [/^\/proofs\/records\/licence\/([^/]+)$/, 'licenceGrant'],
  [/^\/proofs\/records\/licence-offer\/([^/]+)$/, 'licenceOffer'],
  [/^\/proofs\/records\/provenance-record\/([^/]+)$/, 'dataset'],
  [/^\/proofs\/records\/dataset-access-grant\/([^/]+)$/, 'datasetAccessGrant'],
  // A milestone's and a payout's ids start with their agreement's (`<agreementId>/…`, its slash sent as %2F).
  [/^\/proofs\/records\/(?:milestone|payout)\/([^/%]+)(?:%2F|\/)/i, 'agreement'],
  [/^\/proofs\/records\/audit-grant\/([^/]+)$/, 'auditGrant'],
  [/^\/proofs\/(?!records\/)([^/]+)$/, 'transaction'],
  [/^\/index\/transactions\/([^/]+)$/, 'transaction'],
  [/^\/index\/blocks\/([^/]+)$/, 'block'],
  // The reads by POST at fixed paths (`verify`, `vc/verify`) name their credential in the body.
  [/^\/credentials\/(?!verify$|vc(?:\/verify)?$)([^/]+)/, 'credential'],
  [/^\/(?:ip|licensing)\/works\/([^/]+)/, 'work'],
  [/^\/ip\/content-hashes\/([^/]+)$/, 'workByContentHash'],
  [/^\/licensing\/grants\/([^/]+)/, 'licenceGrant'],
  [/^\/licensing\/offers\/([^/]+)/, 'licenceOffer'],
  [/^\/provenance\/(?:datasets|records)\/([^/]+)/, 'dataset'],
  [/^\/provenance\/grants\/([^/]+)$/, 'datasetAccessGrant'],
  [/^\/erasure-receipts\/([^/]+)/, 'erasureReceipt'],
  [/^\/audit\/grants\/([^/]+)$/, 'auditGrant'],
  // An instruction's id starts with its record's: a licence grant's for royalties and fees
  // (`<grantId>/<period>/royalty-1`, `…/fee-1`), an agreement's otherwise.
  [/^\/settlement\/instructions\/([^/%]+)(?:%2F|\/)[^/%]+(?:%2F|\/)(?:royalty|fee)-/i, 'licenceGrant'],
  [/^\/settlement\/instructions\/([^/%]+)(?:%2F|\/)(?![^/%]+(?:%2F|\/)(?:royalty|fee)-)/i, 'agreement'],
  // A party's path (`/reputation/{mspId}/{userId}`), not the statements' fixed one.
  [
    /^\/(?:reputation|issuers|ip\/owners|governance\/rules\/(?:issuers|arbitrators))\/(?!statements\/)([^/]+)\//,
    'organisation',
  ],
  [/^\/governance\/rules\/members\/([^/]+)$/, 'organisation'],
];

const maxWalk = 10_000;

// The record a proof's `kind` names (GraphQL `recordProof(kind:, id:)`, enum values with "_" for "-").
const proofKindTargets: Readonly<Record<string, ReadTargetKind>> = {
  agreement: 'agreement',
  credential: 'credential',
  work: 'work',
  licence: 'licenceGrant',
  licence_offer: 'licenceOffer',
  provenance_record: 'dataset',
  dataset_access_grant: 'datasetAccessGrant',
};

// The record an erasure receipts filter's `targetId` names, by its `targetKind`; without
// a kind (or with one the field refuses) the id may name either.
const erasureTargetKinds: Readonly<Record<string, ReadTargetKind>> = {
  agreementTerms: 'agreement',
  datasetSubjectData: 'dataset',
};

/**
 * Collects the organisations and record ids arguments name, breadth first and at most
 * `maxWalk` values, so the arguments named outright are read before anything nested under
 * padding; an id written as a whole number counts as its text (GraphQL's ID takes either).
 */
function collect(value: unknown, into: { organisations: Set<string>; targets: Map<string, ReadTarget> }): void {
  const queue: [unknown, string | undefined][] = [[value, undefined]];
  for (let visited = 0; visited < queue.length && visited <= maxWalk; visited += 1) {
    const next = queue[visited];
    if (next === undefined) break;
    const [node, key] = next;
    if (node === null || node === undefined) continue;
    const text = typeof node === 'number' && Number.isSafeInteger(node) ? String(node) : node;
    if (typeof text === 'string') {
      if (key === undefined) continue;
      const kind = idArguments[key];
      if (kind !== undefined) into.targets.set(`${kind}:${text}`, { kind, id: text });
      else if (typeof node === 'string' && organisationArgument.test(key)) into.organisations.add(node);
      continue;
    }
    // Nothing past the bound is visited, so nothing past it is queued: a large body costs a bounded walk.
    if (Array.isArray(node)) {
      for (const item of node) {
        if (queue.length > maxWalk) break;
        queue.push([item, key]);
      }
      continue;
    }
    if (typeof node === 'object') {
      const { kind, id } = node as { kind?: unknown; id?: unknown };
      const target = typeof kind === 'string' ? proofKindTargets[kind.replaceAll('-', '_')] : undefined;
      if (target !== undefined && typeof id === 'string') into.targets.set(`${target}:${id}`, { kind: target, id });
      const { targetKind, targetId } = node as { targetKind?: unknown; targetId?: unknown };
      const erasedId = typeof targetId === 'number' && Number.isSafeInteger(targetId) ? String(targetId) : targetId;
      if (typeof erasedId === 'string') {
        const named = typeof targetKind === 'string' ? erasureTargetKinds[targetKind] : undefined;
        for (const erased of named === undefined ? Object.values(erasureTargetKinds) : [named]) {
          into.targets.set(`${erased}:${erasedId}`, { kind: erased, id: erasedId });
        }
      }
      for (const name of Object.keys(node)) {
        if (queue.length > maxWalk) break;
        queue.push([(node as Record<string, unknown>)[name], name]);
      }
    }
  }
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is no id the chaincode knows either; keep it as sent.
    return segment;
  }
}

/**
 * The organisations and records a read names in its path and arguments (REST query
 * parameters; GraphQL arguments with their variables), before any answer: what the read
 * log records when the answer itself names nobody, a refusal or an empty list.
 */
export function subjectsOfRead(read: { path?: string; arguments?: unknown }): ReadSubjects {
  const found = { organisations: new Set<string>(), targets: new Map<string, ReadTarget>() };
  if (read.path !== undefined) {
    const path = read.path.replace(/^\/v1(?=\/)/, '');
    for (const [pattern, kind] of pathPatterns) {
      const segment = pattern.exec(path)?.[1];
      if (segment === undefined) continue;
      const id = decoded(segment);
      if (kind === 'organisation') found.organisations.add(id);
      else found.targets.set(`${kind}:${id}`, { kind, id });
    }
  }
  // Each root field's arguments (GraphQL's are given as a list of them) are walked apart:
  // one field's padding hides no id of another's.
  for (const part of Array.isArray(read.arguments) ? read.arguments : [read.arguments]) collect(part, found);
  if (found.organisations.size === 0 && found.targets.size === 0) return noSubjects;
  return { organisations: [...found.organisations], targets: [...found.targets.values()] };
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];

/** Transactions whose organisations are kept: a committed transaction never changes. */
const transactionCacheSize = 1_000;

/**
 * The organisations a committed transaction concerns, as its block shows it: its
 * creator's, and every MSP id in the public values it wrote (the records it created or
 * changed name their parties).
 */
export function organisationsOfTransaction(transaction: BlockTransaction): string[] {
  const written = transaction.writes.flatMap((write) => {
    try {
      return organisationsAndCount(JSON.parse(Buffer.from(write.value).toString('utf8'))).organisations;
    } catch {
      // A value that is not JSON (an index entry's placeholder) names nobody.
      return [];
    }
  });
  return unique([transaction.creatorMspId, ...written]).sort();
}

/**
 * Looks up the organisations each record concerns: records through the chaincode's
 * `recordOrganisations` under the API server's own identity (its organisation's
 * operator, an admin), which answers for any record whoever may read it (MSP ids only);
 * transactions from their block (creator and the records they wrote); blocks from the
 * audit index. These are the organisations whose grants the read checks ask for, so the
 * audited organisation sees every read about its records, refused or not. A record
 * nobody can find names nobody.
 */
export class ReadSubjectResolver {
  readonly #ledger: LedgerClient;
  readonly #proofs: ProofExporter | undefined;
  readonly #db: Db | undefined;
  readonly #transactions = new Map<string, string[]>();

  /**
   * @param options.proofs reads a transaction's block; without it a transaction names nobody.
   * @param options.db the audit index, whose transactions tell whose a block is; without it a block names nobody.
   */
  constructor(ledger: LedgerClient, options: { proofs?: ProofExporter | undefined; db?: Db | undefined } = {}) {
    this.#ledger = ledger;
    this.#proofs = options.proofs;
    this.#db = options.db;
  }

  /**
   * The organisations the read named and those its records concern, sorted. A record the
   * ledger refuses to name (an unknown transaction, an id the chaincode finds malformed)
   * names nobody.
   *
   * @throws Error when the ledger or the index cannot be asked (a peer or the database
   *   down): a row naming fewer organisations than the read concerned would hide it from
   *   them, so the read is not logged, and not answered, rather than logged for nobody.
   */
  async organisationsOf(subjects: ReadSubjects, log: Logger): Promise<string[]> {
    const found = await Promise.all(
      subjects.targets.map((target) =>
        this.#organisationsOfTarget(target).catch((error: unknown) => {
          if (!(error instanceof RefusedError || error instanceof TransactionNotFoundError)) throw error;
          log.debug({ err: error, target }, 'the ledger names nobody for a record a read asked for');
          return [] as string[];
        }),
      ),
    );
    return unique([...subjects.organisations, ...found.flat()]).sort();
  }

  async #organisationsOfTarget(target: ReadTarget): Promise<string[]> {
    switch (target.kind) {
      case 'transaction':
        return this.#organisationsOfTransaction(target.id);
      case 'block': {
        // A block concerns the organisations whose members created its transactions.
        if (this.#db === undefined || !/^\d{1,15}$/.test(target.id)) return [];
        const rows = await this.#db
          .selectFrom('ix_transactions')
          .select('creator_msp')
          .distinct()
          .where('block_number', '=', Number(target.id))
          .execute();
        return rows.map((row) => row.creator_msp).filter((mspId) => mspId !== '');
      }
      default:
        // One evaluation whether the record exists or not, answered [] for an unknown id,
        // so the time a refused read takes to log does not tell which ids exist.
        return this.#ledger.audit.recordOrganisations({ kind: target.kind, id: target.id });
    }
  }

  async #organisationsOfTransaction(transactionId: string): Promise<string[]> {
    // Only a transaction id can name a block; anything else is no transaction.
    if (this.#proofs === undefined || !/^[0-9a-f]{64}$/.test(transactionId)) return [];
    const kept = this.#transactions.get(transactionId);
    if (kept !== undefined) return kept;
    const organisations = organisationsOfTransaction((await this.#proofs.locate(transactionId)).transaction);
    if (this.#transactions.size >= transactionCacheSize) {
      const [oldest] = this.#transactions.keys();
      if (oldest !== undefined) this.#transactions.delete(oldest);
    }
    this.#transactions.set(transactionId, organisations);
    return organisations;
  }
}
