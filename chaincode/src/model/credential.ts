import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nonBlankText } from './text-controls';
import { canonicalInput, isWellFormedText } from './canonical-json';
import { isoInstantSchema, requestIdSchema } from './common';
import { partySchema, reasonSchema } from './party';
import { contractSpecs } from './spec';
import { pageRequestShape, pageSchema } from './page';
import {
  credentialContractName,
  credentialIdSchema,
  credentialRecordSchema,
  credentialStatusSchema,
  credentialTypeSchema,
  issuerRecordSchema,
  issuerStatusSchema,
  issuerVersionRecordSchema,
  committedClaimSchema,
  maxClaimsPerCredential,
  saltedClaimSchema,
  type CommittedClaim,
  type SaltedClaim,
} from './credential-records';

/*
 * Claim commitments
 * =================
 *
 * The channel ledger holds, for each claim of a credential, only
 *
 *     commitment = lowercase hex( SHA-256( preimage ) )
 *
 * where the preimage is four length-prefixed fields, concatenated:
 *
 *     field(b) = uint32 big-endian byte length of b  ||  b
 *     preimage = field(UTF-8 "gigledger/credential-claim/v1")   -- domain tag, 29 bytes
 *             || field(salt bytes)                              -- the 32 bytes the 64 hex characters encode
 *             || field(UTF-8 claim name)
 *             || field(UTF-8 claim value)
 *
 * Every field carries its own length, so no choice of name and value can produce the
 * preimage of another (salt, name, value); the name is inside the hash, so a salt and
 * value moved to another claim name no longer match; the domain tag keeps these hashes
 * apart from any other SHA-256 use. Strings are hashed exactly as given: UTF-8, no
 * trimming, no Unicode normalisation. The salt is 32 random bytes the caller (the API)
 * draws for each claim — chaincode must be deterministic and draws nothing.
 *
 * Test vector (checked by the unit tests against an independent computation): salt
 * 000102…1f (the bytes 0 to 31), name `degree`, value `MSc Machine Learning` gives
 * ae952ced708e3a5c67aafc3193b779e516cfbf5f31db28f133ca9caf3c2f883c.
 */

/** Domain tag, the first field of every claim commitment preimage. */
export const claimCommitmentDomain = 'gigledger/credential-claim/v1';

const encoder = new TextEncoder();

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const field = new Uint8Array(4 + bytes.length);
  new DataView(field.buffer).setUint32(0, bytes.length, false);
  field.set(bytes, 4);
  return field;
}

/**
 * The exact bytes a claim commitment hashes; see the encoding described above.
 *
 * @throws Error when the salt is not 64 lowercase hex characters, or the name or value
 *   is not well-formed Unicode (UTF-8 would turn a lone surrogate into U+FFFD, so two
 *   different values would share a commitment).
 */
export function claimCommitmentPreimage(claim: SaltedClaim): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(claim.salt)) throw new Error('a claim salt must be 64 lowercase hex characters');
  if (!isWellFormedText(claim.name) || !isWellFormedText(claim.value)) {
    throw new Error('a claim name and value must be well-formed Unicode');
  }
  const fields = [
    encoder.encode(claimCommitmentDomain),
    Uint8Array.from(Buffer.from(claim.salt, 'hex')),
    encoder.encode(claim.name),
    encoder.encode(claim.value),
  ].map(lengthPrefixed);
  const preimage = new Uint8Array(fields.reduce((total, field) => total + field.length, 0));
  let offset = 0;
  for (const field of fields) {
    preimage.set(field, offset);
    offset += field.length;
  }
  return preimage;
}

/**
 * The salted SHA-256 commitment to one claim, as stored on the ledger and recomputed by
 * verifiers (the chaincode, the API, an offline CLI). Pure: no Fabric, no randomness.
 *
 * @throws Error when the salt is not 64 lowercase hex characters.
 */
export function claimCommitment(claim: SaltedClaim): string {
  return createHash('sha256').update(claimCommitmentPreimage(claim)).digest('hex');
}

