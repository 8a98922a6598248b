import type { ComplianceCheck, SettlementInstruction } from '../../model/agreement-records';
import type { Party } from '../../model/party';
import type { CredentialRecord } from '../../model/credential-records';
import { readCredentialsOfSubjectByType, readOlderCredentialsOfSubject } from '../credential/store';
import { verifyPresentation } from '../credential/verification';
import { readParameter } from '../parameter/store';
import type { Tx } from '../../ledger/tx';

/**
 * Checks, at the transaction's time, whether `payee` may be paid: they must hold a
 * credential of a type the consortium lists in `kycCredentialTypes` that is unexpired,
 * neither suspended nor revoked, and was issued by an issuer authorised for that type
 * when it was issued (the same rules as credential verification).
 *
 * Credentials are read through the payee's own index by type, one range per required
 * type: a credential of another type issued to the payee while the release is in flight
 * does not invalidate it (a phantom read conflict would). Only when none of those is
 * valid are the payee's credentials from before that index existed looked for too,
 * which ranges over all of the payee's credentials: on a ledger upgraded from an older
 * chaincode version, a payee whose KYC credential predates the index is still cleared.
 *
 * @throws RefusalError PARAMETER_INVALID when `kycCredentialTypes` has never been set.
 */
export async function checkPayeeCompliance(tx: Tx, payee: Party): Promise<ComplianceCheck> {
  const requiredTypes = (await readParameter(tx.ctx, 'kycCredentialTypes')).value;
  const stamp = { requiredTypes: [...requiredTypes], at: tx.at, txId: tx.txId };
  if (requiredTypes.length === 0) {
    return { ...stamp, outcome: 'cleared', reason: 'the consortium requires no KYC credential for payouts' };
  }
  const failures: string[] = [];
  const firstValid = async (credentials: readonly CredentialRecord[]) => {
    for (const credential of credentials) {
      const verdict = await verifyPresentation(tx.ctx, tx.at, {
        credentialId: credential.credentialId,
        revealedClaims: [],
        expectedSubject: payee,
      });
      if (verdict.valid) return credential;
      failures.push(
        `${credential.credentialId}: ${verdict.reasons.map((reason) => reason.code.toLowerCase()).join(', ')}`,
      );
    }
    return undefined;
  };
  const typed = await readCredentialsOfSubjectByType(tx.ctx, payee, requiredTypes);
  const cleared =
    (await firstValid(typed)) ?? (await firstValid(await readOlderCredentialsOfSubject(tx.ctx, payee, requiredTypes)));
  if (cleared !== undefined) {
    return {
      ...stamp,
      outcome: 'cleared',
      credentialId: cleared.credentialId,
      credentialType: cleared.type,
      credentialIssuer: cleared.issuer,
      reason: `credential ${cleared.credentialId} (${cleared.type}) is valid at ${tx.at}`,
    };
  }
  const reason =
    failures.length === 0
      ? `the payee holds no ${requiredTypes.join(' or ')} credential`
      : `no ${requiredTypes.join(' or ')} credential of the payee is valid (${failures.join('; ')})`;
  return { ...stamp, outcome: 'held', reason };
}

/**
 * Runs the compliance check on every payout to the freelancer among `instructions`
 * (refunds return the client's own money and are not checked) and marks each
 * `pending` when cleared or `held` when not. The check runs once for all of them:
 * they share one payee and one transaction time.
 */
export async function screenPayouts(
  tx: Tx,
  instructions: readonly SettlementInstruction[],
): Promise<SettlementInstruction[]> {
  const payouts = instructions.filter((instruction) => instruction.kind === 'release');
  const [first] = payouts;
  if (first === undefined) return [...instructions];
  const check = await checkPayeeCompliance(tx, first.payee);
  return instructions.map((instruction) =>
    instruction.kind === 'release'
      ? { ...instruction, status: check.outcome === 'cleared' ? 'pending' : 'held', compliance: check }
      : instruction,
  );
}
