import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { readParameter } from './store';

/**
 * Only the settlement service of an organisation the consortium lists may speak for
 * the payment provider; a `settlement` certificate from any other organisation is not
 * enough. Every contract that records provider answers (agreements, licensing) asks here.
 *
 * @throws RefusalError FORBIDDEN naming the caller's organisation and the rule.
 */
export async function requireSettlementOrganisation(tx: Tx, action: string): Promise<void> {
  const allowed = (await readParameter(tx.ctx, 'settlementOrganisations')).value;
  if (!allowed.includes(tx.caller.mspId)) {
    refuse(
      'FORBIDDEN',
      `${tx.caller.mspId} may not ${action}: only the settlement identities of ${allowed.join(', ')} (governed parameter settlementOrganisations) may`,
    );
  }
}
