import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nonBlankText } from './text-controls';
import { canonicalInput, canonicalJson } from './canonical-json';
import { documentSaltSchema, isoInstantSchema, requestIdSchema, sha256HexSchema } from './common';
import { pageRequestShape, pageSchema } from './page';
import { actorSchema, partySchema, reasonSchema } from './party';
import { contractSpecs, eventSpec } from './spec';

/**
 * Who put a consortium rule (a parameter, an issuer's grant, an arbitrator, a member's
 * rights) in its current state. Genesis values are written by an administrator while
 * the network is bootstrapped, before governance is sealed, and say so; every later
 * value names the executed proposal. The proposal's votes are read from the
 * governance contract (`getProposal`).
 */
export const ruleProvenanceSchema = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('genesis'),
    /** The bootstrap administrator. */
    by: actorSchema,
    at: z.string(),
    txId: z.string(),
  }),
  z.object({
    source: z.literal('proposal'),
    proposalId: z.string(),
    /** Whoever executed the passed proposal (anyone may). */
    executedBy: actorSchema,
    /** Execution transaction's timestamp and id. */
    at: z.string(),
    txId: z.string(),
  }),
]);
export type RuleProvenance = z.output<typeof ruleProvenanceSchema>;

/*
 * The `provenance` contract: dataset and model records, their lineage, access grants
 * to datasets with a log of every use, and GDPR erasure receipts. Rule provenance above
 * is governance's; everything below is the data provenance domain.
 */

export const provenanceContractName = 'provenance';
/** Private data collection of the client's and the talent organisation holding datasets' subject data. */
export const datasetSubjectDataCollection = 'datasetSubjectData';
/** Transient-map key under which `registerDataset` receives the dataset's subject data. */
export const datasetSubjectDataTransientKey = 'subjectData';

/** Deepest lineage query: deeper graphs are read in steps from a farther record. */
export const maxLineageDepth = 10;
/** Most nodes one lineage answer holds; the answer says when it stopped there. */
export const maxLineageNodes = 200;
/** Most parents (or training datasets, or code hashes) one record names. */
export const maxRecordParents = 20;

/** Caller-chosen id of a dataset or model record, grant or erasure receipt, e.g. `DS-2026-0042`. */
export const provenanceIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/** GDPR Art. 6(1)(a)–(f): the lawful bases for processing personal data. */
export const legalBases = [
  'consent',
  'contract',
  'legalObligation',
  'vitalInterests',
  'publicTask',
  'legitimateInterests',
] as const;
export const legalBasisSchema = z.enum(legalBases);
export type LegalBasis = z.infer<typeof legalBasisSchema>;

/**
 * How personal the data in a dataset is: none, pseudonymised (GDPR Art. 4(5)), personal
 * (Art. 4(1)) or special categories (Art. 9(1): health, biometric, ethnic origin…).
 */
export const piiClasses = ['none', 'pseudonymised', 'personal', 'specialCategory'] as const;
export const piiClassSchema = z.enum(piiClasses);
export type PiiClass = z.infer<typeof piiClassSchema>;

/** ISO 8601 duration in years, months, weeks and days, e.g. `P5Y`, `P18M`, `P90D`. */
export const retentionPeriodSchema = z
  .string()
  .regex(/^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/, 'must be an ISO 8601 duration of years, months, weeks or days');

/** How long the data may be kept: until an instant, or for a period from registration. */
export const retentionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('until'), until: isoInstantSchema }),
  z.strictObject({ kind: z.literal('period'), period: retentionPeriodSchema }),
]);
export type Retention = z.output<typeof retentionSchema>;

/**
 * A licence: an SPDX licence expression (https://spdx.org/licenses/, e.g. `CC-BY-4.0`,
 * `MIT OR Apache-2.0`) or free text for a bespoke licence.
 */
export const licenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('spdx'),
    expression: z
      .string()
      .max(200, 'must be at most 200 characters')
      .regex(
        /^\(?[A-Za-z0-9.+-]+\)?( (AND|OR|WITH) \(?[A-Za-z0-9.+-]+\)?)*$/,
        'must be an SPDX licence expression, e.g. CC-BY-4.0 or MIT OR Apache-2.0',
      ),
  }),
  z.strictObject({ kind: z.literal('text'), text: nonBlankText(5000) }),
]);
export type Licence = z.output<typeof licenceSchema>;

