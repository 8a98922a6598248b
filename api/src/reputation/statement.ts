import { createPrivateKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import {
  describePath,
  findNonCanonical,
  isoInstantSchema,
  mspIdSchema,
  partySchema,
  reputationSchema,
} from '@gigledger/chaincode/model';
import { hasHighS, isCanonicalBase64, signLowS, type SigningIdentity } from '@gigledger/gateway';
import { duplicateMemberName } from '@gigledger/settlement';

/*
 * Portable reputation statements
 * ==============================
 *
 * A statement is `{ body, signature }`. The body holds the score with its components
 * and the records it rests on (each with its transaction id), exactly as the
 * reputation contract computed them, plus the ledger height read just after and the
 * time the statement was signed. The signature is ECDSA P-256 over SHA-256 of the
 * body's RFC 8785 (JSON Canonicalization Scheme) encoding, DER-encoded and base64, made
 * with the key of the exporting organisation's operator, whose certificate travels in
 * the statement. A verifier who holds that organisation's CA certificate needs nothing
 * else: see README.md beside this file for the procedure with openssl or any RFC 8785
 * library.
 *
 * Format v1 was first defined as "keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as ECMAScript's JSON.stringify writes them". For every body that
 * can be encoded canonically (no lone surrogate, no non-finite number) those are the
 * very bytes RFC 8785 prescribes, so every v1 statement already issued verifies
 * unchanged and the version stays v1. A body that has no canonical encoding, or holds a
 * `__proto__` key (which JavaScript parsers and schema libraries drop silently, so two
 * verifiers could disagree), is refused, never signed or verified with a part left out.
 *
 * This file must stay free of I/O and of the ledger: the offline CLI runs it as it is.
 */

export const statementType = 'GigLedgerReputationStatement';
export const statementVersion = 'gigledger-reputation-statement/v1';
/** ECDSA on curve P-256 with SHA-256, signature DER-encoded (as openssl writes and reads it). */
export const statementAlgorithm = 'ECDSA-P256-SHA256-DER';

/**
 * From this signing time on (`body.issuedAt`, which the signature binds) a statement's
 * signature must be in the low-S form. Releases before it signed with either form, about
 * half of the time the high one, and their statements stay valid in the form they were
 * issued in.
 */
export const statementLowSRequiredFrom = '2026-12-07T15:00:00.000Z';

export const statementBodySchema = z.object({
  type: z.literal(statementType),
  version: z.literal(statementVersion),
  statementId: z.string().min(1),
  /** When the statement was signed (the server's clock). */
  issuedAt: isoInstantSchema,
  /** The organisation that signs it. */
  issuer: z.object({ mspId: mspIdSchema }),
  subject: partySchema,
  /** Score, formula, components, parts and basis (every record with its transaction id), as the chaincode computed them. */
  reputation: reputationSchema,
  ledger: z.object({
    /** Channel height read just after the score was computed: every record the score rests on is in a lower block. */
    blockHeight: z.string().regex(/^\d+$/, 'must be a decimal block height'),
  }),
});
export type StatementBody = z.output<typeof statementBodySchema>;

export const statementSignatureSchema = z.object({
  algorithm: z.literal(statementAlgorithm),
  /** The signing organisation, as named in the body. */
  mspId: mspIdSchema,
  /** The signer's X.509 certificate, issued by the organisation's CA. */
  certificatePem: z.string().min(1),
  /** Base64 of the DER-encoded ECDSA signature over SHA-256 of the canonical body. */
  value: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
});

// The envelope around the signed body is strict: a member nothing signs, added to it,
// would give one statement another text that still verifies.
export const reputationStatementSchema = z
  .object({ body: statementBodySchema, signature: statementSignatureSchema.strict() })
  .strict();
export type ReputationStatement = z.output<typeof reputationStatementSchema>;

/** Thrown when a statement body has no canonical encoding; names the field at fault. */
export class NonCanonicalStatementError extends Error {
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'NonCanonicalStatementError';
    this.field = field;
  }
}

/**
 * The exact bytes that are signed: the body's RFC 8785 encoding, in UTF-8.
 *
 * @throws NonCanonicalStatementError when the body holds a `__proto__` key, a string that
 *   is not well-formed Unicode, a number that is not finite, nesting deeper than the
 *   canonical limit, or anything else with no JSON form.
 */
