import { graphql } from '../gql/index.js';

/** The channel's height as the peer reports it, beside the index's (the index lags by the difference). */
export const ledgerHeights = graphql(`
  query ExplorerHeights {
    ledgerHeights {
      channelHeight
      indexedHeight
    }
  }
`);

/** One page of blocks, newest first, by the index's Relay cursor. */
export const blockPage = graphql(`
  query ExplorerBlocks($first: Int!, $after: String) {
    indexedBlocks(direction: DESC, first: $first, after: $after) {
      totalCount
      indexedHeight
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          blockNumber
          hash
          transactionCount
          transactions {
            transactionId
            validationName
          }
        }
      }
    }
  }
`);

/** What the block and transaction pages show of every transaction. */
export const transactionSummary = graphql(`
  fragment TransactionSummary on IndexedTransaction {
    transactionId
    position
    headerType
    creatorMspId
    validationCode
    validationName
    timestamp
    chaincode
    function
  }
`);

/** One block with its transactions, found by number through the block filter. */
export const blockByNumber = graphql(`
  query ExplorerBlock($blockNumber: Int!) {
    indexedBlocks(filter: { fromBlock: $blockNumber, toBlock: $blockNumber }, first: 1) {
      edges {
        node {
          blockNumber
          hash
          previousHash
          dataHash
          transactionCount
          transactions {
            ...TransactionSummary
          }
        }
      }
    }
  }
`);

/** One transaction with its read/write set summary (keys only; private ones as hashes). */
export const transactionById = graphql(`
  query ExplorerTransaction($transactionId: ID!) {
    indexedTransaction(transactionId: $transactionId) {
      ...TransactionSummary
      blockNumber
      keys {
        namespace
        collection
        access
        key
        keyParts
        keyHash
        valueHash
      }
    }
  }
`);
