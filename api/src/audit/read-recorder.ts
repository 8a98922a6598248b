import canonicalize from 'canonicalize';
import type { Logger } from 'pino';
import { grantLive, mspIdSchema, type AuditRecordKind, type AuditScope, type Role } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../errors/api-error.js';
import { namedOrganisations, organisationKeys, type NamedOrganisations } from './answer-organisations.js';
import type { AuditScopes } from './audit-scopes.js';
import type { ReadLog, ReadLogRow } from './read-log.js';
import type { ReadSubjectResolver, ReadSubjects } from './read-subjects.js';

/** Roles whose every read is logged: the ones that read other organisations' records for a living. */
export const loggedReaderRoles: readonly Role[] = ['auditor', 'hr'];

/**
 * Record kinds by the first path segment of a REST route or a word in a GraphQL root
 * field, so both front doors log the same kinds.
 */
const kindPatterns: readonly [RegExp, AuditRecordKind][] = [
  // A payout is part of its agreement's record: a grant naming `agreement` opens it.
  [/agreement|milestone|task|payout/i, 'agreement'],
  [/credential|issuer|presentation/i, 'credential'],
  [/reputation|attestation|completion/i, 'reputation'],
  [/licen[cs]|royalt|offer/i, 'licensing'],
  [/provenance|dataset|lineage|erasure|subjectdata/i, 'provenance'],
  [/governance|proposal|member|arbitrator|rule|parameter/i, 'governance'],
  [/settlement/i, 'settlement'],
  [/^ip$|^ip\b|work|ownership/i, 'ip'],
  [/transaction|block|proof|indexed/i, 'transaction'],
];

/** The record kinds the names (path segments, root fields) point at, in the model's order, without repeats. */
export function kindsOf(names: readonly string[]): AuditRecordKind[] {
  const kinds = new Set<AuditRecordKind>();
  for (const name of names) {
    const match = kindPatterns.find(([pattern]) => pattern.test(name));
    if (match !== undefined) kinds.add(match[1]);
  }
  return [...kinds];
}

const maxWalk = 10_000;

/**
 * MSP ids in an answer (every `mspId`, and a transaction's `creatorMspId`, at any depth)
 * and its record count (an array's length, a connection's `edges`, a REST page's
 * `items`, else 1; 0 for nothing). Bounded, so a large
 * answer costs a bounded walk.
 */
export function organisationsAndCount(value: unknown): { organisations: string[]; count: number } {
  const organisations = new Set<string>();
  let visited = 0;
  const walk = (node: unknown): void => {
    if (visited++ > maxWalk || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const named = (node as { [namedOrganisations]?: NamedOrganisations })[namedOrganisations];
    if (named !== undefined) for (const organisation of named.organisations()) organisations.add(organisation);
    // Keys first, values after the skip: a value read through Object.entries would run the
    // getter that parses a node's record, the very parse the named organisations avoid.
    for (const key of Object.keys(node)) {
      if (named?.keys.includes(key) === true) continue;
      const child = (node as Record<string, unknown>)[key];
      if (organisationKeys.has(key) && typeof child === 'string') organisations.add(child);
      else walk(child);
    }
  };
  walk(value);
  const count = (node: unknown): number => {
    if (node === null || node === undefined) return 0;
    if (Array.isArray(node)) return node.length;
    if (typeof node === 'object' && Array.isArray((node as { edges?: unknown }).edges)) {
      return (node as { edges: unknown[] }).edges.length;
    }
    if (typeof node === 'object' && Array.isArray((node as { items?: unknown }).items)) {
      return (node as { items: unknown[] }).items.length;
    }
    return 1;
  };
  return { organisations: [...organisations].sort(), count: count(value) };
}

/**
 * The RFC 8785 text of a read's arguments, whose digest the log keeps (see `ReadLogEntry.argumentsSha256`). RFC 8785 has no
 * form for a lone surrogate (a string that is not Unicode, which JSON's `\ud800` escape
 * can still send) nor for a number that is not finite (`1e400` parses as Infinity), so
 * such strings and keys are hashed with each lone surrogate as U+FFFD, and such numbers as
 * the strings `Infinity`, `-Infinity` and `NaN`: the read is logged, and refused as its
 * route refuses that input.
 */
function canonicalArguments(value: unknown): string {
  try {
    return canonicalize(value) ?? 'null';
  } catch {
    const representable = (node: unknown): unknown => {
      if (typeof node === 'string') return node.toWellFormed();
      if (typeof node === 'number') return Number.isFinite(node) ? node : String(node);
      if (Array.isArray(node)) return node.map(representable);
      if (node === null || typeof node !== 'object') return node;
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key.toWellFormed(), representable(child)]));
    };
    return canonicalize(representable(value)) ?? 'null';
  }
}

/** One read as the front door saw it, before it is logged. */
export interface ObservedRead {
  readonly principal: Principal;
  readonly operation: string;
  readonly arguments: unknown;
  readonly kinds: readonly AuditRecordKind[];
  /** What the caller is about to receive; for GraphQL, the `data` of each root field. */
  readonly answers: readonly unknown[];
  /**
   * Answers that are no records of a kind (GraphQL's `me`, `chaincodeVersion`, the
   * caller's grants): the organisations they name are logged, but `resultCount` counts
   * the records in `answers` only.
   */
  readonly notRecords?: readonly unknown[];
  readonly status: number;
  /**
   * Whether the input was refused before any record was asked for: by default a 400 or
   * 422. A GraphQL operation may answer one field's 422 beside another field's records or
   * refusal by id, so it says this itself (it answered nothing and every error refused input).
   */
  readonly inputRefused?: boolean;
  /** What the read named before it was answered ({@link subjectsOfRead}): its records' organisations are logged whatever the answer. */
  readonly subjects?: ReadSubjects;
}

