import { Info } from 'fabric-contract-api';
import { commitClaims, credentialClaimsSchema, credentialTransactions as spec } from '../model/credential';
import { credentialEvents } from '../model/credential-events';
import { credentialClaimsTransientKey, credentialContractName, type SaltedClaim } from '../model/credential-records';
import { parseTransient } from '../ledger/transient';
import { contractClass, transaction } from '../ledger/contract-class';
import { emitCredentialEvent } from './credential/events';
import { checkIssue, issueCredential } from './credential/issuance';
import { requireGenesisAdmin } from './governance/genesis';
import { registerIssuer, removeIssuer } from './credential/issuers';
import * as queries from './credential/queries';
import { changeStatus } from './credential/status';
import { verifyPresentation } from './credential/verification';

/**
 * Verifiable credentials: issuer records managed by admins, credentials whose claims
 * are on the channel only as salted SHA-256 commitments, selective disclosure checked
 * by {@link CredentialContract.verifyPresentation}, and suspension and revocation by
 * the issuing identity alone.
 *
 * Every transaction takes one JSON argument, validated against its schema in
 * `model/credential.ts` before any state is read.
 */
@Info({ title: 'Credentials', description: 'Issuers, verifiable credentials, selective disclosure and revocation' })
export class CredentialContract extends contractClass(credentialContractName, {
  /**
   * Genesis only: the bootstrap administrator registers an issuer, changes the types it
   * may issue, or re-registers a removed one; each call writes a new version of its
   * grant. After genesis this is a governance proposal's `registerIssuer` action.
   * Repeating a request id returns the stored result.
   */
  registerIssuer: transaction(spec.registerIssuer, {
    prepare: (tx) => requireGenesisAdmin(tx, 'register issuers'),
    run: async (tx, request, provenance) => {
      const change = await registerIssuer(tx, request, provenance);
      emitCredentialEvent(tx, credentialEvents.issuerRegistered, change);
      return change.issuer;
    },
  }),

  /** Genesis only: the bootstrap administrator removes an issuer; credentials it issued before stay valid. */
  removeIssuer: transaction(spec.removeIssuer, async (tx, request) => {
    const change = await removeIssuer(tx, request, await requireGenesisAdmin(tx, 'remove issuers'));
    emitCredentialEvent(tx, credentialEvents.issuerRemoved, change);
    return change.issuer;
  }),

  /**
   * An active issuer issues a credential of a type its grant includes. The claims with
   * their salts come in the transient map under `claims`; the channel keeps one salted
   * commitment per claim, the `credentialSecrets` collection keeps the claims. The
   * result holds commitments only: a submitted transaction's result is written into the
   * block, and the caller already holds the claims and salts it sent.
   */
  issueCredential: transaction(spec.issueCredential, {
    prepare: (tx, request) => {
      const claims: SaltedClaim[] = parseTransient(tx.ctx, credentialClaimsTransientKey, credentialClaimsSchema);
      return { claims, issuanceDate: checkIssue(tx, request) };
    },
    // The commitments join the fingerprint so that a retry with other claims or salts is refused.
    fingerprint: (request, { claims }) => ({ request, commitments: commitClaims(claims) }),
    run: (tx, request, { claims, issuanceDate }) => issueCredential(tx, request, claims, issuanceDate),
  }),

  /** The issuer suspends a credential with a reason; verification reports SUSPENDED at once. */
  suspendCredential: transaction(spec.suspendCredential, (tx, request) => changeStatus(tx, 'suspend', request)),

  /** The issuer, while still active, lifts a suspension with a reason. */
  reinstateCredential: transaction(spec.reinstateCredential, (tx, request) => changeStatus(tx, 'reinstate', request)),

  /** The issuer revokes a credential for good, with a reason. */
  revokeCredential: transaction(spec.revokeCredential, (tx, request) => changeStatus(tx, 'revoke', request)),

  /**
   * Checks a presentation (a credential id and some of its claims with their salts) and
   * returns a verdict with a reason code per failure. Open to any caller.
   */
  verifyPresentation: transaction(spec.verifyPresentation, (tx, request) => verifyPresentation(tx.ctx, tx.at, request)),

  /** One credential's channel record, for its subject, its issuer, hr, auditors (under a grant) and admins of the subject's or issuer's organisation. */
  getCredential: transaction(spec.getCredential, (tx, request) =>
    queries.getCredential(tx.ctx, tx.caller, request.credentialId),
  ),

  /** The claims and salts of a credential, for its subject only. */
  getCredentialSecrets: transaction(spec.getCredentialSecrets, (tx, request) =>
    queries.getCredentialSecrets(tx.ctx, tx.caller, request.credentialId),
  ),

  /** Credentials a person holds. */
  listCredentialsBySubject: transaction(spec.listCredentialsBySubject, (tx, request) =>
    queries.listCredentialsBySubject(tx.ctx, tx.caller, request),
  ),

  /** Credentials an issuer issued, optionally of one type. */
  listCredentialsByIssuer: transaction(spec.listCredentialsByIssuer, (tx, request) =>
    queries.listCredentialsByIssuer(tx.ctx, tx.caller, request),
  ),

  /** An issuer record and every version of its grant. */
  getIssuer: transaction(spec.getIssuer, (tx, request) => queries.getIssuer(tx.ctx, request)),

  /** Issuer records, optionally by status or by a credential type they may issue. */
  listIssuers: transaction(spec.listIssuers, (tx, request) => queries.listIssuers(tx.ctx, request)),
}) {}
