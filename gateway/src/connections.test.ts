import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { peerChannelOptions } from './connections.js';

/*
 * A peer's connection that stops carrying anything (the far side keeps it open and
 * answers nothing, not even HTTP/2 pings), against a real gRPC server on loopback behind
 * a TCP relay that the test freezes.
 */
const raw = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (value: Buffer) => value,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (value: Buffer) => value,
};
const evaluate = { path: '/gateway.Gateway/Evaluate', requestStream: false, responseStream: false, ...raw };

interface Relay {
  readonly address: string;
  /** Stops forwarding in both directions on every connection open now; later ones flow. */
  freeze(): void;
  close(): Promise<void>;
}

async function relayTo(port: number): Promise<Relay> {
  const pairs: [net.Socket, net.Socket][] = [];
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    pairs.push([inbound, outbound]);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = relay.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${String(relayPort)}`,
    freeze: () => {
      for (const [inbound, outbound] of pairs) {
        inbound.unpipe(outbound);
        outbound.unpipe(inbound);
        inbound.pause();
        outbound.pause();
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const [inbound, outbound] of pairs) {
          inbound.destroy();
          outbound.destroy();
        }
        relay.close(() => {
          resolve();
        });
      }),
  };
}

function call(client: grpc.Client, deadline: number): Promise<{ ok: true } | { ok: false; code: grpc.status }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      evaluate.path,
      raw.requestSerialize,
      raw.responseDeserialize,
      Buffer.from('request'),
      new grpc.Metadata(),
      { deadline },
      (error) => {
        resolve(error ? { ok: false, code: error.code } : { ok: true });
      },
    );
  });
}

describe('a connection to a peer that stops answering', () => {
  let server: grpc.Server;
  let relay: Relay;
  let client: grpc.Client;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(
      { Evaluate: evaluate },
      {
        Evaluate: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => {
          callback(null, Buffer.from('ok'));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    relay = await relayTo(port);
    client = new grpc.Client(relay.address, grpc.credentials.createInsecure(), peerChannelOptions);
  });

  afterAll(async () => {
    client.close();
    await relay.close();
    server.forceShutdown();
  });

  it('is closed when a ping goes unanswered, failing its calls as unavailable long before their deadline, and the next call connects again', async () => {
    expect(await call(client, Date.now() + 10_000)).toEqual({ ok: true });
    relay.freeze();
    // Without keepalive the call would wait out its 120 s deadline on the silent connection.
    expect(await call(client, Date.now() + 120_000)).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(await call(client, Date.now() + 10_000)).toEqual({ ok: true });
  }, 90_000);
});
