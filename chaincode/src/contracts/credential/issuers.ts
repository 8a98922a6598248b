import type { Party } from '../../model/party';
import {
  credentialTypes,
  type CredentialType,
  type IssuerRecord,
  type IssuerVersionRecord,
} from '../../model/credential-records';
import type { RuleProvenance } from '../../model/provenance';
import { refuse } from '../../ledger/refusal';
import { actorOf, type Tx } from '../../ledger/tx';
import { describeParty, readIssuer, writeIssuer } from './store';

/** An issuer record as a change left it, with the version that records the change. */
export interface IssuerChange {
  readonly issuer: IssuerRecord;
  readonly version: IssuerVersionRecord;
}

/**
 * Whether the issuer is already active with exactly this name and grant (types compared
 * in catalogue order, as they are stored): registering it again would change nothing.
 */
export function holdsExactGrant(
  current: IssuerRecord | undefined,
  request: { displayName: string; credentialTypes: readonly CredentialType[] },
): boolean {
  const granted = credentialTypes.filter((type) => request.credentialTypes.includes(type));
  return (
    current?.status === 'active' &&
    current.displayName === request.displayName &&
    current.credentialTypes.join() === granted.join()
  );
}

/**
 * Registers an issuer, replaces the grant of an active one, or re-registers a removed
 * one. Each call writes a new version of the grant; earlier versions stay readable.
 * The caller emits the event (genesis and governance emit different ones).
 *
 * @throws RefusalError ALREADY_EXISTS when the issuer is already active with exactly this name and grant.
 */
export async function registerIssuer(
  tx: Tx,
  request: { issuer: Party; displayName: string; credentialTypes: readonly CredentialType[] },
  provenance: RuleProvenance,
): Promise<IssuerChange> {
  const current = await readIssuer(tx.ctx, request.issuer);
  // Catalogue order, so that the same grant is always stored the same way.
  const granted = credentialTypes.filter((type) => request.credentialTypes.includes(type));
  if (holdsExactGrant(current, request)) {
    refuse(
      'ALREADY_EXISTS',
      `issuer ${describeParty(request.issuer)} is already active with exactly this name and grant (version ${String(current?.version)})`,
      'issuer',
    );
  }
  const version = (current?.version ?? 0) + 1;
  const record: IssuerRecord = {
    issuer: request.issuer,
    displayName: request.displayName,
    credentialTypes: granted,
    status: 'active',
    version,
    registeredAt: current?.registeredAt ?? tx.at,
    registeredTxId: current?.registeredTxId ?? tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
    provenance,
  };
  return commitIssuerChange(tx, record, {
    issuer: request.issuer,
    status: 'active',
    displayName: request.displayName,
    credentialTypes: granted,
  });
}

/**
 * Removes an issuer: from this transaction on it can issue nothing. Credentials it
 * issued before stay valid, because it was authorised when it issued them.
 *
 * @throws RefusalError NOT_FOUND when the identity was never an issuer; INVALID_STATE when already removed.
 */
export async function removeIssuer(
  tx: Tx,
  request: { issuer: Party; reason: string },
  provenance: RuleProvenance,
): Promise<IssuerChange> {
  const current = await readIssuer(tx.ctx, request.issuer);
  if (current === undefined) {
    refuse('NOT_FOUND', `${describeParty(request.issuer)} has no issuer record`, 'issuer');
  }
  if (current.status === 'removed') {
    refuse(
      'INVALID_STATE',
      `issuer ${describeParty(request.issuer)} was already removed at ${current.updatedAt}`,
      'issuer',
    );
  }
  const version = current.version + 1;
  const record: IssuerRecord = {
    ...current,
    status: 'removed',
    version,
    removal: { reason: request.reason, at: tx.at, txId: tx.txId },
    updatedAt: tx.at,
    updatedTxId: tx.txId,
    provenance,
  };
  return commitIssuerChange(tx, record, {
    issuer: current.issuer,
    status: 'removed',
    displayName: current.displayName,
    credentialTypes: current.credentialTypes,
    reason: request.reason,
  });
}

/**
 * Writes an issuer's new state with the version entry that records the change: the
 * record's version number and rule provenance, the caller as author, the transaction's
 * time and id. Fields keep the order they always had, so a version is stored the same way.
 */
async function commitIssuerChange(
  tx: Tx,
  record: IssuerRecord,
  change: Omit<IssuerVersionRecord, 'version' | 'by' | 'at' | 'txId' | 'provenance'>,
): Promise<IssuerChange> {
  const { issuer, ...state } = change;
  const version: IssuerVersionRecord = {
    issuer,
    version: record.version,
    ...state,
    by: actorOf(tx.caller),
    at: tx.at,
    txId: tx.txId,
    provenance: record.provenance,
  };
  await writeIssuer(tx.ctx, record, version);
  return { issuer: record, version };
}
