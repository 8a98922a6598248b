import type { Network } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import { endorserPayloadData, keyPolicyEvent, writtenKeys } from './key-policies.js';
import { proofFormat, proofVersion, type ProofBundle } from './proof-bundle.js';

/** The peer knows no committed transaction with this id. */
export class TransactionNotFoundError extends Error {
  constructor(
    readonly transactionId: string,
    options?: ErrorOptions,
  ) {
    super(`no committed transaction ${transactionId} on the channel`, options);
    this.name = 'TransactionNotFoundError';
  }
}

/** Exports proof bundles for committed transactions of one chaincode. */
export interface ProofExporter {
  /**
   * Builds the proof bundle of a committed transaction from the peer's ledger, anchored
   * on the channel's newest block.
   *
   * @throws TransactionNotFoundError when the peer knows no such transaction.
   * @throws Error when the peer cannot be reached or answers something unexpected.
   */
  exportProof(transactionId: string): Promise<ProofBundle>;
}

/** Blocks read at once while collecting the header chain. */
const headerBatch = 8;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function validationCodeName(code: number): string {
  return Object.entries(peer.TxValidationCode).find(([, value]) => value === code)?.[0] ?? `CODE_${code}`;
}

type KeyPolicyEntry = NonNullable<ProofBundle['keyPolicies']>[number];

/**
 * The transactions that set the key-level policies in force for the keys a transaction
 * wrote, found by walking the ledger backwards from it: for each key, the nearest earlier
 * VALID transaction whose write set sets its `VALIDATION_PARAMETER` (an entry), clears it,
 * deletes the key or creates it from an absent read (no policy: no entry). A key never
 * touched so is searched down to block 0.
 */
async function keyPolicySetters(
  block: common.Block,
  index: number,
  namespace: string,
  payloadData: Uint8Array,
  blockByNumber: (number: number) => Promise<common.Block>,
): Promise<KeyPolicyEntry[]> {
  const pending = new Set(writtenKeys(payloadData, namespace).keys);
  const found: KeyPolicyEntry[] = [];
  const visit = (each: common.Block, before: number) => {
    const number = each.getHeader()?.getNumber() ?? 0;
    const entries = each.getData()?.getDataList_asU8() ?? [];
    const flags = each.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
    for (let position = Math.min(before, entries.length) - 1; position >= 0 && pending.size > 0; position -= 1) {
      const envelope = entries[position];
      if (envelope === undefined || flags?.[position] !== peer.TxValidationCode.VALID) continue;
      const data = endorserPayloadData(envelope);
      if (data === undefined) continue;
      for (const key of [...pending]) {
        const event = keyPolicyEvent(data, namespace, key);
        if (event === undefined) continue;
        pending.delete(key);
        if (event.kind === 'set') {
          const payload = common.Payload.deserializeBinary(
            common.Envelope.deserializeBinary(envelope).getPayload_asU8(),
          );
          const transactionId = common.ChannelHeader.deserializeBinary(
            payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
          ).getTxId();
          found.push({
            namespace,
            key,
            setBy: { transactionId, block: number, index: position, envelope: base64(envelope) },
          });
        }
      }
    }
  };
  visit(block, index);
  for (let next = (block.getHeader()?.getNumber() ?? 0) - 1; next >= 0 && pending.size > 0; next -= headerBatch) {
    const numbers = Array.from({ length: Math.min(headerBatch, next + 1) }, (_, at) => next - at);
    const blocks = await Promise.all(numbers.map(blockByNumber));
    for (const each of blocks) if (pending.size > 0) visit(each, Number.MAX_SAFE_INTEGER);
  }
  return found.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Reads everything a proof needs through system chaincodes, evaluated on a peer with the
 * caller's identity: blocks and the channel height from `qscc` (GetBlockByTxID,
 * GetBlockByNumber, GetChainInfo), the chaincode definition's endorsement policy from
 * `_lifecycle` (QueryChaincodeDefinition), and the transactions that set the key-level
 * policies of the keys it wrote (see {@link keyPolicySetters}). The latest configuration block is the one the
 * newest block's orderer metadata names (`OrdererBlockMetadata.last_config`).
 */
