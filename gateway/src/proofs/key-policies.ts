import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { chaincodeActionOf } from '../chaincode-action.js';

/** The metadata entry under which Fabric keeps a key's state-based endorsement policy. */
export const validationParameterKey = 'VALIDATION_PARAMETER';

/** What one transaction's write set says about a key's key-level policy. */
export type KeyPolicyEvent =
  /** The transaction set the key's policy to these `common.SignaturePolicyEnvelope` bytes. */
  | { readonly kind: 'set'; readonly policy: Uint8Array }
  /** It removed the policy (an empty validation parameter) or deleted the key, which drops its metadata. */
  | { readonly kind: 'cleared' }
  /** It read the key as absent and wrote it: no policy existed before. */
  | { readonly kind: 'created' };

/** The public keys an endorser transaction wrote in one namespace, and whether it wrote private data there. */
export interface WrittenKeys {
  /** Keys with a value write, a delete or a metadata write, in write-set order, each once. */
  readonly keys: readonly string[];
  /** Whether the namespace's write set holds private (hashed) writes, which key-level policies of public keys do not cover. */
  readonly privateWrites: boolean;
}

/**
 * The namespace's read/write sets of every action of an endorser transaction's payload
 * (`common.Payload.data`, a `peer.Transaction`).
 *
 * @throws Error when a nested message does not decode.
 */
export function namespaceSets(payloadData: Uint8Array, namespace: string): ledger.rwset.NsReadWriteSet[] {
  return peer.Transaction.deserializeBinary(payloadData)
    .getActionsList()
    .flatMap((action) => {
      const chaincodeAction = chaincodeActionOf(action);
      return ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8())
        .getNsRwsetList()
        .filter((set) => set.getNamespace() === namespace);
    });
}

/**
 * The keys whose key-level policies Fabric's validator consults for a transaction: every
 * public key of `namespace` it writes, deletes or changes the metadata of.
 *
 * @param payloadData `common.Payload.data` of an endorser transaction.
 * @throws Error when a nested message does not decode.
 */
export function writtenKeys(payloadData: Uint8Array, namespace: string): WrittenKeys {
  const keys = new Set<string>();
  let privateWrites = false;
  for (const set of namespaceSets(payloadData, namespace)) {
    const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8());
    for (const write of kv.getWritesList()) keys.add(write.getKey());
    for (const write of kv.getMetadataWritesList()) keys.add(write.getKey());
    for (const collection of set.getCollectionHashedRwsetList()) {
      const hashed = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(collection.getHashedRwset_asU8());
      if (hashed.getHashedWritesList().length > 0 || hashed.getMetadataWritesList().length > 0) privateWrites = true;
    }
  }
  return { keys: [...keys], privateWrites };
}

/**
 * What an endorser transaction did to a key's key-level policy, if anything: the last
 * word of its write set wins (a metadata write, a delete, or a creation from an absent read).
 *
 * @param payloadData `common.Payload.data` of an endorser transaction.
 * @throws Error when a nested message does not decode.
 */
export function keyPolicyEvent(payloadData: Uint8Array, namespace: string, key: string): KeyPolicyEvent | undefined {
  let event: KeyPolicyEvent | undefined;
  for (const set of namespaceSets(payloadData, namespace)) {
    const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8());
    const written = kv.getWritesList().find((write) => write.getKey() === key);
    if (written?.getIsDelete() === true) event = { kind: 'cleared' };
    else if (written !== undefined && kv.getReadsList().some((read) => read.getKey() === key && !read.hasVersion()))
      event = { kind: 'created' };
    const metadata = kv.getMetadataWritesList().find((write) => write.getKey() === key);
    const parameter = metadata?.getEntriesList().find((entry) => entry.getName() === validationParameterKey);
    if (metadata !== undefined && written?.getIsDelete() !== true) {
      const policy = parameter?.getValue_asU8() ?? new Uint8Array();
      event = policy.length === 0 ? { kind: 'cleared' } : { kind: 'set', policy };
    }
  }
  return event;
}

/** The payload data of an envelope, or undefined when it is not an endorser transaction. */
export function endorserPayloadData(envelope: Uint8Array): Uint8Array | undefined {
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
  );
  return channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION ? payload.getData_asU8() : undefined;
}
