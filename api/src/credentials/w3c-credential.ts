import { z } from 'zod';
import {
  canonicalJson,
  claimCommitmentDomain,
  committedClaimSchema,
  credentialIdSchema,
  credentialTransactions,
  credentialTypeSchema,
  maxClaimsPerCredential,
  qualifiedName,
  verifyPresentationRequestSchema,
  type CredentialRecord,
  type Party,
  type SaltedClaim,
} from '@gigledger/chaincode/model';

/*
 * W3C Verifiable Credentials Data Model 2.0 export
 * ================================================
 *
 * A credential leaves the consortium as a VCDM 2.0 document whose claims are the salted
 * commitments the ledger holds. The document is secured by the ledger rather than by a
 * detached signature: its `proof` names the transaction that issued the credential and
 * the block that holds it, and anyone can check it by comparing it with the ledger record
 * (import-verify). A presentation export adds the claims the holder reveals, each with
 * its salt, so a verifier can open exactly those commitments.
 *
 * Only the base context is used. The terms GigLedger adds (`claimCommitments`,
 * `revealedClaims`, the status and proof fields) fall under the VCDM 2.0 context's
 * `@vocab`, as issuer-dependent terms.
 */

/** The base context every VCDM 2.0 document begins with. */
export const credentialsContextV2 = 'https://www.w3.org/ns/credentials/v2';
export const credentialStatusType = 'GigLedgerCredentialRecord';
export const ledgerProofType = 'GigLedgerTransactionAnchor';

const partyUrnPattern = /^urn:gigledger:party:([A-Za-z0-9.-]+):([a-z0-9][a-z0-9._-]*)$/;

/** `urn:gigledger:party:<mspId>:<userId>`: an identity on the channel, as a URL the VC model accepts as an id. */
export function partyUrn(party: Party): string {
  return `urn:gigledger:party:${party.mspId}:${party.userId}`;
}

/** The party a {@link partyUrn} names, or undefined for anything else. */
export function partyOfUrn(urn: string): Party | undefined {
  const match = partyUrnPattern.exec(urn);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { mspId: match[1], userId: match[2] };
}

/**
 * The document id: the credential id itself when it is already a URN (the API issues
 * `urn:uuid:…` ids), otherwise a GigLedger URN around it.
 */
export function credentialUrn(credentialId: string): string {
  return credentialId.startsWith('urn:') ? credentialId : `urn:gigledger:credential:${credentialId}`;
}

/**
 * The shape of a VCDM 2.0 credential as GigLedger exports it, with `object` building each
 * object of it: `z.object` for the export, which has exactly these properties, and
 * `z.looseObject` for a document given to import-verify, which keeps whatever else the
 * document holds so that the check can report it rather than drop it unseen.
 */
function credentialDocumentSchema(object: typeof z.object | typeof z.looseObject) {
  return object({
    '@context': z
      .array(z.string())
      .min(1, `must begin with ${credentialsContextV2}`)
      .refine((contexts) => contexts[0] === credentialsContextV2, `must begin with ${credentialsContextV2}`),
    id: z.string().min(1),
    type: z.tuple([z.literal('VerifiableCredential'), credentialTypeSchema]),
    issuer: object({ id: z.string().min(1), name: z.string().optional() }),
    validFrom: z.string(),
    validUntil: z.string().optional(),
    credentialSubject: object({
      id: z.string().regex(partyUrnPattern, 'must be urn:gigledger:party:<mspId>:<userId>'),
      /** Every claim of the credential, by name, as its salted SHA-256 commitment. */
      claimCommitments: z
        .array(object(committedClaimSchema.shape))
        .max(maxClaimsPerCredential, `must have at most ${maxClaimsPerCredential} claims`),
      /** Claims the holder discloses in a presentation export, each with its salt. */
      revealedClaims: verifyPresentationRequestSchema.shape.revealedClaims.optional(),
    }),
    credentialStatus: object({
      id: z.string(),
      type: z.literal(credentialStatusType),
      /** The id of the credential record on the ledger. */
      credentialId: credentialIdSchema,
      /** The chaincode function that reads the record's current status. */
      statusQuery: z.string(),
    }),
    proof: object({
      type: z.literal(ledgerProofType),
      proofPurpose: z.literal('assertionMethod'),
      /** When the issuing transaction was endorsed (its transaction timestamp). */
      created: z.string(),
      /** The version of the issuer's grant the credential was issued under. */
      verificationMethod: z.string(),
      transactionId: z.string(),
      /** Decimal: block numbers are 64-bit. */
      blockNumber: z.string().regex(/^\d+$/, 'must be a decimal block number'),
      issuerVersion: z.number().int(),
      issuerVersionTxId: z.string(),
      /** Domain tag of the claim commitment encoding; see `claimCommitment` in the chaincode model. */
      commitmentScheme: z.literal(claimCommitmentDomain),
    }),
  });
}

