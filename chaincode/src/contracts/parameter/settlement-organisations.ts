import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { readParameter } from './store';

/**
 * What an instruction records of the transaction that issues it: when, which
 * transaction, and which organisation's settlement service sends it.
 */
export interface InstructionIssue {
  readonly at: string;
  readonly txId: string;
  /** The first of the governed `settlementOrganisations` now. */
  readonly settlingOrganisation: string;
}

/**
 * The issue of instructions in this transaction. Each organisation that
 * `settlementOrganisations` lists may run a settlement service, and every service follows
 * every instruction event; each instruction therefore names the one organisation whose
 * service sends it (the first listed when it is issued, so that governance hands new
 * instructions over by reordering the list), and the others leave it alone.
 */
export async function instructionIssue(tx: Tx): Promise<InstructionIssue> {
  const [first] = (await readParameter(tx.ctx, 'settlementOrganisations')).value;
  // The parameter's schema requires at least one organisation.
  if (first === undefined) throw new Error('settlementOrganisations names no organisation');
  return { at: tx.at, txId: tx.txId, settlingOrganisation: first };
}

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
