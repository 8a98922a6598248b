import { common, gateway, ledger, peer } from '@hyperledger/fabric-protos';

const encoder = new TextEncoder();

/** What an endorsed transaction built by {@link preparedTransactionBytes} holds. */
export interface PreparedTransactionParts {
  readonly event?: { readonly name: string; readonly payload: unknown };
  /** Public keys the transaction writes, in namespace `gigledger`. */
  readonly writes?: readonly string[];
  /** Private data key hashes the transaction writes, in collection `agreementTerms`. */
  readonly privateWrites?: readonly string[];
}

function readWriteSet(parts: PreparedTransactionParts): Uint8Array {
  const kv = new ledger.rwset.kvrwset.KVRWSet();
  const read = new ledger.rwset.kvrwset.KVRead();
  read.setKey('request/x');
  kv.setReadsList([read]);
  kv.setWritesList(
    (parts.writes ?? []).map((key) => {
      const write = new ledger.rwset.kvrwset.KVWrite();
      write.setKey(key);
      write.setValue(encoder.encode('{}'));
      return write;
    }),
  );
  const namespaceSet = new ledger.rwset.NsReadWriteSet();
  namespaceSet.setNamespace('gigledger');
  namespaceSet.setRwset(kv.serializeBinary());
  if (parts.privateWrites !== undefined) {
    const hashed = new ledger.rwset.kvrwset.HashedRWSet();
    hashed.setHashedWritesList(
      parts.privateWrites.map((key) => {
        const write = new ledger.rwset.kvrwset.KVWriteHash();
        write.setKeyHash(encoder.encode(key));
        return write;
      }),
    );
    const collectionSet = new ledger.rwset.CollectionHashedReadWriteSet();
    collectionSet.setCollectionName('agreementTerms');
    collectionSet.setHashedRwset(hashed.serializeBinary());
    namespaceSet.setCollectionHashedRwsetList([collectionSet]);
  }
  const set = new ledger.rwset.TxReadWriteSet();
  set.setNsRwsetList([namespaceSet]);
  return set.serializeBinary();
}

/**
 * An endorser transaction (a `peer.Transaction`, an envelope payload's data) holding one
 * endorsed action: `chaincodeAction` as the endorsers' response, and the invocation when
 * given (unsigned, no endorsements: nothing here checks signatures).
 */
export function endorserTransaction(
  chaincodeAction: peer.ChaincodeAction,
  proposalPayload?: peer.ChaincodeProposalPayload,
): peer.Transaction {
  const responsePayload = new peer.ProposalResponsePayload();
  responsePayload.setExtension$(chaincodeAction.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(responsePayload.serializeBinary());
  const actionPayload = new peer.ChaincodeActionPayload();
  if (proposalPayload !== undefined) actionPayload.setChaincodeProposalPayload(proposalPayload.serializeBinary());
  actionPayload.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([action]);
  return transaction;
}

/**
 * A serialised `gateway.PreparedTransaction` as fabric-gateway's `Transaction.getBytes()`
 * returns it: an envelope with one endorsed chaincode action carrying `parts`, unsigned
 * (nothing here checks signatures).
 */
export function preparedTransactionBytes(transactionId: string, parts: PreparedTransactionParts = {}): Uint8Array {
  const chaincodeAction = new peer.ChaincodeAction();
  chaincodeAction.setResults(readWriteSet(parts));
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(encoder.encode('{}'));
  chaincodeAction.setResponse(response);
  if (parts.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId('gigledger');
    event.setTxId(transactionId);
    event.setEventName(parts.event.name);
    event.setPayload(encoder.encode(JSON.stringify(parts.event.payload)));
    chaincodeAction.setEvents(event.serializeBinary());
  }
  const payload = new common.Payload();
  payload.setData(endorserTransaction(chaincodeAction).serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  const prepared = new gateway.PreparedTransaction();
  prepared.setTransactionId(transactionId);
  prepared.setEnvelope(envelope);
  return prepared.serializeBinary();
}
