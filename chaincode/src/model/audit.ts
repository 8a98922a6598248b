import { z } from 'zod';
import { isoInstantSchema, sha256HexSchema } from './common';
import { mspIdSchema, userIdSchema } from './identity';
import { actorSchema, reasonSchema } from './party';
import { contractSpecs, eventSpec, noRequest } from './spec';
import { pageRequestShape, pageSchema } from './page';

export const auditContractName = 'audit';

/**
 * The kinds of record an auditor's grant can name. One list for the chaincode's read
 * checks, the API's read log and the audit index, so a grant means the same everywhere.
 */
export const auditRecordKinds = [
  'agreement',
  'credential',
  'reputation',
  'ip',
  'licensing',
  'provenance',
  'governance',
  'settlement',
  'transaction',
] as const;
export const auditRecordKindSchema = z.enum(auditRecordKinds);
export type AuditRecordKind = z.infer<typeof auditRecordKindSchema>;

/** Caller-chosen grant id, unique on the channel, e.g. `AG-2026-007`. */
export const auditGrantIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/**
 * Who a grant lets read: one auditor (organisation and certificate `userId`), or, without
 * `userId`, every auditor of that organisation (an audit firm staffing the engagement).
 */
export const auditorRefSchema = z.strictObject({ mspId: mspIdSchema, userId: userIdSchema.optional() });
export type AuditorRef = z.output<typeof auditorRefSchema>;

const kindsSchema = z
  .array(auditRecordKindSchema)
  .min(1, 'must name at least one record kind')
  .max(auditRecordKinds.length)
  .refine((kinds) => new Set(kinds).size === kinds.length, 'must not repeat a kind')
  .meta({ uniqueItems: true });

/**
 * What an organisation's admin grants. The organisation whose records may be read is
 * always the grantor's own: nobody grants access to another organisation's records.
 * `from`/`to` bound the records' own time (an agreement's creation, a credential's
 * issue), `to` exclusive; `expiresAt` bounds when the grant may be used.
 */
export const grantAuditAccessRequestSchema = z
  .strictObject({
    grantId: auditGrantIdSchema,
    auditor: auditorRefSchema,
    kinds: kindsSchema,
    from: isoInstantSchema.optional(),
    to: isoInstantSchema.optional(),
    expiresAt: isoInstantSchema,
    /** Why the access is given (the engagement, the regulator's request), as the audited organisation reads it later. */
    purpose: reasonSchema,
  })
  // Instants are compared as times: ISO 8601 text of other precisions (`…00.5Z`, `…00Z`) does not sort as its time.
  .refine(
    (request) =>
      request.from === undefined || request.to === undefined || Date.parse(request.from) < Date.parse(request.to),
    {
      message: 'must be after from',
      path: ['to'],
    },
  );
export type GrantAuditAccessRequest = z.output<typeof grantAuditAccessRequestSchema>;

export const revokeAuditAccessRequestSchema = z.strictObject({ grantId: auditGrantIdSchema, reason: reasonSchema });
export const auditGrantRefSchema = z.strictObject({ grantId: auditGrantIdSchema });

