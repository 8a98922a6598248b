import { peer } from '@hyperledger/fabric-protos';

/**
 * What the endorsers answered for one action of an endorser transaction: the
 * `peer.ChaincodeAction` (read/write set, event, response, chaincode id) inside the
 * endorsed action's proposal response payload (fabric-protos `peer/transaction.proto`,
 * `peer/proposal_response.proto`). A part that is missing decodes as empty, so a caller
 * reading it finds no results, no event and no chaincode id rather than an error.
 *
 * @throws Error when a nested message does not decode.
 */
export function endorsedChaincodeAction(actionPayload: peer.ChaincodeActionPayload): peer.ChaincodeAction {
  const responsePayload = peer.ProposalResponsePayload.deserializeBinary(
    actionPayload.getAction()?.getProposalResponsePayload_asU8() ?? new Uint8Array(),
  );
  return peer.ChaincodeAction.deserializeBinary(responsePayload.getExtension_asU8());
}

/** {@link endorsedChaincodeAction} of a transaction action, or of an empty one when there is none. */
export function chaincodeActionOf(action: peer.TransactionAction | undefined): peer.ChaincodeAction {
  return endorsedChaincodeAction(
    peer.ChaincodeActionPayload.deserializeBinary(action?.getPayload_asU8() ?? new Uint8Array()),
  );
}
