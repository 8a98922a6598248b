import type { LedgerBlocks } from '@gigledger/gateway';

/**
 * Blocks of the in-memory test ledger, numbered the way its transport reports
 * `blockNumber` on submit: the n-th transaction the ledger ran sits in block n, one
 * transaction a block, block 0 being the genesis block.
 */
export function inMemoryLedgerBlocks(ledger: {
  readonly transactions: readonly { readonly txId: string }[];
}): LedgerBlocks {
  return {
    blockNumberOf(transactionId: string): Promise<bigint> {
      const index = ledger.transactions.findIndex((transaction) => transaction.txId === transactionId);
      if (index < 0) return Promise.reject(new Error(`no transaction ${transactionId} on the test ledger`));
      return Promise.resolve(BigInt(index + 1));
    },
    height(): Promise<bigint> {
      return Promise.resolve(BigInt(ledger.transactions.length + 1));
    },
  };
}
