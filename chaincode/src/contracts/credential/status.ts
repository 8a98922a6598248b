import { credentialEvents } from '../../model/credential-events';
import type { CredentialRecord, CredentialStatus } from '../../model/credential-records';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { emitCredentialEvent } from './events';
import { describeParty, readIssuer, requireCredential, requireVisibleCredential, writeCredential } from './store';

export type StatusAction = 'suspend' | 'reinstate' | 'revoke';

const transitions = {
  suspend: { from: ['active'], to: 'suspended', done: 'suspended', event: credentialEvents.credentialSuspended },
  reinstate: { from: ['suspended'], to: 'active', done: 'reinstated', event: credentialEvents.credentialReinstated },
  revoke: { from: ['active', 'suspended'], to: 'revoked', done: 'revoked', event: credentialEvents.credentialRevoked },
} as const satisfies Record<
  StatusAction,
  { from: readonly CredentialStatus[]; to: CredentialStatus; done: string; event: unknown }
>;

/**
 * Suspends, reinstates or revokes a credential, with a reason. Only the identity that
 * issued it may, holding role issuer. An issuer whose record has since been removed may
 * still suspend or revoke what it issued (withdrawing trust stays possible) but may not
 * reinstate (restoring trust needs an active issuer).
 *
 * @throws RefusalError NOT_FOUND when the credential does not exist or the caller may not
 *   read it (one answer for both); FORBIDDEN unless the credential's issuer calls (and, to
 *   reinstate, is still active); INVALID_STATE when the credential's status does not
 *   allow the change (a revoked credential never changes again).
 */
export async function changeStatus(
  tx: Tx,
  action: StatusAction,
  request: { credentialId: string; reason: string },
): Promise<CredentialRecord> {
  const label = `credential ${request.credentialId}`;
  requireUserId(tx.caller, `${action} ${label}`);
  requireRole(tx.caller, ['issuer'], `${action} ${label}`);
  const credential = await requireCredential(tx.ctx, request.credentialId);
  requireVisibleCredential(tx.caller, credential);
  if (!isParty(tx.caller, credential.issuer)) {
    refuse('FORBIDDEN', `only the issuer of ${label} may ${action} it; the caller is ${describeCaller(tx.caller)}`);
  }
  const transition = transitions[action];
  const allowed: readonly CredentialStatus[] = transition.from;
  if (!allowed.includes(credential.status)) {
    refuse(
      'INVALID_STATE',
      `${label} is ${credential.status}, not ${allowed.join(' or ')}, so it cannot be ${transition.done}`,
      'credentialId',
    );
  }
  if (action === 'reinstate') {
    const issuer = await readIssuer(tx.ctx, credential.issuer);
    if (issuer?.status !== 'active') {
      refuse(
        'FORBIDDEN',
        `the issuer record of ${describeParty(credential.issuer)} is no longer active, so it may not reinstate ${label}`,
      );
    }
  }
  const updated: CredentialRecord = {
    ...credential,
    status: transition.to,
    statusHistory: [
      ...credential.statusHistory,
      { from: credential.status, to: transition.to, reason: request.reason, at: tx.at, txId: tx.txId },
    ],
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeCredential(tx.ctx, updated);
  emitCredentialEvent(tx, transition.event, {
    credentialId: updated.credentialId,
    credential: updated,
    previousStatus: credential.status,
    reason: request.reason,
  });
  return updated;
}