export function qsccProofExporter(network: Network, chaincodeName: string): ProofExporter {
  const qscc = network.getContract('qscc');
  const lifecycle = network.getContract('_lifecycle');
  const channel = network.getName();
  const blockByNumber = async (number: number) =>
    common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', channel, String(number)));
  const signaturesOf = (block: common.Block) =>
    block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.SIGNATURES] ?? new Uint8Array();

  return {
    async exportProof(transactionId) {
      let blockBytes: Uint8Array;
      try {
        blockBytes = await qscc.evaluateTransaction('GetBlockByTxID', channel, transactionId);
      } catch (error) {
        // qscc answers an unknown id with an endorsement error naming the missing transaction.
        const details = JSON.stringify(error, Object.getOwnPropertyNames(error));
        if (/no such transaction|not found|does not exist/i.test(details))
          throw new TransactionNotFoundError(transactionId, { cause: error });
        throw error;
      }
      const block = common.Block.deserializeBinary(blockBytes);
      const header = block.getHeader();
      const data = block.getData();
      if (header === undefined || data === undefined)
        throw new Error(`the block of ${transactionId} has no header or data`);
      const entries = data.getDataList_asU8();
      const index = entries.findIndex((entry) => {
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(entry).getPayload_asU8());
        return (
          common.ChannelHeader.deserializeBinary(
            payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
          ).getTxId() === transactionId
        );
      });
      const envelope = entries[index];
      if (envelope === undefined) throw new TransactionNotFoundError(transactionId);
      const flags = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
      const flag = flags?.[index];
      if (flag === undefined)
        throw new Error(`block ${header.getNumber()} has no validation flag for ${transactionId}`);

      const payloadData = endorserPayloadData(envelope);
      const keyPolicies =
        payloadData === undefined
          ? []
          : await keyPolicySetters(block, index, chaincodeName, payloadData, blockByNumber);

      const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', channel));
      const signedNumber = info.getHeight() - 1;
      const signed = signedNumber === header.getNumber() ? block : await blockByNumber(signedNumber);
      const signatures = common.Metadata.deserializeBinary(signaturesOf(signed));
      const configNumber =
        common.OrdererBlockMetadata.deserializeBinary(signatures.getValue_asU8()).getLastConfig()?.getIndex() ?? 0;
      const configBlock = await blockByNumber(configNumber);

      const from = Math.min(header.getNumber(), configNumber);
      const known = new Map([
        [header.getNumber(), block],
        [configNumber, configBlock],
        [signedNumber, signed],
      ]);
      const headers: string[] = [];
      // A few blocks at a time: one query per block, without flooding the peer on a long chain.
      for (let start = from; start <= signedNumber; start += headerBatch) {
        const numbers = Array.from({ length: Math.min(headerBatch, signedNumber - start + 1) }, (_, at) => start + at);
        const blocks = await Promise.all(numbers.map(async (number) => known.get(number) ?? blockByNumber(number)));
        blocks.forEach((each, at) => {
          const eachHeader = each.getHeader();
          if (eachHeader === undefined) throw new Error(`block ${start + at} has no header`);
          headers.push(base64(eachHeader.serializeBinary()));
        });
      }

      const query = new peer.lifecycle.QueryChaincodeDefinitionArgs();
      query.setName(chaincodeName);
      const definition = peer.lifecycle.QueryChaincodeDefinitionResult.deserializeBinary(
        await lifecycle.evaluateTransaction('QueryChaincodeDefinition', query.serializeBinary()),
      );
      const policy = peer.ApplicationPolicy.deserializeBinary(definition.getValidationParameter_asU8());
      const signaturePolicy = policy.getSignaturePolicy();
      return {
        format: proofFormat,
        version: proofVersion,
        channel,
        transactionId,
        exportedAt: new Date().toISOString(),
        transaction: { index, envelope: base64(envelope) },
        block: {
          number: header.getNumber(),
          header: base64(header.serializeBinary()),
          data: base64(data.serializeBinary()),
          signatures: base64(signaturesOf(block)),
          validationCode: validationCodeName(flag),
        },
        headers,
        signedBlock: { number: signedNumber, signatures: base64(signaturesOf(signed)) },
        config: {
          blockNumber: configNumber,
          data: base64(configBlock.getData()?.serializeBinary() ?? new Uint8Array()),
        },
        chaincode: {
          name: chaincodeName,
          version: definition.getVersion(),
          sequence: definition.getSequence(),
          endorsementPolicy:
            signaturePolicy !== undefined
              ? { signaturePolicy: base64(signaturePolicy.serializeBinary()) }
              : { channelConfigPolicyReference: policy.getChannelConfigPolicyReference() },
        },
        keyPolicies,
      };
    },
  };
}
