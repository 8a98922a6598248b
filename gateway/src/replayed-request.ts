import { common, gateway, ledger, peer } from '@hyperledger/fabric-protos';
import { requestReplayedEvent } from '@gigledger/chaincode/model';
import { chaincodeActionOf } from './chaincode-action.js';

const decoder = new TextDecoder();
/**
 * Protobuf keeps strings and nested messages as raw bytes, so the event's name appears
 * verbatim in the serialised transaction: every command is searched for it (about 1 µs)
 * and only a transaction holding it is decoded (about 10–20 µs).
 */
const replayedEventName = Buffer.from(requestReplayedEvent.name, 'utf8');

/** Whether a transaction's read/write set writes anything: public keys, their metadata, or private data hashes. */
function writesAnything(readWriteSet: ledger.rwset.TxReadWriteSet): boolean {
  return readWriteSet.getNsRwsetList().some((namespaceSet) => {
    const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(namespaceSet.getRwset_asU8());
    if (kv.getWritesList().length > 0 || kv.getMetadataWritesList().length > 0) return true;
    return namespaceSet.getCollectionHashedRwsetList().some((collectionSet) => {
      const hashed = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(collectionSet.getHashedRwset_asU8());
      return hashed.getHashedWritesList().length > 0 || hashed.getMetadataWritesList().length > 0;
    });
  });
}

/**
 * The id of the transaction that acted, when an endorsed transaction only answered a
 * repeated request from storage: the chaincode's event is `request.Replayed` (see
 * `runOnce` in the chaincode) and the read/write set writes nothing. Such a transaction
 * would commit as valid and change nothing, so the caller can answer with the
 * transaction that acted instead of ordering it.
 *
 * @param preparedTransaction fabric-gateway's `Transaction.getBytes()`: a serialised
 *   `gateway.PreparedTransaction` (fabric-protos `gateway/gateway.proto`), whose envelope
 *   holds one endorsed chaincode action.
 * @returns undefined for every other transaction, and for one that is not an endorser
 *   transaction as this chaincode's are.
 */
export function replayedTransactionId(preparedTransaction: Uint8Array): string | undefined {
  const raw = Buffer.from(preparedTransaction.buffer, preparedTransaction.byteOffset, preparedTransaction.byteLength);
  if (!raw.includes(replayedEventName)) return undefined;
  const envelope = gateway.PreparedTransaction.deserializeBinary(preparedTransaction).getEnvelope();
  if (envelope === undefined) return undefined;
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const actions = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList();
  const [action] = actions;
  if (action === undefined || actions.length !== 1) return undefined;
  const chaincodeAction = chaincodeActionOf(action);
  const eventBytes = chaincodeAction.getEvents_asU8();
  if (eventBytes.length === 0) return undefined;
  const event = peer.ChaincodeEvent.deserializeBinary(eventBytes);
  if (event.getEventName() !== requestReplayedEvent.name) return undefined;
  if (writesAnything(ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8())))
    return undefined;
  let announced: unknown;
  try {
    announced = JSON.parse(decoder.decode(event.getPayload_asU8()));
  } catch {
    return undefined;
  }
  const parsed = requestReplayedEvent.payload.safeParse(announced);
  return parsed.success ? parsed.data.txId : undefined;
}