export function statementSigningBytes(body: unknown): Buffer {
  const part = findNonCanonical(body);
  if (part !== undefined) throw new NonCanonicalStatementError(describePath(['body', ...part.path]), part.message);
  const text = canonicalize(body);
  if (text === undefined) throw new NonCanonicalStatementError('body', 'has no JSON form');
  return Buffer.from(text, 'utf8');
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * Signs a statement body with an organisation operator's identity.
 *
 * @throws Error when the signer's key is not an ECDSA P-256 key; NonCanonicalStatementError when
 *   the body has no canonical encoding.
 */
export function signStatement(body: StatementBody, signer: SigningIdentity): ReputationStatement {
  const key = createPrivateKey(signer.privateKeyPem);
  if (!isP256(key)) throw new Error(`the signing key of ${signer.mspId} is not an ECDSA P-256 key`);
  return {
    body,
    signature: {
      algorithm: statementAlgorithm,
      mspId: signer.mspId,
      certificatePem: signer.certificatePem,
      value: Buffer.from(signLowS(statementSigningBytes(body), key)).toString('base64'),
    },
  };
}

export const statementFailureCodes = [
  /** The statement is not JSON of the expected shape. */
  'MALFORMED_STATEMENT',
  /**
   * The body holds a part with no canonical encoding (a `__proto__` key, a lone
   * surrogate, a number that is not finite): it cannot have been signed as it is. The
   * reason names the field.
   */
  'NOT_CANONICAL',
  /** The CA certificate given to the verifier cannot be read or is not a CA certificate. */
  'CA_CERTIFICATE_INVALID',
  /** The signer's certificate cannot be read, or its key is not ECDSA P-256. */
  'CERTIFICATE_INVALID',
  /** The signer's certificate was not issued (and signed) by the given CA. */
  'CERTIFICATE_NOT_ISSUED_BY_CA',
  /**
   * The signer is not the organisation's operator (common name `operator` or
   * `operator-…`, names no person may take): a peer's, an orderer's or a person's
   * certificate from the same CA signs no statement.
   */
  'SIGNER_NOT_OPERATOR',
  /** The signer's certificate was not valid when the statement says it was signed. */
  'CERTIFICATE_NOT_VALID_AT_ISSUANCE',
  /** The signature names another organisation than the body. */
  'SIGNER_MISMATCH',
  /** A verifier holding the CAs of known organisations (the API's) knows none by the MSP id the signature names. */
  'UNKNOWN_ORGANISATION',
  /** The signature does not match the body: the statement was altered, or signed with another key. */
  'SIGNATURE_INVALID',
] as const;
export type StatementFailureCode = (typeof statementFailureCodes)[number];

export interface StatementVerdict {
  readonly valid: boolean;
  /** Empty exactly when valid. */
  readonly reasons: readonly {
    readonly code: StatementFailureCode;
    readonly message: string;
    /** The field at fault, for NOT_CANONICAL and a member named twice. */
    readonly field?: string;
  }[];
  /** Read from the statement when it has the expected shape, valid or not. */
  readonly statement?: {
    readonly statementId: string;
    readonly subject: { readonly mspId: string; readonly userId: string };
    readonly score: number;
    readonly formula: string;
    readonly asOf: string;
    readonly issuedAt: string;
    readonly blockHeight: string;
    readonly records: number;
  };
  readonly signer?: { readonly mspId: string; readonly certificateSubject: string; readonly certificateIssuer: string };
}

function readCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * Why the signature is not the one form of itself a statement may carry, or undefined when
 * it is: (r, n − s) verifies wherever (r, s) does, and base64 whose last character has
 * unused bits set decodes to the same bytes, so either would let anyone change a valid
 * statement's text and keep it valid. The signer writes low S and canonical base64.
 */
function signatureFormProblem(base64: string, key: KeyObject, issuedAt: string): string | undefined {
  if (!isCanonicalBase64(base64)) {
    return 'the signature is not canonical base64 (its padding, or the unused bits of its last character, differ from the one encoding of its bytes)';
  }
  if (Date.parse(issuedAt) < Date.parse(statementLowSRequiredFrom)) return undefined;
  try {
    if (hasHighS(Buffer.from(base64, 'base64'), key)) {
      return `the signature's S is in its high form (n − s): a statement issued from ${statementLowSRequiredFrom} on is signed, and verified, with low S only`;
    }
  } catch {
    // Not a DER ECDSA signature: the verification below refuses it.
  }
  return undefined;
}

function signatureMatches(bytes: Buffer, key: KeyObject, base64: string): boolean {
  try {
    return verify('sha256', bytes, key, Buffer.from(base64, 'base64'));
  } catch {
    // OpenSSL rejects bytes that are not a DER signature at all; that is a mismatch too.
    return false;
  }
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'is invalid'}`;
}

/**
 * Verifies a statement from its JSON text, as a file holds it: a text that names one
 * member twice is MALFORMED_STATEMENT naming it (I-JSON, RFC 7493 §2.3: JSON.parse keeps
 * the last value and other readers the first, so two readers would show one statement
 * with different figures); otherwise as {@link verifyStatement}.
 *
 * @throws SyntaxError when the text is not JSON.
 */
export function verifyStatementText(text: string, caCertificatePem: string): StatementVerdict {
  const statement: unknown = JSON.parse(text);
  const repeated = duplicateMemberName(text);
  if (repeated !== undefined) {
    const field = describePath(repeated);
    return {
      valid: false,
      reasons: [{ code: 'MALFORMED_STATEMENT', field, message: `${field}: appears twice in one JSON object` }],
    };
  }
  return verifyStatement(statement, caCertificatePem);
}

/**
 * Verifies a reputation statement offline: pure, no network, no ledger. Checks that the
 * signer's certificate was issued and signed by `caCertificatePem` and was valid when
 * the statement was signed, that the signature names the body's organisation, and that
 * the ECDSA signature matches the body's RFC 8785 encoding. Never throws for bad input:
 * every failure is a reason; a statement with a part that has no canonical encoding
 * (a `__proto__` key, a lone surrogate) is NOT_CANONICAL, naming the field.
 *
 * @param statement the parsed JSON of a statement, as received
 * @param caCertificatePem the certificate of the CA the verifier trusts for the signing organisation
 */
export function verifyStatement(statement: unknown, caCertificatePem: string): StatementVerdict {
  // Checked before the schema, which would strip a `__proto__` key before anyone saw it.
  const nonCanonical = findNonCanonical(statement);
  if (nonCanonical !== undefined) {
    const field = describePath(nonCanonical.path);
    return {
      valid: false,
      reasons: [{ code: 'NOT_CANONICAL', field, message: `${field}: ${nonCanonical.message}` }],
    };
  }
  const parsed = reputationStatementSchema.safeParse(statement);
  if (!parsed.success) {
    return {
      valid: false,
      reasons: [{ code: 'MALFORMED_STATEMENT', message: `not a reputation statement: ${firstIssue(parsed.error)}` }],
    };
  }
  const { body, signature } = parsed.data;
  const summary = {
    statementId: body.statementId,
    subject: body.subject,
    score: body.reputation.score,
    formula: body.reputation.formula.version,
    asOf: body.reputation.asOf,
    issuedAt: body.issuedAt,
    blockHeight: body.ledger.blockHeight,
    records: body.reputation.basis.length,
  };
  const reasons: { code: StatementFailureCode; message: string }[] = [];
  const fail = (code: StatementFailureCode, message: string) => {
    reasons.push({ code, message });
    return { valid: false, reasons, statement: summary };
  };

  const ca = readCertificate(caCertificatePem);
  if (ca === undefined)
    return fail('CA_CERTIFICATE_INVALID', 'the CA certificate cannot be read as a PEM X.509 certificate');
  if (!ca.ca)
    return fail('CA_CERTIFICATE_INVALID', `the certificate given as the CA (${ca.subject}) is not a CA certificate`);
  const certificate = readCertificate(signature.certificatePem);
  if (certificate === undefined) {
    return fail('CERTIFICATE_INVALID', "the signer's certificate cannot be read as a PEM X.509 certificate");
  }
  // OpenSSL reads the first certificate of a text and skips what surrounds it; the
  // statement carries exactly one, in the form the signer's file holds it.
  if (certificate.toString() !== signature.certificatePem) {
    return fail(
      'CERTIFICATE_INVALID',
      "the signer's certificate must be exactly one PEM certificate (64-character lines, LF line ends, nothing before or after)",
    );
  }
  const signer = {
    mspId: signature.mspId,
    certificateSubject: certificate.subject,
    certificateIssuer: certificate.issuer,
  };
  const publicKey = certificate.publicKey;
  if (!isP256(publicKey)) {
    reasons.push({ code: 'CERTIFICATE_INVALID', message: "the signer's key is not an ECDSA P-256 key" });
    return { valid: false, reasons, statement: summary, signer };
  }

  // Both checks: checkIssued compares names and key identifiers, verify the CA's signature.
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) {
    reasons.push({
      code: 'CERTIFICATE_NOT_ISSUED_BY_CA',
      message: `the signer's certificate (${certificate.subject}) was not issued by the given CA (${ca.subject})`,
    });
  }
  const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1];
  if (commonName === undefined || !/^operator(-.+)?$/.test(commonName)) {
    reasons.push({
      code: 'SIGNER_NOT_OPERATOR',
      message: `the signer (${commonName ?? certificate.subject}) is not the organisation's operator, who alone signs statements`,
    });
  }
  const signedAt = Date.parse(body.issuedAt);
  if (signedAt < Date.parse(certificate.validFrom) || signedAt > Date.parse(certificate.validTo)) {
    reasons.push({
      code: 'CERTIFICATE_NOT_VALID_AT_ISSUANCE',
      message: `the signer's certificate is valid from ${certificate.validFrom} to ${certificate.validTo}, not at ${body.issuedAt}`,
    });
  }
  if (signature.mspId !== body.issuer.mspId) {
    reasons.push({
      code: 'SIGNER_MISMATCH',
      message: `the signature names ${signature.mspId} but the statement says ${body.issuer.mspId} issued it`,
    });
  }
  // The bytes are rebuilt from the body as received, not from the parsed value, so a field
  // the schema does not know still counts: adding one breaks the signature.
  const bytes = statementSigningBytes((statement as { body: unknown }).body);
  const formProblem = signatureFormProblem(signature.value, publicKey, body.issuedAt);
  if (formProblem !== undefined) {
    reasons.push({ code: 'SIGNATURE_INVALID', message: formProblem });
  } else if (!signatureMatches(bytes, publicKey, signature.value)) {
    reasons.push({
      code: 'SIGNATURE_INVALID',
      message: 'the signature does not match the statement: it was altered or signed with another key',
    });
  }
  return { valid: reasons.length === 0, reasons, statement: summary, signer };
}
