import { createRequire } from 'node:module';
import type * as FabricProtos from '@hyperledger/fabric-protos';

/** A message of the chaincode stream as it arrives from the peer (fabric-protos' `ChaincodeMessage`). */
interface StreamMessage {
  getType(): number;
  getPayload_asU8(): Uint8Array;
}

/** The chaincode fabric-shim calls for each invocation; `Init` and `Invoke` answer a peer `Response`. */
interface ShimChaincode {
  Init: (stub: ShimStub) => Promise<ShimResponse | undefined>;
  Invoke: (stub: ShimStub) => Promise<ShimResponse | undefined>;
}
interface ShimResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}
interface ShimStub {
  readonly channel_id: string;
  readonly txId: string;
}

/** A write that names a key only: a delete or a purge. */
type KeyWrite = (
  this: MessageHandler,
  collection: string,
  key: string,
  channelId: string,
  txId: string,
) => Promise<unknown>;

/** The part of fabric-shim's `ChaincodeMessageHandler` (one per peer stream) this module relies on. */
interface MessageHandler {
  _stream: { on(event: 'data', listener: (message: StreamMessage) => void): void };
  chaincode: ShimChaincode;
  chat: (this: MessageHandler, convStarterMessage: unknown) => void;
  handlePutState: (
    this: MessageHandler,
    collection: string,
    key: string,
    value: Uint8Array,
    channelId: string,
    txId: string,
  ) => Promise<unknown>;
  handleDeleteState: KeyWrite;
  handlePurgeState: KeyWrite;
  handlePutStateMetadata: (
    this: MessageHandler,
    collection: string,
    key: string,
    metakey: string,
    value: Uint8Array,
    channelId: string,
    txId: string,
  ) => Promise<unknown>;
  _askPeerAndListen: (message: unknown, method: string) => Promise<unknown>;
  /** The most records one batch may carry, as the peer announced it; absent when it takes no batches. */
  [batchLimit]?: number;
  /** The writes of each transaction in progress on this stream, by channel and transaction id, in call order. */
  [openBatches]?: Map<string, FabricProtos.peer.WriteRecord[]>;
}

type WriteType = FabricProtos.peer.WriteRecord.TypeMap[keyof FabricProtos.peer.WriteRecord.TypeMap];

const batchLimit = Symbol.for('gigledger.writeBatchLimit');
const openBatches = Symbol.for('gigledger.openWriteBatches');
const installed = Symbol.for('gigledger.writeBatch');

/** fabric-shim's status for a failed invocation (`Stub.RESPONSE_CODE.ERROR`). */
const errorStatus = 500;

/**
 * Makes the chaincode server send each transaction's state writes to the peer in one
 * message when the transaction has run, instead of one message and one answer per write.
 *
 * Fabric peers since v3.1 take a transaction's writes as one `WRITE_BATCH_STATE` message
 * (puts, deletes and purges of public and private keys, and key-level endorsement
 * policies) and say so in the `READY` message that opens each chaincode stream
 * (`ChaincodeAdditionalParams`: `chaincode.runtimeParams.useWriteBatch`, true by default,
 * and `maxSizeWriteBatch`, the most records per message). The Go shim uses it; fabric-shim
 * 2.5 does not, so every `putState` is a round trip on the stream: a protobuf message each
 * way, a goroutine and a transaction-context look-up on the peer, the shim's queue and
 * dispatch here. An agreement's draft writes eleven keys; each command is run by two
 * endorsing peers.
 *
 * A transaction reads the same values either way: a peer's simulator never answers a read
 * from the transaction's own uncommitted writes, so holding them back until the contract
 * has returned changes no read, and the peer applies a batch's records in the order they
 * were made, as it applied the single messages. A write the peer refuses (a collection the
 * caller may not write, say) now fails the transaction as it ends rather than at the call,
 * with the peer's own message; the transaction fails either way. A transaction the
 * contract fails sends no writes at all: the peer would have thrown them away.
 *
 * A peer that does not announce batches (an older release, or `useWriteBatch: false`) gets
 * each write as before.
 *
 * @returns whether this call installed the batching: false when it already was, or when
 * fabric-shim's fabric-protos predates write batches.
 */