export const auditGrantRecordSchema = z.object({
  grantId: z.string(),
  /** The organisation whose records the grant opens: the grantor's. */
  organisation: z.string(),
  auditor: auditorRefSchema,
  kinds: z.array(auditRecordKindSchema),
  from: z.string().optional(),
  to: z.string().optional(),
  expiresAt: z.string(),
  purpose: z.string(),
  grantedBy: actorSchema,
  grantedAt: z.string(),
  txId: z.string(),
  status: z.enum(['active', 'revoked']),
  revocation: z.object({ by: actorSchema, reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type AuditGrantRecord = z.output<typeof auditGrantRecordSchema>;

/**
 * An auditor's live grants at one instant, and their union: the organisations and kinds
 * it may read, with the widest record time range. A record is readable when ONE grant
 * covers its organisation, its kind and its time together; the union is for filtering
 * (an index query), the grants for the exact check.
 */
export const auditScopeSchema = z.object({
  auditor: z.object({ mspId: z.string(), userId: z.string().optional() }),
  asOf: z.string(),
  grants: z.array(auditGrantRecordSchema),
  organisations: z.array(z.string()),
  kinds: z.array(auditRecordKindSchema),
  /** Earliest record time any grant opens; absent when some grant has no lower bound. */
  from: z.string().optional(),
  /** Latest record time (exclusive) any grant opens; absent when some grant has no upper bound. */
  to: z.string().optional(),
});
export type AuditScope = z.output<typeof auditScopeSchema>;

/** Which records a read concerns, as a grant check needs them. */
export interface AuditedRecord {
  readonly kind: AuditRecordKind;
  /** Organisations the record concerns (an agreement's client and freelancer organisations); a grant from any one of them covers it. */
  readonly organisations: readonly string[];
  /** The record's own time (creation, issue), compared with the grant's `from`/`to`. */
  readonly at: string;
}

/** Whether a live grant covers the record: its organisation, its kind, and its time within `[from, to)`. */
export function grantCovers(grant: AuditGrantRecord, record: AuditedRecord): boolean {
  if (!grant.kinds.includes(record.kind)) return false;
  if (!record.organisations.includes(grant.organisation)) return false;
  const at = Date.parse(record.at);
  if (grant.from !== undefined && at < Date.parse(grant.from)) return false;
  if (grant.to !== undefined && at >= Date.parse(grant.to)) return false;
  return true;
}

/** Whether a grant is in force at `instant`: not revoked and not expired. */
export function grantLive(grant: AuditGrantRecord, instant: string): boolean {
  return grant.status === 'active' && Date.parse(instant) < Date.parse(grant.expiresAt);
}

/** Whether the grant names this auditor: the person, or every auditor of the organisation. */
export function grantNames(grant: AuditGrantRecord, auditor: { mspId: string; userId?: string | undefined }): boolean {
  if (grant.auditor.mspId !== auditor.mspId) return false;
  return grant.auditor.userId === undefined || grant.auditor.userId === auditor.userId;
}

/**
 * The scope a set of live grants gives: the exact grants and their union. Shared by the
 * chaincode (`getAuditScope`) and the API, so the index filters with the same rule the
 * chaincode enforces.
 */
export function scopeOf(
  auditor: { mspId: string; userId?: string | undefined },
  asOf: string,
  grants: readonly AuditGrantRecord[],
): AuditScope {
  const live = grants.filter((grant) => grantNames(grant, auditor) && grantLive(grant, asOf));
  const organisations = [...new Set(live.map((grant) => grant.organisation))].sort();
  const kinds = auditRecordKinds.filter((kind) => live.some((grant) => grant.kinds.includes(kind)));
  const froms = live.map((grant) => grant.from);
  const tos = live.map((grant) => grant.to);
  const byTime = (a: string, b: string) => Date.parse(a) - Date.parse(b);
  const from = froms.includes(undefined) ? undefined : (froms as string[]).sort(byTime)[0];
  const to = tos.includes(undefined) ? undefined : (tos as string[]).sort(byTime).at(-1);
  return {
    auditor: { mspId: auditor.mspId, ...(auditor.userId === undefined ? {} : { userId: auditor.userId }) },
    asOf,
    grants: live,
    organisations,
    kinds,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

/**
 * The head of an organisation's read log as its API server saw it: the number of rows
 * and the hash of the last one (SHA-256 hex of the previous hash and the row's RFC 8785
 * canonical JSON). Once on the ledger, a row edited or deleted before `sequence` makes
 * the recomputed chain disagree with the anchor.
 */
/**
 * Which of an organisation's read logs an anchor is of: the SHA-256 of the log's first
 * row. An organisation may run several API deployments, each with a log of its own, and
 * each log's head moves forward on its own.
 */
export const readLogIdSchema = sha256HexSchema;

export const anchorReadLogRequestSchema = z.strictObject({
  /** Rows in the log, the last being number `sequence` (1-based); 0 for an empty log. */
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  headHash: sha256HexSchema,
  /** Absent on anchors from before logs were told apart: those share one head per organisation. */
  logId: readLogIdSchema.optional(),
});
export const readLogAnchorSchema = z.object({
  mspId: z.string(),
  logId: z.string().optional(),
  sequence: z.number().int(),
  headHash: z.string(),
  anchoredBy: actorSchema,
  at: z.string(),
  txId: z.string(),
});
export type ReadLogAnchor = z.output<typeof readLogAnchorSchema>;
/** Without `logId`: every anchor of the organisation, of every log. */
export const listReadLogAnchorsRequestSchema = z.strictObject({
  mspId: mspIdSchema,
  logId: readLogIdSchema.optional(),
  ...pageRequestShape,
});

/**
 * Records an auditor or HR system may ask for by id, whose organisations the API's read
 * log asks of `recordOrganisations`: one evaluation of the same shape whether the record
 * exists or not, so the time a refused read takes does not tell (reading each record as
 * the server's identity took one call for a missing id and two or more for a present one).
 * `workByContentHash` names a work by its content hash; `dataset` a provenance record.
 */
export const subjectRecordKinds = [
  'agreement',
  'credential',
  'work',
  'workByContentHash',
  'dataset',
  'licenceGrant',
  'licenceOffer',
  'datasetAccessGrant',
  'erasureReceipt',
  'auditGrant',
] as const;
export const subjectRecordKindSchema = z.enum(subjectRecordKinds);
export type SubjectRecordKind = z.infer<typeof subjectRecordKindSchema>;
export const recordOrganisationsRequestSchema = z.strictObject({
  kind: subjectRecordKindSchema,
  id: z.string().min(1).max(128),
});

const { submit, evaluate } = contractSpecs(auditContractName);

/** Every transaction of the `audit` contract. */
export const auditTransactions = {
  grantAuditAccess: submit('grantAuditAccess', grantAuditAccessRequestSchema, auditGrantRecordSchema),
  revokeAuditAccess: submit('revokeAuditAccess', revokeAuditAccessRequestSchema, auditGrantRecordSchema),
  getAuditGrant: evaluate('getAuditGrant', auditGrantRefSchema, auditGrantRecordSchema),
  listAuditGrants: evaluate('listAuditGrants', z.strictObject(pageRequestShape), pageSchema(auditGrantRecordSchema)),
  getAuditScope: evaluate('getAuditScope', noRequest, auditScopeSchema),
  anchorReadLog: submit('anchorReadLog', anchorReadLogRequestSchema, readLogAnchorSchema),
  listReadLogAnchors: evaluate('listReadLogAnchors', listReadLogAnchorsRequestSchema, pageSchema(readLogAnchorSchema)),
  recordOrganisations: evaluate('recordOrganisations', recordOrganisationsRequestSchema, z.array(z.string())),
} as const;

const auditEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({
    name: `${auditContractName}.${name}`,
    payload: z.object({ at: isoInstantSchema, txId: z.string(), actor: actorSchema, ...shape }),
  });

/** Every event of the `audit` contract; a transaction emits exactly one. */
export const auditEvents = {
  accessGranted: auditEvent('AccessGranted', { grant: auditGrantRecordSchema }),
  accessRevoked: auditEvent('AccessRevoked', { grant: auditGrantRecordSchema }),
  readLogAnchored: auditEvent('ReadLogAnchored', { anchor: readLogAnchorSchema }),
} as const;