/** A VCDM 2.0 credential as GigLedger exports it. */
export const verifiableCredentialSchema = credentialDocumentSchema(z.object);
/** A document given to import-verify: every property it holds is kept, to be compared. */
export const importedCredentialSchema = credentialDocumentSchema(z.looseObject);
export type ImportedCredential = z.output<typeof importedCredentialSchema>;
export type VerifiableCredential = z.output<typeof verifiableCredentialSchema>;

/** What of a credential's ledger record its document shows (its status history and last update are not shown). */
export type ExportedRecord = Pick<
  CredentialRecord,
  | 'credentialId'
  | 'type'
  | 'issuer'
  | 'issuerVersion'
  | 'issuerVersionTxId'
  | 'subject'
  | 'issuanceDate'
  | 'expirationDate'
  | 'claims'
  | 'issuedAt'
  | 'issuedTxId'
>;

/** What the export is built from: the ledger record, the issuer's name at issuance and the issuing block. */
export interface ExportSource {
  readonly credential: ExportedRecord;
  /** The display name of the issuer record version the credential names. */
  readonly issuerDisplayName: string | undefined;
  readonly blockNumber: bigint;
  /** Present only in a presentation export. */
  readonly revealedClaims?: readonly SaltedClaim[];
}

/** The VCDM 2.0 document of a credential; pure, so the import check can rebuild it from the ledger record. */
export function toVerifiableCredential(source: ExportSource): VerifiableCredential {
  const { credential } = source;
  const issuerId = partyUrn(credential.issuer);
  return {
    '@context': [credentialsContextV2],
    id: credentialUrn(credential.credentialId),
    type: ['VerifiableCredential', credential.type],
    issuer: {
      id: issuerId,
      ...(source.issuerDisplayName === undefined ? {} : { name: source.issuerDisplayName }),
    },
    validFrom: credential.issuanceDate,
    ...(credential.expirationDate === undefined ? {} : { validUntil: credential.expirationDate }),
    credentialSubject: {
      id: partyUrn(credential.subject),
      claimCommitments: credential.claims.map((claim) => ({ name: claim.name, commitment: claim.commitment })),
      ...(source.revealedClaims === undefined
        ? {}
        : {
            revealedClaims: source.revealedClaims.map((claim) => ({
              name: claim.name,
              value: claim.value,
              salt: claim.salt,
            })),
          }),
    },
    credentialStatus: {
      id: `urn:gigledger:credential-record:${credential.credentialId}`,
      type: credentialStatusType,
      credentialId: credential.credentialId,
      statusQuery: qualifiedName(credentialTransactions.verifyPresentation),
    },
    proof: {
      type: ledgerProofType,
      proofPurpose: 'assertionMethod',
      created: credential.issuedAt,
      verificationMethod: `${issuerId}#issuer-record-v${credential.issuerVersion}`,
      transactionId: credential.issuedTxId,
      blockNumber: source.blockNumber.toString(),
      issuerVersion: credential.issuerVersion,
      issuerVersionTxId: credential.issuerVersionTxId,
      commitmentScheme: claimCommitmentDomain,
    },
  };
}

/** A property of an imported document that disagrees with the ledger. */
export interface DocumentMismatch {
  readonly code: 'DOCUMENT_MISMATCH';
  /** Path of the property in the document, e.g. `validUntil` or `proof`. */
  readonly field: string;
  readonly message: string;
}

/**
 * Every property the ledger determines, each compared as a whole (of an object, only the
 * members the ledger's document has; any other is reported on its own, see
 * {@link unissuedMembers}); `revealedClaims` is checked by the chaincode instead.
 */