// credential.ts has the same rule, but its records import rule provenance from this file.
/** URI schemes a dataset's `source` may use: ones that fetch data or identify it. */
export const datasetSourceSchemes: readonly string[] = [
  'https',
  'http',
  's3',
  'gs',
  'az',
  'ipfs',
  'ar',
  'hf',
  'doi',
  'urn',
];
const datasetSourceSchemesText = datasetSourceSchemes.join(', ');
/** Schemes whose link runs or shows what it holds, refused in a source even inside a description. */
const activeSchemes: readonly string[] = ['javascript', 'vbscript', 'data', 'file', 'blob', 'livescript'];

function uniqueList<Item extends z.ZodType<string>>(item: Item, what: string, min: number) {
  return z
    .array(item)
    .min(min, `must name at least ${min} ${what}`)
    .max(maxRecordParents, `must name at most ${maxRecordParents} ${what}`)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((value, index) => {
        if (seen.has(value)) ctx.addIssue({ code: 'custom', message: `repeats ${value}`, path: [index] });
        seen.add(value);
      });
    })
    .meta({ uniqueItems: true });
}

/** How a derived record was made from its parents: what was done, and the SHA-256 of the code that did it. */
export const transformationSchema = z.strictObject({
  description: nonBlankText(2000),
  codeSha256: sha256HexSchema,
});
export type Transformation = z.output<typeof transformationSchema>;

/** A record made from others: its parents (registered before it) and the transformation. */
export const derivationSchema = z.strictObject({
  parents: uniqueList(provenanceIdSchema, 'parents', 1),
  transformation: transformationSchema,
});
export type Derivation = z.output<typeof derivationSchema>;

/**
 * A dataset's subject data: personal data about the people in the dataset that the
 * controller must keep (contact for consent withdrawal, consent records…), by label.
 * Kept in the `datasetSubjectData` private data collection, never on the channel ledger.
 */
export const datasetSubjectDataSchema = canonicalInput(
  z
    .record(z.string().min(1).max(64), z.string().max(2000, 'must be at most 2000 characters'))
    .refine((data) => Object.keys(data).length >= 1, 'must have at least one entry')
    .refine((data) => Object.keys(data).length <= 50, 'must have at most 50 entries'),
);
export type DatasetSubjectData = z.output<typeof datasetSubjectDataSchema>;

/**
 * Subject data as a new registration must carry it: with an entry `salt` of random hex
 * ({@link documentSaltSchema}), so that the hash the record keeps, which outlives the
 * data's erasure, cannot confirm a guess of the erased values (an email, a name).
 */
export const registeredSubjectDataSchema = canonicalInput(
  z
    .record(z.string().min(1).max(64), z.string().max(2000, 'must be at most 2000 characters'))
    .refine((data) => Object.keys(data).length >= 1, 'must have at least one entry')
    .refine((data) => Object.keys(data).length <= 50, 'must have at most 50 entries')
    .refine((data) => documentSaltSchema.safeParse(data.salt).success, {
      message:
        'must be given: 32 to 128 lowercase hexadecimal digits of random bytes, so that the kept hash cannot confirm a guess of the data',
      path: ['salt'],
    }),
);

/** Bytes the chaincode stores for subject data: their canonical JSON. */
export function datasetSubjectDataBytes(data: DatasetSubjectData): Uint8Array {
  return new TextEncoder().encode(canonicalJson(data));
}

/** SHA-256 of the subject data's canonical JSON; equals the private data hash every peer keeps. */
export function datasetSubjectDataSha256(data: DatasetSubjectData): string {
  return createHash('sha256').update(datasetSubjectDataBytes(data)).digest('hex');
}

const recordFields = {
  requestId: requestIdSchema,
  recordId: provenanceIdSchema,
  contentSha256: sha256HexSchema,
  title: nonBlankText(200),
  licence: licenceSchema,
  derivedFrom: derivationSchema.optional(),
};

/**
 * Registers a dataset; the caller becomes its controller. Subject data, when the
 * dataset has any, comes in the transient map under `subjectData`.
 */
