import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  commitClaims,
  credentialClaimsSchema,
  credentialTransactions as spec,
  type IssuerDetails,
  type PresentationVerdict,
} from '../model/credential';
import { credentialEvents } from '../model/credential-events';
import {
  credentialClaimsTransientKey,
  credentialContractName,
  type CredentialRecord,
  type IssuerRecord,
  type SaltedClaim,
} from '../model/credential-records';
import { callerOf } from '../ledger/caller';
import { parseArgument } from '../ledger/refusal';
import { runRequestOnce } from '../ledger/requests';
import { transactionInstant } from '../ledger/time';
import { parseTransient } from '../ledger/transient';
import { txOf } from '../ledger/tx';
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
export class CredentialContract extends Contract {
  constructor() {
    super(credentialContractName);
  }

  /**
   * Genesis only: the bootstrap administrator registers an issuer, changes the types it
   * may issue, or re-registers a removed one; each call writes a new version of its
   * grant. After genesis this is a governance proposal's `registerIssuer` action.
   * Repeating a request id returns the stored result.
   */
  @Transaction()
  async registerIssuer(ctx: Context, requestJson: string): Promise<IssuerRecord> {
    const request = parseArgument(spec.registerIssuer.request, requestJson);
    const tx = txOf(ctx);
    const provenance = await requireGenesisAdmin(tx, 'register issuers');
    return runRequestOnce(ctx, spec.registerIssuer, request, async () => {
      const change = await registerIssuer(tx, request, provenance);
      emitCredentialEvent(tx, credentialEvents.issuerRegistered, change);
      return change.issuer;
    });
  }

  /** Genesis only: the bootstrap administrator removes an issuer; credentials it issued before stay valid. */
  @Transaction()
  async removeIssuer(ctx: Context, requestJson: string): Promise<IssuerRecord> {
    const request = parseArgument(spec.removeIssuer.request, requestJson);
    const tx = txOf(ctx);
    const provenance = await requireGenesisAdmin(tx, 'remove issuers');
    const change = await removeIssuer(tx, request, provenance);
    emitCredentialEvent(tx, credentialEvents.issuerRemoved, change);
    return change.issuer;
  }

  /**
   * An active issuer issues a credential of a type its grant includes. The claims with
   * their salts come in the transient map under `claims`; the channel keeps one salted
   * commitment per claim, the `credentialSecrets` collection keeps the claims. The
   * result holds commitments only: a submitted transaction's result is written into the
   * block, and the caller already holds the claims and salts it sent.
   */
  @Transaction()
  async issueCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    const request = parseArgument(spec.issueCredential.request, requestJson);
    const claims: SaltedClaim[] = parseTransient(ctx, credentialClaimsTransientKey, credentialClaimsSchema);
    const tx = txOf(ctx);
    const issuanceDate = checkIssue(tx, request);
    // The commitments join the fingerprint so that a retry with other claims or salts is refused.
    return runRequestOnce(
      ctx,
      spec.issueCredential,
      request,
      () => issueCredential(tx, request, claims, issuanceDate),
      { request, commitments: commitClaims(claims) },
    );
  }

  /** The issuer suspends a credential with a reason; verification reports SUSPENDED at once. */
  @Transaction()
  async suspendCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    const request = parseArgument(spec.suspendCredential.request, requestJson);
    return changeStatus(txOf(ctx), 'suspend', request);
  }

  /** The issuer, while still active, lifts a suspension with a reason. */
  @Transaction()
  async reinstateCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    const request = parseArgument(spec.reinstateCredential.request, requestJson);
    return changeStatus(txOf(ctx), 'reinstate', request);
  }

  /** The issuer revokes a credential for good, with a reason. */
  @Transaction()
  async revokeCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    const request = parseArgument(spec.revokeCredential.request, requestJson);
    return changeStatus(txOf(ctx), 'revoke', request);
  }

  /**
   * Checks a presentation (a credential id and some of its claims with their salts) and
   * returns a verdict with a reason code per failure. Open to any caller.
   */
  @Transaction(false)
  async verifyPresentation(ctx: Context, requestJson: string): Promise<PresentationVerdict> {
    const request = parseArgument(spec.verifyPresentation.request, requestJson);
    return verifyPresentation(ctx, transactionInstant(ctx), request);
  }

  /** One credential's channel record, for its subject, its issuer, hr, auditors and admins. */
  @Transaction(false)
  async getCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    const request = parseArgument(spec.getCredential.request, requestJson);
    return queries.getCredential(ctx, callerOf(ctx), request.credentialId);
  }

  /** The claims and salts of a credential, for its subject only. */
  @Transaction(false)
  async getCredentialSecrets(
    ctx: Context,
    requestJson: string,
  ): Promise<{ credentialId: string; claims: SaltedClaim[] }> {
    const request = parseArgument(spec.getCredentialSecrets.request, requestJson);
    return queries.getCredentialSecrets(ctx, callerOf(ctx), request.credentialId);
  }

  /** Credentials a person holds. */
  @Transaction(false)
  async listCredentialsBySubject(ctx: Context, requestJson: string): Promise<CredentialRecord[]> {
    const request = parseArgument(spec.listCredentialsBySubject.request, requestJson);
    return queries.listCredentialsBySubject(ctx, callerOf(ctx), request);
  }

  /** Credentials an issuer issued, optionally of one type. */
  @Transaction(false)
  async listCredentialsByIssuer(ctx: Context, requestJson: string): Promise<CredentialRecord[]> {
    const request = parseArgument(spec.listCredentialsByIssuer.request, requestJson);
    return queries.listCredentialsByIssuer(ctx, callerOf(ctx), request);
  }

  /** An issuer record and every version of its grant. */
  @Transaction(false)
  async getIssuer(ctx: Context, requestJson: string): Promise<IssuerDetails> {
    const request = parseArgument(spec.getIssuer.request, requestJson);
    return queries.getIssuer(ctx, request);
  }

  /** Issuer records, optionally by status or by a credential type they may issue. */
  @Transaction(false)
  async listIssuers(ctx: Context, requestJson: string): Promise<IssuerRecord[]> {
    const request = parseArgument(spec.listIssuers.request, requestJson);
    return queries.listIssuers(ctx, request);
  }
}