export function batchStateWrites(): boolean {
  const fromShim = createRequire(require.resolve('fabric-shim'));
  // fabric-protos' generated classes register in one global namespace, so a second copy
  // beside fabric-shim's would replace the classes its stream checks messages against:
  // only the copy fabric-shim loads is used (the workspace makes that 0.3.7 or later).
  const { peer } = fromShim('@hyperledger/fabric-protos') as typeof FabricProtos;
  if (typeof peer.WriteBatchState !== 'function') return false;
  const { ChaincodeMessageHandler } = fromShim('./lib/handler.js') as {
    ChaincodeMessageHandler: { prototype: MessageHandler & { [installed]?: true } };
  };
  const prototype = ChaincodeMessageHandler.prototype;
  if (prototype[installed]) return false;

  const chat = prototype.chat;
  prototype.chat = function (this: MessageHandler, convStarterMessage: unknown): void {
    this._stream.on('data', (message) => {
      if (message.getType() !== peer.ChaincodeMessage.Type.READY) return;
      const params = peer.ChaincodeAdditionalParams.deserializeBinary(message.getPayload_asU8());
      this[batchLimit] = params.getUseWriteBatch() ? Math.max(1, params.getMaxSizeWriteBatch()) : undefined;
    });
    const chaincode = this.chaincode;
    this.chaincode = {
      Init: (stub) => runBatched(this, stub, () => chaincode.Init.call(chaincode, stub)),
      Invoke: (stub) => runBatched(this, stub, () => chaincode.Invoke.call(chaincode, stub)),
    };
    chat.call(this, convStarterMessage);
  };

  const record = (
    handler: MessageHandler,
    channelId: string,
    txId: string,
    fill: (record: FabricProtos.peer.WriteRecord) => void,
  ): boolean => {
    const batch = handler[openBatches]?.get(channelId + txId);
    if (batch === undefined) return false;
    const entry = new peer.WriteRecord();
    fill(entry);
    batch.push(entry);
    return true;
  };
  // Each write answers what the peer's acknowledgement would have: an empty payload.
  const acknowledged = (): Promise<Buffer> => Promise.resolve(Buffer.alloc(0));

  const { handlePutState, handleDeleteState, handlePurgeState, handlePutStateMetadata } = prototype;
  prototype.handlePutState = function (this: MessageHandler, collection, key, value, channelId, txId) {
    const held = record(this, channelId, txId, (entry) => {
      entry.setType(peer.WriteRecord.Type.PUT_STATE);
      entry.setCollection(collection);
      entry.setKey(key);
      entry.setValue(value);
    });
    return held ? acknowledged() : handlePutState.call(this, collection, key, value, channelId, txId);
  };
  const heldKeyWrite = (
    type: WriteType,
    send: MessageHandler['handleDeleteState'],
  ): MessageHandler['handleDeleteState'] =>
    function (this: MessageHandler, collection, key, channelId, txId) {
      const held = record(this, channelId, txId, (entry) => {
        entry.setType(type);
        entry.setCollection(collection);
        entry.setKey(key);
      });
      return held ? acknowledged() : send.call(this, collection, key, channelId, txId);
    };
  prototype.handleDeleteState = heldKeyWrite(peer.WriteRecord.Type.DEL_STATE, handleDeleteState);
  prototype.handlePurgeState = heldKeyWrite(peer.WriteRecord.Type.PURGE_PRIVATE_DATA, handlePurgeState);
  prototype.handlePutStateMetadata = function (this: MessageHandler, collection, key, metakey, value, channelId, txId) {
    const held = record(this, channelId, txId, (entry) => {
      const metadata = new peer.StateMetadata();
      metadata.setMetakey(metakey);
      metadata.setValue(value);
      entry.setType(peer.WriteRecord.Type.PUT_STATE_METADATA);
      entry.setCollection(collection);
      entry.setKey(key);
      entry.setMetadata(metadata);
    });
    return held ? acknowledged() : handlePutStateMetadata.call(this, collection, key, metakey, value, channelId, txId);
  };

  /**
   * Runs one invocation with its writes held, then sends them in batches of at most the
   * peer's limit before fabric-shim answers COMPLETED.
   */
  async function runBatched(
    handler: MessageHandler,
    stub: ShimStub,
    invoke: () => Promise<ShimResponse | undefined>,
  ): Promise<ShimResponse | undefined> {
    const limit = handler[batchLimit];
    if (limit === undefined) return invoke();
    const batches = (handler[openBatches] ??= new Map());
    const id = stub.channel_id + stub.txId;
    const writes: FabricProtos.peer.WriteRecord[] = [];
    batches.set(id, writes);
    let response: ShimResponse | undefined;
    try {
      response = await invoke();
    } finally {
      batches.delete(id);
    }
    if (response === undefined || !(response.status < 400) || writes.length === 0) return response;
    try {
      for (let start = 0; start < writes.length; start += limit) {
        const batch = new peer.WriteBatchState();
        for (const entry of writes.slice(start, start + limit)) batch.addRec(entry);
        const message = new peer.ChaincodeMessage();
        message.setType(peer.ChaincodeMessage.Type.WRITE_BATCH_STATE);
        message.setPayload(batch.serializeBinary());
        message.setTxid(stub.txId);
        message.setChannelId(stub.channel_id);
        await handler._askPeerAndListen(message, 'WriteBatchState');
      }
    } catch (error) {
      return { status: errorStatus, message: error instanceof Error ? error.message : String(error) };
    }
    return response;
  }

  prototype[installed] = true;
  return true;
}