export const registerDatasetRequestSchema = z.strictObject({
  ...recordFields,
  /**
   * Where the data came from: a URI or a description of the collection. Clients turn
   * such text into a link, and a browser reads it as the WHATWG URL parser does: leading
   * spaces dropped (other controls never pass the edge), tabs and line breaks removed anywhere. Read so, text that
   * starts with a script or content scheme (`javascript:`, `data:`, …) is refused, and
   * text that is one URI (a scheme, a colon, no space) must name its data by a scheme
   * that fetches or identifies it (see {@link datasetSourceSchemes}; OWASP: allow URL
   * schemes by list).
   */
  source: nonBlankText(2000).refine((text) => {
    const asLink = text.replace(/[\t\n\r]/g, '').trimStart();
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(asLink)?.[1]?.toLowerCase();
    if (scheme === undefined || datasetSourceSchemes.includes(scheme)) return true;
    // Any other scheme only as the first word of a description ("Collected: …"), never one that runs.
    return !activeSchemes.includes(scheme) && /\s/.test(asLink.trim());
  }, `a URI must use one of the schemes ${datasetSourceSchemesText} (a description may be any text)`),
  legalBasis: legalBasisSchema,
  piiClass: piiClassSchema,
  retention: retentionSchema,
});
export type RegisterDatasetRequest = z.input<typeof registerDatasetRequestSchema>;

/** Registers a model trained from registered datasets with code of the given hashes. */
export const registerModelRequestSchema = z.strictObject({
  ...recordFields,
  trainedOn: uniqueList(provenanceIdSchema, 'datasets', 1),
  trainingCodeSha256: uniqueList(sha256HexSchema, 'code hashes', 1),
});
export type RegisterModelRequest = z.input<typeof registerModelRequestSchema>;

/** Where a dataset's subject data stands: held in the collection, or erased with a receipt. */
export const subjectDataStateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('held'), sha256: z.string() }),
  z.object({ status: z.literal('erased'), sha256: z.string(), receiptId: z.string(), erasedAt: z.string() }),
]);
export type SubjectDataState = z.output<typeof subjectDataStateSchema>;

const recordBase = {
  recordId: z.string(),
  contentSha256: z.string(),
  title: z.string(),
  licence: licenceSchema,
  controller: partySchema,
  derivedFrom: derivationSchema.optional(),
  registeredAt: z.string(),
  txId: z.string(),
  /**
   * The transaction that last rewrote the record (the erasure of a dataset's subject
   * data) and its time; absent while the registration is its only write.
   */
  updatedAt: z.string().optional(),
  updatedTxId: z.string().optional(),
};

export const datasetRecordSchema = z.object({
  kind: z.literal('dataset'),
  ...recordBase,
  source: z.string(),
  legalBasis: legalBasisSchema,
  piiClass: piiClassSchema,
  retention: retentionSchema,
  /** Absent when the dataset was registered without subject data. */
  subjectData: subjectDataStateSchema.optional(),
});
export type DatasetRecord = z.output<typeof datasetRecordSchema>;

export const modelRecordSchema = z.object({
  kind: z.literal('model'),
  ...recordBase,
  trainedOn: z.array(z.string()),
  trainingCodeSha256: z.array(z.string()),
});
export type ModelRecord = z.output<typeof modelRecordSchema>;

export const provenanceRecordSchema = z.discriminatedUnion('kind', [datasetRecordSchema, modelRecordSchema]);
export type ProvenanceRecord = z.output<typeof provenanceRecordSchema>;

export const provenanceRecordRefSchema = z.strictObject({ recordId: provenanceIdSchema });

export const lineageDirections = ['ancestors', 'descendants'] as const;

export const lineageRequestSchema = z.strictObject({
  recordId: provenanceIdSchema,
  direction: z.enum(lineageDirections),
  /** Edges to follow from the record; 3 when not given. */
  depth: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(maxLineageDepth, `must be at most ${maxLineageDepth}`)
    .optional(),
});
export type LineageRequest = z.input<typeof lineageRequestSchema>;

export const lineageNodeSchema = z.object({
  recordId: z.string(),
  kind: z.enum(['dataset', 'model']),
  title: z.string(),
  contentSha256: z.string(),
  /** Who controls the record, as its own record says (open to every member, as the record is). */
  controller: partySchema,
  /** Edges between this node and the queried record. */
  distance: z.number().int(),
});

/** One edge, always pointing from parent to child, whichever direction was queried. */
export const lineageEdgeSchema = z.object({
  from: z.string(),
  to: z.string(),
  relation: z.enum(['derivedFrom', 'trainedOn']),
  transformation: transformationSchema.optional(),
});

