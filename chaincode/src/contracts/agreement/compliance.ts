import type { ComplianceCheck, SettlementInstruction } from '../../model/agreement-records';
import type { Party } from '../../model/party';
import { readCredentialsOfSubject } from '../credential/store';
import { verifyPresentation } from '../credential/verification';
import { readParameter } from '../parameter/store';
import type { Tx } from '../../ledger/tx';

/**
 * Checks, at the transaction's time, whether `payee` may be paid: they must hold a
 * credential of a type the consortium lists in `kycCredentialTypes` that is unexpired,
 * neither suspended nor revoked, and was issued by an issuer authorised for that type
 * when it was issued (the same rules as credential verification). Credentials are read
 * through the holder's own index, so the check reads only the payee's keys.
 *
 * @throws RefusalError PARAMETER_INVALID when `kycCredentialTypes` has never been set.
 */
export async function checkPayeeCompliance(tx: Tx, payee: Party): Promise<ComplianceCheck> {
  const requiredTypes = (await readParameter(tx.ctx, 'kycCredentialTypes')).value;
  const stamp = { requiredTypes: [...requiredTypes], at: tx.at, txId: tx.txId };
  if (requiredTypes.length === 0) {
    return { ...stamp, outcome: 'cleared', reason: 'the consortium requires no KYC credential for payouts' };
  }
  const candidates = (await readCredentialsOfSubject(tx.ctx, payee)).filter((credential) =>
    (requiredTypes as readonly string[]).includes(credential.type),
  );
  const failures: string[] = [];
  for (const credential of candidates) {
    const verdict = await verifyPresentation(tx.ctx, tx.at, {
      credentialId: credential.credentialId,
      revealedClaims: [],
      expectedSubject: payee,
    });
    if (verdict.valid) {
      return {
        ...stamp,
        outcome: 'cleared',
        credentialId: credential.credentialId,
        credentialType: credential.type,
        credentialIssuer: credential.issuer,
        reason: `credential ${credential.credentialId} (${credential.type}) is valid at ${tx.at}`,
      };
    }
    failures.push(
      `${credential.credentialId}: ${verdict.reasons.map((reason) => reason.code.toLowerCase()).join(', ')}`,
    );
  }
  const reason =
    candidates.length === 0
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
