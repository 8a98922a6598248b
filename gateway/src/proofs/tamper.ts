import { common, msp, peer } from '@hyperledger/fabric-protos';
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
