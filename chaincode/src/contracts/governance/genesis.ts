import type { RuleProvenance } from '../../model/provenance';
import { requireRole } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { actorOf, type Tx } from '../../ledger/tx';
import { readGenesis } from './store';

/**
 * The bootstrap path: an administrator sets the consortium's first rules while the
 * network is created. Once genesis is sealed the same change needs an executed proposal.
 *
 * @throws RefusalError FORBIDDEN unless the caller is an admin; GOVERNANCE_REQUIRED once genesis is sealed.
 */
export async function requireGenesisAdmin(tx: Tx, action: string): Promise<RuleProvenance> {
  requireRole(tx.caller, ['admin'], action);
  const genesis = await readGenesis(tx.ctx);
  if (genesis.sealed) {
    refuse(
      'GOVERNANCE_REQUIRED',
      `genesis was sealed at ${genesis.seal?.sealedAt ?? 'an earlier time'}; since then only an executed governance proposal may ${action}`,
    );
  }
  return { source: 'genesis', by: actorOf(tx.caller), at: tx.at, txId: tx.txId };
}
