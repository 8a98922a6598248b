import { ledger, peer } from '@hyperledger/fabric-protos';
import { namespaceSets } from './key-policies.js';

/** The system namespace in which Fabric's `_lifecycle` keeps committed chaincode definitions. */
export const lifecycleNamespace = '_lifecycle';

/**
 * The key under which `_lifecycle` keeps one field of a chaincode's committed definition
 * (Fabric's `lifecycle.Serializer`: `namespaces/fields/<chaincode>/<Field>`).
 */
export function definitionFieldKey(chaincode: string, field: 'Sequence' | 'ValidationInfo'): string {
  return `namespaces/fields/${chaincode}/${field}`;
}

/** A place on the ledger: block number and position of a transaction in its block's data. */
export interface LedgerVersion {
  readonly block: number;
  readonly index: number;
}

/**
 * The version at which an endorser transaction read a public key (the block and position
 * of the transaction that last wrote it), `null` when it read the key as absent, or
 * undefined when it did not read it.
 *
 * @param payloadData `common.Payload.data` of an endorser transaction.
 * @throws Error when a nested message does not decode.
 */
export function readVersion(payloadData: Uint8Array, namespace: string, key: string): LedgerVersion | null | undefined {
  for (const set of namespaceSets(payloadData, namespace)) {
    const read = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8())
      .getReadsList()
      .find((each) => each.getKey() === key);
    if (read === undefined) continue;
    const version = read.getVersion();
    return version === undefined ? null : { block: version.getBlockNum(), index: version.getTxNum() };
  }
  return undefined;
}

/** What a `_lifecycle` transaction wrote of one chaincode's definition. */
export interface DefinitionWrites {
  /** The sequence it committed, when it wrote `namespaces/fields/<chaincode>/Sequence`. */
  readonly sequence?: number;
  /**
   * The `peer.ApplicationPolicy` it committed as the definition's validation parameter,
   * when it wrote `namespaces/fields/<chaincode>/ValidationInfo`.
   */
  readonly policy?: peer.ApplicationPolicy;
}

/**
 * The chaincode definition fields a `_lifecycle` transaction (CommitChaincodeDefinition)
 * wrote: each value is a `lifecycle.StateData` (Int64 for the sequence; Bytes holding a
 * `lifecycle.ChaincodeValidationInfo` whose parameter is a `peer.ApplicationPolicy`).
 *
 * @param payloadData `common.Payload.data` of an endorser transaction.
 * @throws Error when a nested message does not decode.
 */
export function definitionWrites(payloadData: Uint8Array, chaincode: string): DefinitionWrites {
  let sequence: number | undefined;
  let policy: peer.ApplicationPolicy | undefined;
  for (const set of namespaceSets(payloadData, lifecycleNamespace)) {
    for (const write of ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8()).getWritesList()) {
      if (write.getIsDelete()) continue;
      if (write.getKey() === definitionFieldKey(chaincode, 'Sequence'))
        sequence = peer.lifecycle.StateData.deserializeBinary(write.getValue_asU8()).getInt64();
      if (write.getKey() === definitionFieldKey(chaincode, 'ValidationInfo')) {
        const info = peer.lifecycle.ChaincodeValidationInfo.deserializeBinary(
          peer.lifecycle.StateData.deserializeBinary(write.getValue_asU8()).getBytes_asU8(),
        );
        policy = peer.ApplicationPolicy.deserializeBinary(info.getValidationParameter_asU8());
      }
    }
  }
  return { ...(sequence === undefined ? {} : { sequence }), ...(policy === undefined ? {} : { policy }) };
}
