import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { blockDataHash } from './block-hash.js';
import { definitionFieldKey, lifecycleNamespace } from './lifecycle.js';
import type { ProofBundle } from './proof-bundle.js';

/*
 * Changes to a bundle's transaction that keep it well-formed, for showing what the
 * verifier refuses (its tests, and anyone checking a verifier of their own).
 */

/**
 * A copy of the bundle whose transaction envelope is changed in both places it appears:
 * the bundle's envelope and its entry in the block's data.
 */
export function rewriteEnvelope(bundle: ProofBundle, change: (envelope: common.Envelope) => void): ProofBundle {
  const tampered = structuredClone(bundle);
  const envelope = common.Envelope.deserializeBinary(Buffer.from(tampered.transaction.envelope, 'base64'));
  change(envelope);
  const bytes = envelope.serializeBinary();
  tampered.transaction.envelope = Buffer.from(bytes).toString('base64');
  const data = common.BlockData.deserializeBinary(Buffer.from(tampered.block.data, 'base64'));
  const entries = data.getDataList_asU8();
  entries[tampered.transaction.index] = bytes;
  data.setDataList(entries);
  tampered.block.data = Buffer.from(data.serializeBinary()).toString('base64');
  return tampered;
}

/** An envelope change keeping only the endorsements of the given MSPs (the client's signature then no longer holds). */
export function keepEndorsementsOf(mspIds: readonly string[]): (envelope: common.Envelope) => void {
  return (envelope) => {
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
    for (const action of transaction.getActionsList()) {
      const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      const endorsed = actionPayload.getAction();
      endorsed?.setEndorsementsList(
        endorsed
          .getEndorsementsList()
          .filter((endorsement) =>
            mspIds.includes(msp.SerializedIdentity.deserializeBinary(endorsement.getEndorser_asU8()).getMspid()),
          ),
      );
      action.setPayload(actionPayload.serializeBinary());
    }
    payload.setData(transaction.serializeBinary());
    envelope.setPayload(payload.serializeBinary());
  };
}

/**
 * A copy of the bundle in which the `_lifecycle` transaction that wrote the chaincode's
 * validation parameter (the last `chaincode.definition` entry) says `policy` instead: its
 * write set is rewritten inside its block's data (its signatures then no longer hold).
 * With `rehashHeader`, that block's header in `headers` also gets the new data hash, so
 * that only the orderers' signature over that header (or, in a version 2 bundle, the next
 * header's link to it) can tell.
 */
export function rewriteDefinitionPolicy(
  bundle: ProofBundle,
  policy: peer.ApplicationPolicy,
  options: { rehashHeader?: boolean } = {},
): ProofBundle {
  const tampered = structuredClone(bundle);
  const entry = tampered.chaincode.definition[tampered.chaincode.definition.length - 1];
  if (entry === undefined) return tampered;
  const data = common.BlockData.deserializeBinary(Buffer.from(entry.data, 'base64'));
  const entries = data.getDataList_asU8();
  const envelope = common.Envelope.deserializeBinary(entries[entry.index] ?? new Uint8Array());
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const key = definitionFieldKey(tampered.chaincode.name, 'ValidationInfo');
  for (const action of transaction.getActionsList()) {
    const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const endorsed = actionPayload.getAction();
    if (endorsed === undefined) continue;
    const response = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
    const chaincodeAction = peer.ChaincodeAction.deserializeBinary(response.getExtension_asU8());
    const results = ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8());
    for (const set of results.getNsRwsetList()) {
      if (set.getNamespace() !== lifecycleNamespace) continue;
      const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8());
      for (const write of kv.getWritesList()) {
        if (write.getKey() !== key) continue;
        const state = peer.lifecycle.StateData.deserializeBinary(write.getValue_asU8());
        const info = peer.lifecycle.ChaincodeValidationInfo.deserializeBinary(state.getBytes_asU8());
        info.setValidationParameter(policy.serializeBinary());
        state.setBytes(info.serializeBinary());
        write.setValue(state.serializeBinary());
      }
      set.setRwset(kv.serializeBinary());
    }
    chaincodeAction.setResults(results.serializeBinary());
    response.setExtension$(chaincodeAction.serializeBinary());
    endorsed.setProposalResponsePayload(response.serializeBinary());
    action.setPayload(actionPayload.serializeBinary());
  }
  payload.setData(transaction.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
  entries[entry.index] = envelope.serializeBinary();
  data.setDataList(entries);
  entry.data = Buffer.from(data.serializeBinary()).toString('base64');
  if (options.rehashHeader === true) {
    const at = tampered.headers.findIndex(
      (text) => common.BlockHeader.deserializeBinary(Buffer.from(text, 'base64')).getNumber() === entry.block,
    );
    const header = common.BlockHeader.deserializeBinary(Buffer.from(tampered.headers[at] ?? '', 'base64'));
    header.setDataHash(blockDataHash(data.getDataList_asU8()));
    tampered.headers[at] = Buffer.from(header.serializeBinary()).toString('base64');
    if (tampered.block.number === entry.block) tampered.block.header = tampered.headers[at] ?? tampered.block.header;
  }
  return tampered;
}
