import type { Context } from 'fabric-contract-api';
import {
  claimCommitment,
  type PresentationVerdict,
  type VerificationReason,
  type VerifyPresentationRequest,
} from '../../model/credential';
import type { CommittedClaim, CredentialRecord, IssuerVersionRecord } from '../../model/credential-records';
import { describeParty, readCredential, readIssuerVersion, sameParty } from './store';

/**
 * Whether the issuer version a credential names authorised its type when the
 * credential was issued. The version is read back from the grant history rather than
 * trusted from the credential record: it must be the very version written by the
 * transaction the credential names, grant the type, and still have been in force (not
 * yet replaced by the next version) when the credential was issued.
 */
function authorisationFailure(
  credential: CredentialRecord,
  version: IssuerVersionRecord | undefined,
  next: IssuerVersionRecord | undefined,
): string | undefined {
  const grant = `version ${credential.issuerVersion} of the issuer record of ${describeParty(credential.issuer)}`;
  if (version?.txId !== credential.issuerVersionTxId) {
    return `${grant}, written by transaction ${credential.issuerVersionTxId}, is not on the ledger`;
  }
  if (version.status !== 'active') return `${grant} was a removal, which authorises nothing`;
  if (!version.credentialTypes.includes(credential.type)) {
    return `${grant} authorised ${version.credentialTypes.join(', ')}, not ${credential.type}`;
  }
  if (next !== undefined && Date.parse(next.at) < Date.parse(credential.issuedAt)) {
    return `${grant} was replaced by version ${next.version} at ${next.at}, before the credential was issued at ${credential.issuedAt}`;
  }
  return undefined;
}

function sameCommitments(presented: readonly CommittedClaim[], stored: readonly CommittedClaim[]): boolean {
  if (presented.length !== stored.length) return false;
  return stored.every(
    (claim, index) => presented[index]?.name === claim.name && presented[index].commitment === claim.commitment,
  );
}

/**
 * Checks a presentation against the ledger at the transaction time `at`. Never throws
 * for a forged or stale presentation: the verdict lists every reason it is not valid,
 * in this order: one CLAIM_MISMATCH or UNKNOWN_CLAIM per disclosed claim at fault (in
 * the order given), SUBJECT_MISMATCH, EXPIRED, REVOKED or SUSPENDED,
 * ISSUER_NOT_AUTHORISED; or NOT_FOUND alone.
 *
 * Anyone may call this, with no account (see `model/credential.ts` for what a verifier
 * learns). The holder's identity and the names of the claims not disclosed are given
 * only when the presentation is bound to the holder: a disclosed claim opened its
 * commitment (only the holder has the salts) or the verifier named the subject it
 * expected and that is the subject. Reason sentences name only what the verifier
 * presented and what the summary shows; the issuer's free-text reasons for a
 * suspension or revocation are never given. Claim commitments a document presents are
 * compared with the record's, and the verdict says only whether they are the same
 * (`claimCommitmentsMatch`; when they are not, `COMMITMENTS_MISMATCH` makes the verdict
 * invalid, so that a client reading only `valid` is not misled; a document's other
 * properties are the caller's to compare with the summary).
 */
export async function verifyPresentation(
  ctx: Context,
  at: string,
  request: VerifyPresentationRequest,
): Promise<PresentationVerdict> {
  const label = `credential ${request.credentialId}`;
  const credential = await readCredential(ctx, request.credentialId);
  if (credential === undefined) {
    return {
      credentialId: request.credentialId,
      valid: false,
      checkedAt: at,
      reasons: [{ code: 'NOT_FOUND', message: `${label} does not exist` }],
      disclosedClaims: [],
      undisclosedClaims: [],
    };
  }

  const reasons: VerificationReason[] = [];
  const commitments = new Map(credential.claims.map((claim) => [claim.name, claim.commitment]));
  const disclosedClaims = request.revealedClaims.map((claim) => {
    const stored = commitments.get(claim.name);
    if (stored === undefined) {
      reasons.push({ code: 'UNKNOWN_CLAIM', claim: claim.name, message: `${label} has no claim ${claim.name}` });
      return { name: claim.name, value: claim.value, verified: false };
    }
    const verified = claimCommitment(claim) === stored;
    if (!verified) {
      reasons.push({
        code: 'CLAIM_MISMATCH',
        claim: claim.name,
        message: `the value and salt disclosed for claim ${claim.name} do not match its commitment on ${label}`,
      });
    }
    return { name: claim.name, value: claim.value, verified };
  });
  const disclosed = new Set(request.revealedClaims.map((claim) => claim.name));
  const subjectMatches =
    request.expectedSubject !== undefined && sameParty(request.expectedSubject, credential.subject);
  const bound = subjectMatches || disclosedClaims.some((claim) => claim.verified);

  if (request.expectedSubject !== undefined && !subjectMatches) {
    reasons.push({
      code: 'SUBJECT_MISMATCH',
      message: `${label} was not issued to ${describeParty(request.expectedSubject)}`,
    });
  }
  if (credential.expirationDate !== undefined && Date.parse(at) >= Date.parse(credential.expirationDate)) {
    reasons.push({ code: 'EXPIRED', message: `${label} expired at ${credential.expirationDate}` });
  }
  if (credential.status === 'revoked') {
    reasons.push({ code: 'REVOKED', message: `${label} was revoked by its issuer` });
  }
  if (credential.status === 'suspended') {
    reasons.push({ code: 'SUSPENDED', message: `${label} is suspended by its issuer` });
  }
  const version = await readIssuerVersion(ctx, credential.issuer, credential.issuerVersion);
  const next = await readIssuerVersion(ctx, credential.issuer, credential.issuerVersion + 1);
  const failure = authorisationFailure(credential, version, next);
  if (failure !== undefined) reasons.push({ code: 'ISSUER_NOT_AUTHORISED', message: failure });
  const commitmentsMatch =
    request.claimCommitments === undefined ? undefined : sameCommitments(request.claimCommitments, credential.claims);
  if (commitmentsMatch === false) {
    reasons.push({
      code: 'COMMITMENTS_MISMATCH',
      message: `the claim commitments presented are not those of ${label}`,
    });
  }

  return {
    credentialId: credential.credentialId,
    valid: reasons.length === 0,
    checkedAt: at,
    reasons,
    ...(commitmentsMatch === undefined ? {} : { claimCommitmentsMatch: commitmentsMatch }),
    credential: {
      credentialId: credential.credentialId,
      type: credential.type,
      issuer: credential.issuer,
      ...(version === undefined ? {} : { issuerDisplayName: version.displayName }),
      issuerVersion: credential.issuerVersion,
      issuerVersionTxId: credential.issuerVersionTxId,
      ...(bound ? { subject: credential.subject } : {}),
      issuanceDate: credential.issuanceDate,
      ...(credential.expirationDate === undefined ? {} : { expirationDate: credential.expirationDate }),
      status: credential.status,
      issuedAt: credential.issuedAt,
      issuedTxId: credential.issuedTxId,
    },
    disclosedClaims,
    undisclosedClaims: bound ? credential.claims.map((claim) => claim.name).filter((name) => !disclosed.has(name)) : [],
  };
}