export const lineageGraphSchema = z.object({
  root: z.string(),
  direction: z.enum(lineageDirections),
  depth: z.number().int(),
  nodes: z.array(lineageNodeSchema),
  edges: z.array(lineageEdgeSchema),
  /** True when edges (and the records they lead to) lie beyond the depth or the node limit and were left out. */
  truncated: z.boolean(),
});
export type LineageGraph = z.output<typeof lineageGraphSchema>;

/** What a grantee may do with a dataset. */
export const accessScopes = ['read', 'train', 'evaluate', 'derive'] as const;
export const accessScopeSchema = z.enum(accessScopes);
export type AccessScope = z.infer<typeof accessScopeSchema>;

export const grantAccessRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  grantId: provenanceIdSchema,
  datasetId: provenanceIdSchema,
  grantee: partySchema,
  purpose: nonBlankText(500),
  scope: z
    .array(accessScopeSchema)
    .min(1, 'must name at least one scope')
    .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope')
    .meta({ uniqueItems: true }),
  expiresAt: isoInstantSchema,
});

export const revokeAccessRequestSchema = z.strictObject({ grantId: provenanceIdSchema, reason: reasonSchema });

export const recordAccessRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  grantId: provenanceIdSchema,
  /** What the access was for; must be one of the grant's scopes. */
  scope: accessScopeSchema,
  note: z.string().max(500, 'must be at most 500 characters').optional(),
});

export const accessGrantRecordSchema = z.object({
  grantId: z.string(),
  datasetId: z.string(),
  controller: partySchema,
  grantee: partySchema,
  purpose: z.string(),
  scope: z.array(accessScopeSchema),
  expiresAt: z.string(),
  status: z.enum(['active', 'revoked']),
  grantedAt: z.string(),
  txId: z.string(),
  revocation: z.object({ at: z.string(), txId: z.string(), by: actorSchema, reason: z.string() }).optional(),
});
export type AccessGrantRecord = z.output<typeof accessGrantRecordSchema>;

/** One use of a grant; its id is the transaction's id. */
export const accessLogEntrySchema = z.object({
  accessId: z.string(),
  grantId: z.string(),
  datasetId: z.string(),
  accessor: partySchema,
  scope: accessScopeSchema,
  note: z.string().optional(),
  at: z.string(),
});
export type AccessLogEntry = z.output<typeof accessLogEntrySchema>;

export const accessLogRequestSchema = z.strictObject({
  datasetId: provenanceIdSchema,
  grantId: provenanceIdSchema.optional(),
  ...pageRequestShape,
});
export const accessGrantsRequestSchema = z.strictObject({ datasetId: provenanceIdSchema, ...pageRequestShape });

export const accessGrantRefSchema = z.strictObject({ grantId: provenanceIdSchema });
export const datasetRefSchema = z.strictObject({ datasetId: provenanceIdSchema });

/** GDPR Art. 17(1)(a)–(f): the grounds on which a data subject obtains erasure. */
export const erasureGrounds = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export const erasureGroundSchema = z.enum(erasureGrounds);

/** What personal data to erase: an agreement's terms, or a dataset's subject data. */
export const erasureTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('agreementTerms'), agreementId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('datasetSubjectData'), datasetId: provenanceIdSchema }),
]);
export type ErasureTarget = z.output<typeof erasureTargetSchema>;

export const requestErasureRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  receiptId: provenanceIdSchema,
  target: erasureTargetSchema,
  /** The person whose data is erased; may read and verify the receipt. */
  dataSubject: partySchema,
  /** The ground of GDPR Art. 17(1) the request rests on. */
  ground: erasureGroundSchema,
  reason: reasonSchema.optional(),
});
export type RequestErasureRequest = z.input<typeof requestErasureRequestSchema>;

export const erasureReceiptSchema = z.object({
  receiptId: z.string(),
  target: erasureTargetSchema,
  requestedBy: actorSchema,
  dataSubject: partySchema,
  /** e.g. `GDPR Art. 17(1)(a)`. */
  legalBasis: z.string(),
  reason: z.string().optional(),
  /** What was purged: the collection, the key's object type and attributes, and the SHA-256 kept on the ledger. */
  purged: z.object({
    collection: z.string(),
    objectType: z.string(),
    keyAttributes: z.array(z.string()),
    sha256: z.string(),
  }),
  at: z.string(),
  txId: z.string(),
});
export type ErasureReceipt = z.output<typeof erasureReceiptSchema>;

export const receiptRefSchema = z.strictObject({ receiptId: provenanceIdSchema });

