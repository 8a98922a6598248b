import { graphql } from '../gql/index.js';

export const draftAgreement = graphql(`
  mutation DraftAgreement($input: DraftAgreementInput!) {
    draftAgreement(input: $input) {
      transactionId
      blockNumber
      agreement {
        agreementId
        status
      }
    }
  }
`);