/** Commitments of each claim, in the given order. */
export function commitClaims(claims: readonly SaltedClaim[]): CommittedClaim[] {
  return claims.map((claim) => ({ name: claim.name, commitment: claimCommitment(claim) }));
}

/** Adds an issue for every repeated value of `key` in a list. */
function uniqueBy<T>(items: readonly T[], key: (item: T) => string, what: string, ctx: z.RefinementCtx, path: string) {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const value = key(item);
    if (seen.has(value)) ctx.addIssue({ code: 'custom', message: `repeats ${what} ${value}`, path: [index, path] });
    seen.add(value);
  });
}

/**
 * The claims of a new credential, sent in the transient map under `claims` so that
 * neither values nor salts reach the ordered transaction. Names and salts must not
 * repeat: a repeated salt means the caller's random source is broken.
 */
export const credentialClaimsSchema = canonicalInput(
  z
    .array(saltedClaimSchema)
    .min(1, 'must have at least one claim')
    .max(maxClaimsPerCredential, `must have at most ${maxClaimsPerCredential} claims`)
    .superRefine((claims, ctx) => {
      uniqueBy(claims, (claim) => claim.name, 'claim name', ctx, 'name');
      uniqueBy(claims, (claim) => claim.salt, 'the salt', ctx, 'salt');
    }),
);

/** Types an issuer may issue: at least one, each once. */
export const grantedTypesSchema = z
  .array(credentialTypeSchema)
  .min(1, 'must grant at least one credential type')
  .superRefine((types, ctx) => {
    types.forEach((type, index) => {
      if (types.indexOf(type) !== index) ctx.addIssue({ code: 'custom', message: `repeats ${type}`, path: [index] });
    });
  })
  .meta({ uniqueItems: true });

export const registerIssuerRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  issuer: partySchema,
  /** Name people see, e.g. "TU Delft, Faculty of EEMCS". */
  displayName: nonBlankText(200),
  credentialTypes: grantedTypesSchema,
});
export type RegisterIssuerRequest = z.output<typeof registerIssuerRequestSchema>;

export const removeIssuerRequestSchema = z.strictObject({ issuer: partySchema, reason: reasonSchema });

export const issueCredentialRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    credentialId: credentialIdSchema,
    /** The holder: a freelancer's MSP id and `userId`. */
    subject: partySchema,
    type: credentialTypeSchema,
    /** When the credential takes effect; the transaction time when left out. Not after the transaction time. */
    issuanceDate: isoInstantSchema.optional(),
    /** Left out for credentials that never expire. Must be after the issuance date and the transaction time. */
    expirationDate: isoInstantSchema.optional(),
  })
  .refine(
    (request) =>
      request.issuanceDate === undefined ||
      request.expirationDate === undefined ||
      Date.parse(request.expirationDate) > Date.parse(request.issuanceDate),
    { message: 'must be after issuanceDate', path: ['expirationDate'] },
  );
export type IssueCredentialRequest = z.output<typeof issueCredentialRequestSchema>;

export const credentialReasonRequestSchema = z.strictObject({ credentialId: credentialIdSchema, reason: reasonSchema });
export const credentialRequestSchema = z.strictObject({ credentialId: credentialIdSchema });

/*
 * Verification
 * ============
 *
 * A presentation names a credential and discloses some of its claims with their salts.
 * Each disclosed claim is checked against its own commitment only. The verdict is
 * `valid` when no reason is found; reasons accumulate, so an expired and revoked
 * credential reports both. Reason codes are stable: clients switch on them.
 *
 * Hidden claims stay hidden: never their values or commitments.
 *
 * What a verifier learns
 * ----------------------
 * Verification needs no account, so the verdict is written for a stranger who knows a
 * credential id. It always gives: whether the presentation is valid; the stable reason
 * codes, with sentences that name only the claims and the subject the verifier itself
 * presented; for each disclosed claim whether it opens its commitment; and the
 * credential's type, issuer (issuer records are public), dates, status and the
 * transactions that issued and authorised it. It gives the holder's identity
 * (`credential.subject`) and the names of the undisclosed claims only when the
 * presentation is bound to the holder: at least one disclosed claim opened its
 * commitment (only the holder has the salts), or `expectedSubject` was given and is the
 * subject. A wrong `expectedSubject` is answered SUBJECT_MISMATCH without saying who
 * the subject is. An issuer's free-text reason for a suspension or revocation is never
 * given: the code and the status say what a verifier needs.
 */