/**
 * The grants that can have let the read through: live now, naming one of its kinds and
 * organisations, and opening records up to now (a range starting later covers no record
 * yet). The record's own time is the chaincode's to judge, so a grant whose range misses
 * it may still be named.
 */
function grantsCovering(
  scope: AuditScope | undefined,
  kinds: readonly AuditRecordKind[],
  organisations: readonly string[],
  now: string,
) {
  if (scope === undefined) return [];
  return scope.grants
    .filter(
      (grant) =>
        grantLive(grant, now) &&
        (grant.from === undefined || Date.parse(grant.from) <= Date.parse(now)) &&
        kinds.some((kind) => grant.kinds.includes(kind)) &&
        (organisations.length === 0 || organisations.includes(grant.organisation)),
    )
    .map((grant) => grant.grantId);
}

/**
 * Appends reads by auditors and HR systems to the read log, with the grants under
 * which an auditor read. Used by the REST middleware and the GraphQL plugin alike.
 */
export class ReadRecorder {
  readonly #log: ReadLog;
  readonly #scopes: AuditScopes;
  readonly #subjects: ReadSubjectResolver | undefined;

  /** @param subjects tells whom the records a read names concern, whatever it answered. */
  constructor(readLog: ReadLog, scopes: AuditScopes, subjects?: ReadSubjectResolver) {
    this.#log = readLog;
    this.#scopes = scopes;
    this.#subjects = subjects;
  }

  /** Whether a principal's reads are logged. */
  logs(principal: Principal | undefined): principal is Principal {
    return principal !== undefined && loggedReaderRoles.includes(principal.role);
  }

  /**
   * @throws ApiError 503 READ_LOG_UNAVAILABLE when the row cannot be written: a read that
   *   cannot be accounted for is not answered.
   */
  async record(read: ObservedRead, log: Logger): Promise<ReadLogRow> {
    try {
      let organisations = new Set<string>();
      let count = 0;
      for (const answer of read.answers) {
        const found = organisationsAndCount(answer);
        organisations = new Set([...organisations, ...found.organisations]);
        count += found.count;
      }
      for (const answer of read.notRecords ?? []) {
        organisations = new Set([...organisations, ...organisationsAndCount(answer).organisations]);
      }
      // The organisations a read was about see it in their log whatever it answered: the
      // records it asked for are looked up (a refusal or an empty answer names nobody, and
      // an answer names only the parties it shows, an access log its accessors rather than
      // the dataset's controller), and the organisations it named are kept. Malformed
      // input (400, 422, or as `inputRefused` says) asked for no record the ledger could
      // name, and is logged without calling the ledger: only the organisations it named are
      // kept. (A REST read refused past its valid path says it is not, and names that path's record alone.)
      const named = read.subjects ?? { organisations: [], targets: [] };
      // What a caller named as an organisation is kept only if it could be one: a refused
      // read naming `Evil\u202EOrg` concerns no member, and its text is not the log's to keep.
      const about = {
        ...named,
        organisations: named.organisations.filter((org) => mspIdSchema.safeParse(org).success),
      };
      const malformed = read.inputRefused ?? (read.status === 400 || read.status === 422);
      const concerned =
        this.#subjects !== undefined && !malformed
          ? await this.#subjects.organisationsOf(about, log)
          : [...about.organisations].sort();
      const orgs = [...new Set([...organisations, ...concerned])].sort();
      const at = new Date().toISOString();
      // A refused read was under no grant: the ledger is not asked. A GraphQL read with an
      // error status may still have answered records through its other root fields: those
      // count, and were read under the grants that cover them.
      const answered = read.status < 400 || count > 0;
      let scope = answered ? await this.#scopes.scopeFor(read.principal, log) : undefined;
      // A read that found nothing and named nobody was opened by no grant.
      const openedNothing = count === 0 && orgs.length === 0;
      // A read that answered records of a kind the kept scope holds no grant for may have
      // been let through by a grant given since: the ledger is asked again. The question is
      // the scope's and the kinds', never the organisations', so whether it is asked says
      // nothing about the records named. (A read of records open to everyone, works, asks
      // each time its auditor holds no grant of that kind.)
      const answeredRecords = read.kinds.length > 0 && count > 0;
      if (scope !== undefined && answeredRecords && grantsCovering(scope, read.kinds, [], at).length === 0) {
        scope = await this.#scopes.scopeFor(read.principal, log, { maxAgeMs: 0 });
      }
      // Every live grant of any organisation the read concerned covering its kinds, none
      // preferred: preferring those of the records a read named by id made the grants
      // depend on whether such a record exists (an unknown id names nobody, and the grants
      // then came from the answer's organisations), which an organisation shown its own
      // grants on the row would learn.
      const grants = openedNothing ? [] : grantsCovering(scope, read.kinds, orgs, at);
      const argumentsJson = canonicalArguments(read.arguments ?? null);
      return await this.#log.append({
        at,
        principal: {
          kind: read.principal.kind,
          id: read.principal.id,
          userId: read.principal.userId,
          mspId: read.principal.mspId,
          role: read.principal.role,
        },
        operation: read.operation.slice(0, 512),
        // Digested under the row's salt: a plain hash would let an organisation shown the
        // row confirm a guess of what the read named, other organisations' ids included.
        argumentsText: argumentsJson,
        kinds: [...read.kinds],
        organisations: orgs,
        resultCount: count,
        status: read.status,
        grants,
      });
    } catch (error) {
      log.error({ err: error }, 'a read could not be written to the read log');
      throw new ApiError(503, 'READ_LOG_UNAVAILABLE', 'the read could not be logged, so it is not answered; try again');
    }
  }
}
