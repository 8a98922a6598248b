import { z } from 'zod';
import { actorSchema, partySchema } from './party';
import { ruleProvenanceSchema } from './provenance';
import { wellFormedString } from './canonical-json';

export const credentialContractName = 'credential';

/** Private data collection holding claim values and their salts; see `chaincode/collections.json`. */
export const credentialSecretsCollection = 'credentialSecrets';
/** Transient-map key under which `issueCredential` receives the claims with their salts. */
export const credentialClaimsTransientKey = 'claims';

/** Most claims one credential may carry. */
export const maxClaimsPerCredential = 50;

/** What a credential attests. An issuer record lists the types its holder may issue. */
export const credentialTypes = ['Certification', 'Course', 'ProjectCompletion', 'Employment', 'KYC'] as const;
export const credentialTypeSchema = z.enum(credentialTypes);
export type CredentialType = z.infer<typeof credentialTypeSchema>;

/**
 * Caller-chosen credential id, unique on the channel. Colons are allowed so that the
 * API can use a URN such as `urn:uuid:…`, the usual `id` of a W3C credential.
 */
export const credentialIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
  );

/** Claim name, e.g. `degree` or `dateOfBirth`. Names are public on the channel; values never are. */
export const claimNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter');

/**
 * Claim value. Hashed exactly as given (UTF-8, no trimming, no Unicode normalisation),
 * so a holder must disclose the very same string.
 */
export const claimValueSchema = wellFormedString()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters');

/** A claim's salt: 32 random bytes written as 64 lowercase hex characters, chosen by the caller, never by the chaincode. */
export const claimSaltSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (32 random bytes)');

/** Lowercase hex SHA-256 commitment to one claim; see `claimCommitment` in `model/credential.ts`. */
export const claimCommitmentSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');

/** A claim as its holder keeps it: name, value and the salt its commitment was made with. */
export const saltedClaimSchema = z.strictObject({
  name: claimNameSchema,
  value: claimValueSchema,
  salt: claimSaltSchema,
});
export type SaltedClaim = z.output<typeof saltedClaimSchema>;

/** What the channel ledger keeps of a claim: its name and its commitment, never its value. */
export const committedClaimSchema = z.object({
  name: z.string(),
  commitment: claimCommitmentSchema,
});
export type CommittedClaim = z.output<typeof committedClaimSchema>;

export const issuerStatuses = ['active', 'removed'] as const;
export const issuerStatusSchema = z.enum(issuerStatuses);
export type IssuerStatus = z.infer<typeof issuerStatusSchema>;

/**
 * The current issuer record of one identity (MSP id + `userId` attribute). Each change
 * (registration, change of grant, removal, re-registration) raises `version` and also
 * writes an immutable {@link IssuerVersionRecord}, so the grant in force when a
 * credential was issued can always be read back.
 */
export const issuerRecordSchema = z.object({
  issuer: partySchema,
  displayName: z.string(),
  /** Types the issuer may issue while active, sorted. */
  credentialTypes: z.array(credentialTypeSchema),
  status: issuerStatusSchema,
  version: z.number().int().min(1),
  registeredAt: z.string(),
  registeredTxId: z.string(),
  removal: z.object({ reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
  /** Who decided the current version: genesis, or the executed governance proposal. */
  provenance: ruleProvenanceSchema.optional(),
});
export type IssuerRecord = z.output<typeof issuerRecordSchema>;

/** One version of an issuer's grant, as it stood from `at` until the next version. Never changed once written. */
export const issuerVersionRecordSchema = z.object({
  issuer: partySchema,
  version: z.number().int().min(1),
  status: issuerStatusSchema,
  displayName: z.string(),
  credentialTypes: z.array(credentialTypeSchema),
  /** Why the issuer was removed, on a removal version. */
  reason: z.string().optional(),
  by: actorSchema,
  at: z.string(),
  txId: z.string(),
  provenance: ruleProvenanceSchema.optional(),
});
export type IssuerVersionRecord = z.output<typeof issuerVersionRecordSchema>;

/**
 * Credential life cycle: `active` ⇄ `suspended` (suspend, reinstate), and either may be
 * `revoked`, which is final. Expiry is not a status: it is judged against the
 * transaction timestamp whenever a credential is read.
 */
export const credentialStatuses = ['active', 'suspended', 'revoked'] as const;
export const credentialStatusSchema = z.enum(credentialStatuses);
export type CredentialStatus = z.infer<typeof credentialStatusSchema>;

export const statusChangeSchema = z.object({
  from: credentialStatusSchema,
  to: credentialStatusSchema,
  reason: z.string(),
  at: z.string(),
  txId: z.string(),
});
export type StatusChange = z.output<typeof statusChangeSchema>;

/**
 * A credential as the channel ledger holds it: who issued it to whom, its type, dates,
 * status, and one salted commitment per claim. Claim values and salts live only in the
 * `credentialSecrets` private data collection and with the holder.
 */
export const credentialRecordSchema = z.object({
  credentialId: z.string(),
  type: credentialTypeSchema,
  issuer: partySchema,
  /** Version of the issuer record in force when the credential was issued… */
  issuerVersion: z.number().int().min(1),
  /** …and the transaction that wrote that version. */
  issuerVersionTxId: z.string(),
  subject: partySchema,
  issuanceDate: z.string(),
  expirationDate: z.string().optional(),
  /** In the order the issuer gave them. */
  claims: z.array(committedClaimSchema),
  status: credentialStatusSchema,
  /** Every suspension, reinstatement and revocation, oldest first. */
  statusHistory: z.array(statusChangeSchema),
  issuedAt: z.string(),
  issuedTxId: z.string(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type CredentialRecord = z.output<typeof credentialRecordSchema>;

/** The private part of a credential, in the `credentialSecrets` collection: what the subject needs to disclose claims. */
export const credentialSecretsSchema = z.object({
  credentialId: z.string(),
  subject: partySchema,
  claims: z.array(saltedClaimSchema),
});
export type CredentialSecrets = z.output<typeof credentialSecretsSchema>;