export const verificationReasonCodes = [
  /** No credential has the id. Nothing else is checked. */
  'NOT_FOUND',
  /** A disclosed value or salt does not open the commitment stored for that claim name (altered value, swapped salt). */
  'CLAIM_MISMATCH',
  /** A disclosed claim name is not in the credential. */
  'UNKNOWN_CLAIM',
  /** The credential's subject is not the one the verifier expected. */
  'SUBJECT_MISMATCH',
  /** The expiration date has passed, judged by the transaction timestamp. */
  'EXPIRED',
  /** The issuer revoked the credential. */
  'REVOKED',
  /** The issuer suspended the credential; it may be reinstated. */
  'SUSPENDED',
  /** The issuer record version the credential names did not authorise its type when it was issued. */
  'ISSUER_NOT_AUTHORISED',
  /**
   * The claim commitments presented (an imported document's) are not the record's: a
   * claim added, dropped, renamed, reordered or its commitment changed.
   */
  'COMMITMENTS_MISMATCH',
] as const;
export const verificationReasonCodeSchema = z.enum(verificationReasonCodes);
export type VerificationReasonCode = z.infer<typeof verificationReasonCodeSchema>;

export const verifyPresentationRequestSchema = z.strictObject({
  credentialId: credentialIdSchema,
  /** The claims the holder discloses; may be empty to check only status, expiry and issuer. */
  revealedClaims: z
    .array(saltedClaimSchema)
    .max(maxClaimsPerCredential, `must have at most ${maxClaimsPerCredential} claims`)
    .superRefine((claims, ctx) => {
      uniqueBy(claims, (claim) => claim.name, 'claim name', ctx, 'name');
    }),
  /** The holder the verifier expects, e.g. the person applying for a job. */
  expectedSubject: partySchema.optional(),
  /**
   * The claim commitments a document presents (an imported W3C credential's
   * `credentialSubject.claimCommitments`): the verdict says whether they are the record's,
   * every claim in the issuer's order, and never shows the record's own.
   */
  claimCommitments: z
    .array(committedClaimSchema)
    .max(maxClaimsPerCredential, `must have at most ${maxClaimsPerCredential} claims`)
    .optional(),
});
export type VerifyPresentationRequest = z.output<typeof verifyPresentationRequestSchema>;

export const verificationReasonSchema = z.object({
  code: verificationReasonCodeSchema,
  message: z.string(),
  /** The claim concerned, for CLAIM_MISMATCH and UNKNOWN_CLAIM. */
  claim: z.string().optional(),
});
export type VerificationReason = z.output<typeof verificationReasonSchema>;

export const disclosedClaimResultSchema = z.object({
  name: z.string(),
  value: z.string(),
  /** The value and salt open the commitment stored for this name. */
  verified: z.boolean(),
});

/** What a verifier learns about the credential besides the disclosed claims: no claim values, no commitments. */
export const credentialSummarySchema = z.object({
  credentialId: z.string(),
  type: credentialTypeSchema,
  issuer: partySchema,
  issuerDisplayName: z.string().optional(),
  issuerVersion: z.number().int(),
  issuerVersionTxId: z.string(),
  /** The holder; only when the presentation is bound to them (a verified disclosed claim, or the expected subject). */
  subject: partySchema.optional(),
  issuanceDate: z.string(),
  expirationDate: z.string().optional(),
  status: credentialStatusSchema,
  issuedAt: z.string(),
  issuedTxId: z.string(),
});
export type CredentialSummary = z.output<typeof credentialSummarySchema>;

