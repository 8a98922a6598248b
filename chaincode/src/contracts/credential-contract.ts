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
import { parseTransient } from '../ledger/transient';
import { runTransaction } from '../ledger/transaction';
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
  registerIssuer(ctx: Context, requestJson: string): Promise<IssuerRecord> {
    return runTransaction(ctx, spec.registerIssuer, requestJson, {
      prepare: (tx) => requireGenesisAdmin(tx, 'register issuers'),
      run: async (tx, request, provenance) => {
        const change = await registerIssuer(tx, request, provenance);
        emitCredentialEvent(tx, credentialEvents.issuerRegistered, change);
        return change.issuer;
      },
    });
  }

  /** Genesis only: the bootstrap administrator removes an issuer; credentials it issued before stay valid. */
  @Transaction()
  removeIssuer(ctx: Context, requestJson: string): Promise<IssuerRecord> {
    return runTransaction(ctx, spec.removeIssuer, requestJson, async (tx, request) => {
      const change = await removeIssuer(tx, request, await requireGenesisAdmin(tx, 'remove issuers'));
      emitCredentialEvent(tx, credentialEvents.issuerRemoved, change);
      return change.issuer;
    });
  }

  /**
   * An active issuer issues a credential of a type its grant includes. The claims with
   * their salts come in the transient map under `claims`; the channel keeps one salted
   * commitment per claim, the `credentialSecrets` collection keeps the claims. The
   * result holds commitments only: a submitted transaction's result is written into the
   * block, and the caller already holds the claims and salts it sent.
   */
  @Transaction()
  issueCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    return runTransaction(ctx, spec.issueCredential, requestJson, {
      prepare: (tx, request) => {
        const claims: SaltedClaim[] = parseTransient(ctx, credentialClaimsTransientKey, credentialClaimsSchema);
        return { claims, issuanceDate: checkIssue(tx, request) };
      },
      // The commitments join the fingerprint so that a retry with other claims or salts is refused.
      fingerprint: (request, { claims }) => ({ request, commitments: commitClaims(claims) }),
      run: (tx, request, { claims, issuanceDate }) => issueCredential(tx, request, claims, issuanceDate),
    });
  }

  /** The issuer suspends a credential with a reason; verification reports SUSPENDED at once. */
  @Transaction()
  suspendCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    return runTransaction(ctx, spec.suspendCredential, requestJson, (tx, request) =>
      changeStatus(tx, 'suspend', request),
    );
  }

  /** The issuer, while still active, lifts a suspension with a reason. */
  @Transaction()
  reinstateCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    return runTransaction(ctx, spec.reinstateCredential, requestJson, (tx, request) =>
      changeStatus(tx, 'reinstate', request),
    );
  }

  /** The issuer revokes a credential for good, with a reason. */
  @Transaction()
  revokeCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    return runTransaction(ctx, spec.revokeCredential, requestJson, (tx, request) =>
      changeStatus(tx, 'revoke', request),
    );
  }

  /**
   * Checks a presentation (a credential id and some of its claims with their salts) and
   * returns a verdict with a reason code per failure. Open to any caller.
   */
  @Transaction(false)
  verifyPresentation(ctx: Context, requestJson: string): Promise<PresentationVerdict> {
    return runTransaction(ctx, spec.verifyPresentation, requestJson, (tx, request) =>
      verifyPresentation(tx.ctx, tx.at, request),
    );
  }

  /** One credential's channel record, for its subject, its issuer, hr, auditors and admins. */
  @Transaction(false)
  getCredential(ctx: Context, requestJson: string): Promise<CredentialRecord> {
    return runTransaction(ctx, spec.getCredential, requestJson, (tx, request) =>
      queries.getCredential(tx.ctx, tx.caller, request.credentialId),
    );
  }

  /** The claims and salts of a credential, for its subject only. */
  @Transaction(false)
  getCredentialSecrets(ctx: Context, requestJson: string): Promise<{ credentialId: string; claims: SaltedClaim[] }> {
    return runTransaction(ctx, spec.getCredentialSecrets, requestJson, (tx, request) =>
      queries.getCredentialSecrets(tx.ctx, tx.caller, request.credentialId),
    );
  }

  /** Credentials a person holds. */
  @Transaction(false)
  listCredentialsBySubject(ctx: Context, requestJson: string): Promise<CredentialRecord[]> {
    return runTransaction(ctx, spec.listCredentialsBySubject, requestJson, (tx, request) =>
      queries.listCredentialsBySubject(tx.ctx, tx.caller, request),
    );
  }

  /** Credentials an issuer issued, optionally of one type. */
  @Transaction(false)
  listCredentialsByIssuer(ctx: Context, requestJson: string): Promise<CredentialRecord[]> {
    return runTransaction(ctx, spec.listCredentialsByIssuer, requestJson, (tx, request) =>
      queries.listCredentialsByIssuer(tx.ctx, tx.caller, request),
    );
  }

  /** An issuer record and every version of its grant. */
  @Transaction(false)
  getIssuer(ctx: Context, requestJson: string): Promise<IssuerDetails> {
    return runTransaction(ctx, spec.getIssuer, requestJson, (tx, request) => queries.getIssuer(tx.ctx, request));
  }

  /** Issuer records, optionally by status or by a credential type they may issue. */
  @Transaction(false)
  listIssuers(ctx: Context, requestJson: string): Promise<IssuerRecord[]> {
    return runTransaction(ctx, spec.listIssuers, requestJson, (tx, request) => queries.listIssuers(tx.ctx, request));
  }
}
