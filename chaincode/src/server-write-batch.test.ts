import { createRequire } from 'node:module';
import net from 'node:net';
import { peer } from '@hyperledger/fabric-protos';
import { batchStateWrites } from './server-write-batch';

/** The stub fabric-shim hands a chaincode (`ChaincodeStub`), as far as these tests use it. */
interface Stub {
  readonly txId: string;
  putState(key: string, value: Buffer): Promise<unknown>;
  deleteState(key: string): Promise<unknown>;
  putPrivateData(collection: string, key: string, value: Buffer): Promise<unknown>;
  purgePrivateData(collection: string, key: string): Promise<unknown>;
  setStateValidationParameter(key: string, policy: Buffer): Promise<unknown>;
  getState(key: string): Promise<Buffer>;
}
type Invocation = (stub: Stub) => Promise<{ status: number; message?: string }>;

interface GrpcStream {
  write(message: peer.ChaincodeMessage): void;
  end(): void;
  on(event: 'data', listener: (message: peer.ChaincodeMessage) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface Grpc {
  makeGenericClientConstructor(
    service: unknown,
    name: string,
  ): new (address: string, credentials: unknown) => { connect(): GrpcStream; close(): void };
  credentials: { createInsecure(): unknown };
}

const fromShim = createRequire(require.resolve('fabric-shim'));
const grpc = fromShim('@grpc/grpc-js') as Grpc;
const shim = fromShim('fabric-shim') as {
  server(
    chaincode: object,
    options: { ccid: string; address: string },
  ): { start(): Promise<void>; _server: { forceShutdown(): void } };
};
const ChaincodeClient = grpc.makeGenericClientConstructor(peer.ChaincodeService, 'Chaincode');
const Type = peer.ChaincodeMessage.Type;
type MessageType = (typeof Type)[keyof typeof Type];

interface Sent {
  type: number;
  txId: string;
  payload: Uint8Array;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real fabric-shim chaincode server on a loopback port and a peer connected to it over
 * gRPC, speaking the chaincode protocol as a Fabric peer does: the shim's REGISTER answered
 * REGISTERED, then READY carrying `params` (none: a peer that announces nothing), then one
 * TRANSACTION per `invoke`. Every request of the shim is answered RESPONSE (a GET_STATE with
 * the committed value `committed`), or ERROR with `refuse`'s text when it returns one.
 */
async function chaincodeServer(options: {
  params?: { useWriteBatch: boolean; maxSizeWriteBatch: number };
  invoke: Invocation;
  refuse?: (message: Sent) => string | undefined;
}) {
  const address = `127.0.0.1:${await freePort()}`;
  const server = shim.server(
    { Init: () => Promise.resolve({ status: 200 }), Invoke: (stub: Stub) => options.invoke(stub) },
    { ccid: 'gigledger:test', address },
  );
  await server.start();
  const client = new ChaincodeClient(address, grpc.credentials.createInsecure());
  const stream = client.connect();
  const sent: Sent[] = [];
  const completed = new Map<string, (message: Sent) => void>();
  const send = (type: MessageType, txId: string, payload: Uint8Array = new Uint8Array()) => {
    const message = new peer.ChaincodeMessage();
    message.setType(type);
    message.setTxid(txId);
    message.setChannelId('gigledger');
    message.setPayload(payload);
    stream.write(message);
  };
  let registered: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (registered = resolve));
  stream.on('error', () => undefined);
  stream.on('data', (message) => {
    const entry = { type: message.getType(), txId: message.getTxid(), payload: message.getPayload_asU8() };
    if (entry.type === Type.REGISTER) {
      send(Type.REGISTERED, '');
      const params = new peer.ChaincodeAdditionalParams();
      if (options.params !== undefined) {
        params.setUseWriteBatch(options.params.useWriteBatch);
        params.setMaxSizeWriteBatch(options.params.maxSizeWriteBatch);
      }
      send(Type.READY, '', params.serializeBinary());
      registered();
      return;
    }
    sent.push(entry);
    if (entry.type === Type.COMPLETED) {
      completed.get(entry.txId)?.(entry);
      return;
    }
    const refusal = options.refuse?.(entry);
    if (refusal !== undefined) send(Type.ERROR, entry.txId, Buffer.from(refusal));
    else if (entry.type === Type.GET_STATE) send(Type.RESPONSE, entry.txId, Buffer.from('committed'));
    else send(Type.RESPONSE, entry.txId);
  });
  await ready;

  /** Sends one TRANSACTION and resolves with the `Response` of the shim's COMPLETED for it. */
  const invoke = (txId: string): Promise<{ status: number; message: string }> =>
    new Promise((resolve) => {
      completed.set(txId, (entry) => {
        const response = peer.Response.deserializeBinary(entry.payload);
        resolve({ status: response.getStatus(), message: response.getMessage() });
      });
      const input = new peer.ChaincodeInput();
      input.setArgsList([Buffer.from('call')]);
      send(Type.TRANSACTION, txId, input.serializeBinary());
    });
  const close = () => {
    stream.end();
    client.close();
    server._server.forceShutdown();
  };
  return { sent, invoke, close };
}

/** The records of every WRITE_BATCH_STATE the shim sent for `txId`, message by message. */
function batchesOf(sent: Sent[], txId: string): string[][] {
  return sent
    .filter((entry) => entry.type === Type.WRITE_BATCH_STATE && entry.txId === txId)
    .map((entry) =>
      peer.WriteBatchState.deserializeBinary(entry.payload)
        .getRecList()
        .map((record) => {
          const kind = Object.entries(peer.WriteRecord.Type).find(([, type]) => type === record.getType())?.[0];
          const metadata = record.getMetadata();
          const value =
            metadata === undefined
              ? Buffer.from(record.getValue_asU8()).toString()
              : `${metadata.getMetakey()}=${Buffer.from(metadata.getValue_asU8()).toString()}`;
          return `${kind} ${record.getCollection() || '-'} ${record.getKey()} ${value}`;
        }),
    );
}

function typesOf(sent: Sent[], txId: string): number[] {
  return sent.filter((entry) => entry.txId === txId).map((entry) => entry.type);
}

const everyKindOfWrite: Invocation = async (stub) => {
  await stub.putState('agreement', Buffer.from('{"v":1}'));
  await stub.setStateValidationParameter('agreement', Buffer.from('policy'));
  await stub.putPrivateData('terms', 'agreement', Buffer.from('secret'));
  await stub.deleteState('stale');
  await stub.purgePrivateData('terms', 'old');
  await stub.putState('agreement', Buffer.from('{"v":2}'));
  return { status: 200 };
};

const announcing = { useWriteBatch: true, maxSizeWriteBatch: 1000 };

describe('batchStateWrites', () => {
  const servers: { close(): void }[] = [];
  const started = async (options: Parameters<typeof chaincodeServer>[0]) => {
    const server = await chaincodeServer(options);
    servers.push(server);
    return server;
  };

  beforeAll(() => {
    batchStateWrites();
  });
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it('is installed once', () => {
    expect(batchStateWrites()).toBe(false);
  });

  it("sends a transaction's writes as one WRITE_BATCH_STATE after the contract returns, in the order they were made", async () => {
    const server = await started({ params: announcing, invoke: everyKindOfWrite });
    await expect(server.invoke('tx-1')).resolves.toMatchObject({ status: 200 });
    expect(typesOf(server.sent, 'tx-1')).toEqual([Type.WRITE_BATCH_STATE, Type.COMPLETED]);
    expect(batchesOf(server.sent, 'tx-1')).toEqual([
      [
        'PUT_STATE - agreement {"v":1}',
        'PUT_STATE_METADATA - agreement VALIDATION_PARAMETER=policy',
        'PUT_STATE terms agreement secret',
        'DEL_STATE - stale ',
        'PURGE_PRIVATE_DATA terms old ',
        'PUT_STATE - agreement {"v":2}',
      ],
    ]);
  });

  it("keeps each batch within the peer's maxSizeWriteBatch, sending the rest in order", async () => {
    const server = await started({ params: { useWriteBatch: true, maxSizeWriteBatch: 4 }, invoke: everyKindOfWrite });
    await expect(server.invoke('tx-1')).resolves.toMatchObject({ status: 200 });
    const batches = batchesOf(server.sent, 'tx-1');
    expect(batches.map((batch) => batch.length)).toEqual([4, 2]);
    expect(batches.flat()[5]).toBe('PUT_STATE - agreement {"v":2}');
  });

  it('reads still go to the peer at the call, before the held writes, and answer the committed value', async () => {
    const server = await started({
      params: announcing,
      invoke: async (stub) => {
        await stub.putState('k', Buffer.from('new'));
        const read = (await stub.getState('k')).toString();
        return read === 'committed' ? { status: 200 } : { status: 500, message: `read ${read}` };
      },
    });
    await expect(server.invoke('tx-1')).resolves.toMatchObject({ status: 200 });
    expect(typesOf(server.sent, 'tx-1')).toEqual([Type.GET_STATE, Type.WRITE_BATCH_STATE, Type.COMPLETED]);
  });

  it('keeps the writes of transactions running at once on one stream apart', async () => {
    const server = await started({
      params: announcing,
      invoke: async (stub) => {
        for (let index = 0; index < 3; index += 1) {
          await stub.putState(`${stub.txId}-${index}`, Buffer.from(stub.txId));
          await stub.getState('k');
        }
        return { status: 200 };
      },
    });
    await Promise.all([server.invoke('tx-a'), server.invoke('tx-b')]);
    for (const txId of ['tx-a', 'tx-b']) {
      expect(batchesOf(server.sent, txId)).toEqual([[0, 1, 2].map((index) => `PUT_STATE - ${txId}-${index} ${txId}`)]);
    }
  });

  it('sends nothing for a transaction the contract fails', async () => {
    const server = await started({
      params: announcing,
      invoke: async (stub) => {
        await stub.putState('agreement', Buffer.from('half'));
        return { status: 500, message: 'INVALID_STATE' };
      },
    });
    await expect(server.invoke('tx-1')).resolves.toEqual({ status: 500, message: 'INVALID_STATE' });
    expect(typesOf(server.sent, 'tx-1')).toEqual([Type.COMPLETED]);
  });

  it("fails the transaction with the peer's own message when the peer refuses the batch", async () => {
    const refusal = 'tx creator does not have write access permission on privatedata in chaincodeName:gigledger';
    const server = await started({
      params: announcing,
      invoke: everyKindOfWrite,
      refuse: (message) => (message.type === Type.WRITE_BATCH_STATE ? refusal : undefined),
    });
    await expect(server.invoke('tx-1')).resolves.toEqual({ status: 500, message: refusal });
  });

  it('sends each write at its call to a peer that does not take batches', async () => {
    for (const params of [undefined, { useWriteBatch: false, maxSizeWriteBatch: 1000 }]) {
      const server = await started({ params, invoke: everyKindOfWrite });
      await expect(server.invoke('tx-1')).resolves.toMatchObject({ status: 200 });
      expect(typesOf(server.sent, 'tx-1')).toEqual([
        Type.PUT_STATE,
        Type.PUT_STATE_METADATA,
        Type.PUT_STATE,
        Type.DEL_STATE,
        Type.PURGE_PRIVATE_DATA,
        Type.PUT_STATE,
        Type.COMPLETED,
      ]);
    }
  });
});