export const presentationVerdictSchema = z.object({
  credentialId: z.string(),
  valid: z.boolean(),
  /** Transaction timestamp the verdict was reached at (expiry is judged against it). */
  checkedAt: z.string(),
  /** Empty exactly when `valid`. */
  reasons: z.array(verificationReasonSchema),
  /** Absent when the credential does not exist. */
  credential: credentialSummarySchema.optional(),
  /**
   * Whether the claim commitments presented are exactly the record's (the same names and
   * commitments in the same order); only when some were presented and the credential
   * exists. When they are not, `COMMITMENTS_MISMATCH` is among the reasons.
   */
  claimCommitmentsMatch: z.boolean().optional(),
  /** Each disclosed claim, in the order given. */
  disclosedClaims: z.array(disclosedClaimResultSchema),
  /**
   * Names of the claims the holder did not disclose, when the presentation is bound to
   * the holder (otherwise empty); their values and commitments are never returned.
   */
  undisclosedClaims: z.array(z.string()),
});
export type PresentationVerdict = z.output<typeof presentationVerdictSchema>;

export const issuerDetailsSchema = z.object({
  issuer: issuerRecordSchema,
  /** Every version of the grant, oldest first. */
  versions: z.array(issuerVersionRecordSchema),
});
export type IssuerDetails = z.output<typeof issuerDetailsSchema>;

export const listIssuersRequestSchema = z.strictObject({
  status: issuerStatusSchema.optional(),
  /** Only issuers whose current grant includes this type. */
  credentialType: credentialTypeSchema.optional(),
});

export const listCredentialsBySubjectRequestSchema = z.strictObject({
  ...partySchema.shape,
  type: credentialTypeSchema.optional(),
  status: credentialStatusSchema.optional(),
  ...pageRequestShape,
});

export const listCredentialsByIssuerRequestSchema = z.strictObject({
  ...partySchema.shape,
  type: credentialTypeSchema.optional(),
  status: credentialStatusSchema.optional(),
  ...pageRequestShape,
});

export const credentialSecretsResultSchema = z.object({
  credentialId: z.string(),
  claims: z.array(saltedClaimSchema),
});
export type CredentialSecretsResult = z.output<typeof credentialSecretsResultSchema>;

const { submit, evaluate } = contractSpecs(credentialContractName);

/**
 * Every transaction of the `credential` contract. `issueCredential` also takes the
 * claims with their salts in the transient map under `claims`
 * ({@link credentialClaimsSchema}); its result carries only commitments, because a
 * submitted transaction's result is written into the block with it.
 */
export const credentialTransactions = {
  registerIssuer: submit('registerIssuer', registerIssuerRequestSchema, issuerRecordSchema),
  removeIssuer: submit('removeIssuer', removeIssuerRequestSchema, issuerRecordSchema),
  issueCredential: submit('issueCredential', issueCredentialRequestSchema, credentialRecordSchema),
  suspendCredential: submit('suspendCredential', credentialReasonRequestSchema, credentialRecordSchema),
  reinstateCredential: submit('reinstateCredential', credentialReasonRequestSchema, credentialRecordSchema),
  revokeCredential: submit('revokeCredential', credentialReasonRequestSchema, credentialRecordSchema),
  verifyPresentation: evaluate('verifyPresentation', verifyPresentationRequestSchema, presentationVerdictSchema),
  getCredential: evaluate('getCredential', credentialRequestSchema, credentialRecordSchema),
  getCredentialSecrets: evaluate('getCredentialSecrets', credentialRequestSchema, credentialSecretsResultSchema),
  listCredentialsBySubject: evaluate(
    'listCredentialsBySubject',
    listCredentialsBySubjectRequestSchema,
    pageSchema(credentialRecordSchema),
  ),
  listCredentialsByIssuer: evaluate(
    'listCredentialsByIssuer',
    listCredentialsByIssuerRequestSchema,
    pageSchema(credentialRecordSchema),
  ),
  getIssuer: evaluate('getIssuer', z.strictObject(partySchema.shape), issuerDetailsSchema),
  listIssuers: evaluate('listIssuers', listIssuersRequestSchema, z.array(issuerRecordSchema)),
} as const;