/** A receipt checked against the ledger now. */
export const erasureVerificationSchema = z.object({
  receipt: erasureReceiptSchema,
  /** The hash the target's record on the channel ledger holds today. */
  ledgerSha256: z.string(),
  /** The receipt names the hash the ledger holds. */
  hashMatches: z.boolean(),
  /** The target's record says erased, with this receipt. */
  recordedAsErased: z.boolean(),
  /** The collection's hash of the key, which every peer keeps while the data exists, is gone. */
  privateDataAbsent: z.boolean(),
  /**
   * The data itself on the answering peer: `absent`, `present`, or `notReadable` when
   * the peer's organisation is not a member of the collection (it never held the data)
   * or the caller's organisation may not read it there.
   */
  privateDataOnPeer: z.enum(['absent', 'present', 'notReadable']),
  verified: z.boolean(),
});
export type ErasureVerification = z.output<typeof erasureVerificationSchema>;

export const subjectDataResultSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('held'),
    datasetId: z.string(),
    sha256: z.string(),
    subjectData: datasetSubjectDataSchema,
  }),
  z.object({
    status: z.literal('erased'),
    datasetId: z.string(),
    sha256: z.string(),
    receiptId: z.string(),
    erasedAt: z.string(),
  }),
]);

export type SubjectDataResult = z.output<typeof subjectDataResultSchema>;

const provenanceSpecs = contractSpecs(provenanceContractName);

/**
 * Every transaction of the `provenance` contract. `registerDataset` also takes the
 * dataset's subject data in the transient map under {@link datasetSubjectDataTransientKey}.
 */
export const provenanceTransactions = {
  registerDataset: {
    ...provenanceSpecs.submit('registerDataset', registerDatasetRequestSchema, datasetRecordSchema),
    privateCollection: datasetSubjectDataCollection,
  },
  registerModel: provenanceSpecs.submit('registerModel', registerModelRequestSchema, modelRecordSchema),
  grantAccess: provenanceSpecs.submit('grantAccess', grantAccessRequestSchema, accessGrantRecordSchema),
  revokeAccess: provenanceSpecs.submit('revokeAccess', revokeAccessRequestSchema, accessGrantRecordSchema),
  recordAccess: provenanceSpecs.submit('recordAccess', recordAccessRequestSchema, accessLogEntrySchema),
  requestErasure: provenanceSpecs.submit('requestErasure', requestErasureRequestSchema, erasureReceiptSchema),
  getRecord: provenanceSpecs.evaluate('getRecord', provenanceRecordRefSchema, provenanceRecordSchema),
  getLineage: provenanceSpecs.evaluate('getLineage', lineageRequestSchema, lineageGraphSchema),
  getAccessGrant: provenanceSpecs.evaluate('getAccessGrant', accessGrantRefSchema, accessGrantRecordSchema),
  listAccessGrants: provenanceSpecs.evaluate(
    'listAccessGrants',
    accessGrantsRequestSchema,
    pageSchema(accessGrantRecordSchema),
  ),
  listAccessLog: provenanceSpecs.evaluate('listAccessLog', accessLogRequestSchema, pageSchema(accessLogEntrySchema)),
  getSubjectData: provenanceSpecs.evaluate('getSubjectData', datasetRefSchema, subjectDataResultSchema),
  getErasureReceipt: provenanceSpecs.evaluate('getErasureReceipt', receiptRefSchema, erasureReceiptSchema),
  verifyErasure: provenanceSpecs.evaluate('verifyErasure', receiptRefSchema, erasureVerificationSchema),
} as const;

const provenanceEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({
    name: `${provenanceContractName}.${name}`,
    payload: z.object({ at: isoInstantSchema, txId: z.string(), actor: actorSchema, ...shape }),
  });

/** Every event of the `provenance` contract; a transaction emits exactly one. Subject data never appears. */
export const provenanceEvents = {
  datasetRegistered: provenanceEvent('DatasetRegistered', { record: datasetRecordSchema }),
  modelRegistered: provenanceEvent('ModelRegistered', { record: modelRecordSchema }),
  accessGranted: provenanceEvent('AccessGranted', { grant: accessGrantRecordSchema }),
  accessRevoked: provenanceEvent('AccessRevoked', { grant: accessGrantRecordSchema }),
  accessRecorded: provenanceEvent('AccessRecorded', { access: accessLogEntrySchema }),
  personalDataErased: provenanceEvent('PersonalDataErased', { receipt: erasureReceiptSchema }),
} as const;
