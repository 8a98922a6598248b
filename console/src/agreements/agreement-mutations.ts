import { graphql } from '../gql/index.js';

export const acceptAgreement = graphql(`
  mutation AcceptAgreement($input: AcceptAgreementInput!) {
    acceptAgreement(input: $input) {
      transactionId
    }
  }
`);

export const declineAgreement = graphql(`
  mutation DeclineAgreement($input: AgreementReasonInput!) {
    declineAgreement(input: $input) {
      transactionId
    }
  }
`);

export const fundMilestone = graphql(`
  mutation FundMilestone($input: CreatingMilestoneInput!) {
    fundMilestone(input: $input) {
      transactionId
    }
  }
`);

export const submitDeliverable = graphql(`
  mutation SubmitDeliverable($input: SubmitDeliverableInput!) {
    submitDeliverable(input: $input) {
      transactionId
    }
  }
`);

export const acceptMilestone = graphql(`
  mutation AcceptMilestone($input: MilestoneRefInput!) {
    acceptMilestone(input: $input) {
      transactionId
    }
  }
`);

export const rejectDeliverable = graphql(`
  mutation RejectDeliverable($input: MilestoneReasonInput!) {
    rejectDeliverable(input: $input) {
      transactionId
    }
  }
`);

export const claimAcceptance = graphql(`
  mutation ClaimAcceptance($input: MilestoneRefInput!) {
    claimAcceptance(input: $input) {
      transactionId
    }
  }
`);

export const releaseMilestone = graphql(`
  mutation ReleaseMilestone($input: CreatingMilestoneInput!) {
    releaseMilestone(input: $input) {
      transactionId
    }
  }
`);

export const openDispute = graphql(`
  mutation OpenDispute($input: OpenDisputeInput!) {
    openDispute(input: $input) {
      transactionId
    }
  }
`);

export const reissueFailedPayout = graphql(`
  mutation ReissueFailedPayout($input: RetryHeldPayoutInput!) {
    reissueFailedPayout(input: $input) {
      transactionId
    }
  }
`);

export const retryHeldPayout = graphql(`
  mutation RetryHeldPayout($input: RetryHeldPayoutInput!) {
    retryHeldPayout(input: $input) {
      transactionId
    }
  }
`);

export const postEvaluation = graphql(`
  mutation PostEvaluation($input: PostEvaluationInput!) {
    postEvaluation(input: $input) {
      transactionId
    }
  }
`);

export const castDisputeVote = graphql(`
  mutation CastDisputeVote($input: CastDisputeVoteInput!) {
    castDisputeVote(input: $input) {
      transactionId
    }
  }
`);