const comparedPaths = [
  // Only the base context: an added one could give the terms GigLedger puts under the
  // base context's `@vocab` (claimCommitments, the proof's members) another meaning.
  ['@context'],
  ['id'],
  ['type'],
  ['issuer', 'id'],
  ['issuer', 'name'],
  ['validFrom'],
  ['validUntil'],
  ['credentialSubject', 'id'],
  ['credentialSubject', 'claimCommitments'],
  ['credentialStatus'],
  ['proof'],
] as const;
const comparedFields = new Set(comparedPaths.map((path) => path.join('.')));
/** How many properties the ledger did not issue a verdict names; the last one named counts those left out. */
export const maxUnissuedNamed = 50;

/** The one member a document may hold that the ledger's document has not: the claims a holder reveals. */
const holderMember = 'credentialSubject.revealedClaims';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `given` with only the object members `expected` has, at every depth. */
function projected(given: unknown, expected: unknown): unknown {
  if (Array.isArray(given) && Array.isArray(expected)) {
    return given.map((item, index) => projected(item, expected[index]));
  }
  if (isPlainObject(given) && isPlainObject(expected)) {
    return Object.fromEntries(
      Object.entries(given)
        .filter(([key]) => Object.hasOwn(expected, key))
        .map(([key, value]) => [key, projected(value, expected[key])]),
    );
  }
  return given;
}

/**
 * Paths of the members of `given` that `expected` lacks, at every depth (array items by
 * index), leaving out the compared paths, whose absence from `expected` is a mismatch
 * of its own.
 */
function unissuedMembers(given: unknown, expected: unknown, path: readonly string[] = []): string[] {
  if (Array.isArray(given) && Array.isArray(expected)) {
    return given.flatMap((item, index) => unissuedMembers(item, expected[index], [...path, String(index)]));
  }
  if (!isPlainObject(given) || !isPlainObject(expected)) return [];
  return Object.keys(given).flatMap((key) => {
    const field = [...path, key].join('.');
    if (field === holderMember) return [];
    if (Object.hasOwn(expected, key)) return unissuedMembers(given[key], expected[key], [...path, key]);
    return comparedFields.has(field) ? [] : [field];
  });
}

function at(document: unknown, path: readonly string[]): unknown {
  let value = document;
  for (const key of path) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * Compares an imported document with the one the ledger record gives, property by
 * property, and reports every property the ledger's document does not have (a job
 * title, an `evidence`, a member of the proof): the ledger vouches for none of them, and
 * a verifier shown them beside `valid: true` would take them for issued. Messages say
 * which property differs but never what the ledger holds, so a verifier learns nothing
 * beyond a yes or no from a forged document.
 *
 * @param unconfirmed properties (as `credentialSubject.id`) the ledger did not confirm
 *   to be the record's, e.g. a subject it would not name: each is a mismatch, whatever
 *   `expected` holds there.
 */
export function documentMismatches(
  document: ImportedCredential,
  expected: VerifiableCredential,
  unconfirmed: readonly string[] = [],
): DocumentMismatch[] {
  const differing = comparedPaths.flatMap((path) => {
    const wanted = at(expected, path);
    const given = projected(at(document, path), wanted);
    const field = path.join('.');
    if (!unconfirmed.includes(field) && canonicalJson(given ?? null) === canonicalJson(wanted ?? null)) return [];
    return [{ code: 'DOCUMENT_MISMATCH', field, message: `${field} does not match the ledger record` } as const];
  });
  const members = unissuedMembers(document, expected);
  // A 1 MB body can add some 100,000 members: the verdict names the first ones, and counts the rest.
  const named = members.slice(0, maxUnissuedNamed);
  const unissued = named.map((field, index): DocumentMismatch => ({
    code: 'DOCUMENT_MISMATCH',
    field,
    message:
      index === maxUnissuedNamed - 1 && members.length > maxUnissuedNamed
        ? `${field} and ${members.length - maxUnissuedNamed} more properties are not in the credential the ledger records`
        : `${field} is not in the credential the ledger records`,
  }));
  return [...differing, ...unissued];
}
