import { graphql } from '../gql/index.js';

/** Everything the agreement page shows; refetched whole after each committed event. */
export const agreementPage = graphql(`
  query AgreementPage($id: ID!) {
    agreement(id: $id) {
      agreementId
      title
      status
      termsSha256
      revisionLimit
      createdAt
      acceptedAt
      updatedAt
      completed
      client {
        mspId
        userId
      }
      freelancer {
        mspId
        userId
      }
      evaluator {
        mspId
        userId
      }
      declined {
        reason
        at
      }
      cancellation {
        reason
        at
      }
      milestones {
        agreementId
        milestoneId
        position
        kind
        title
        amount
        currency
        dueDate
        reviewWindowSeconds
        status
        createdAt
        fundedAt
        rejectionCount
        acceptanceCriteria {
          description
          thresholds {
            metric
            operator
            value
          }
          evaluationDataset
        }
        submissions {
          number
          artifactSha256
          uri
          note
          claimedMetrics
          evaluations {
            evaluator {
              userId
            }
            results {
              metric
              operator
              threshold
              measured
              met
            }
            allThresholdsMet
            at
          }
          submittedAt
          reviewDeadline
          late
          rejection {
            reason
            at
          }
        }
        acceptance {
          by
          at
        }
        dispute {
          openedBy
          reason
          openedAt
          panel {
            mspId
            userId
          }
          votes {
            arbitrator {
              userId
            }
            clientShare
            freelancerShare
            reason
            at
          }
          supersededVotes {
            arbitrator {
              userId
            }
            clientShare
            freelancerShare
            at
          }
          decision {
            clientShare
            freelancerShare
            at
          }
        }
        instructions {
          instructionId
          kind
          cause
          amount
          platformFee
          currency
          status
          requestedAt
          reissueOf
          reissuedAs
          compliance {
            outcome
            reason
          }
          confirmation {
            outcome
            reason
            at
          }
        }
      }
    }
  }
`);

export const agreementEvents = graphql(`
  subscription AgreementActivity($agreementId: ID!) {
    agreementEvents(agreementId: $agreementId) {
      name
      transactionId
      blockNumber
      payload
      actor {
        mspId
        userId
        role
      }
    }
  }
`);

/**
 * Whether every milestone has reached a final state, in the words of the list's
 * completion filter; shown beside the ledger's status, which stays `active` after the
 * last payment.
 */
export function workState(completed: boolean): 'completed' | 'open' {
  return completed ? 'completed' : 'open';
}
