import { type ProofBundle, type ProofExporter } from '@gigledger/gateway';
import { bundleLocation } from '../proofs/bundle-transaction.js';

/**
 * A proof exporter standing in for the peer with bundles exported from a real network:
 * `locate` answers from the bundle's block as the peer's would, `exportProof` a copy of
 * the bundle. `bundleOf` rejects as the peer would (TransactionNotFoundError, or a
 * connection error).
 */
export function bundleExporter(bundleOf: (transactionId: string) => Promise<ProofBundle>): ProofExporter {
  return {
    locate: async (transactionId) => bundleLocation(await bundleOf(transactionId)),
    exportProof: async (transactionId) => structuredClone(await bundleOf(transactionId)),
  };
}
