import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ConnectionProfile, OrganizationProfile } from './connection-profile.js';
import { defaultGatewayCallsInFlight, gatewayCallLimit } from './gateway-call-limit.js';

/** A live gRPC connection to one organisation's peer, shared by every identity of that organisation. */
export interface PeerConnection {
  readonly organization: OrganizationProfile;
  readonly client: grpc.Client;
  /** SHA-256 of the TLS client certificate, which Fabric binds into signed requests. */
  readonly tlsClientCertificateHash: Uint8Array;
}

/** How every connection to a peer keeps itself alive and comes back. */
export const peerChannelOptions: grpc.ChannelOptions = {
  // A connection the peer stopped answering on (seen after a peer restart under load:
  // every call on it, in one process, waited out its deadline for 85 s while the same peer
  // answered the process beside it) is closed once a ping sent while calls are under way
  // goes unanswered for 20 s, and the next call connects again. Not sooner: closing a
  // connection fails the submits on it, which are then sent again, and a copy of one the
  // peer had already passed on lands as DUPLICATE_TXID; a busy peer on two saturated
  // cores must not be taken for a silent one. Peers accept a ping every 5 s
  // (CORE_PEER_KEEPALIVE_MININTERVAL in the network's settings).
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 20_000,
  // gRPC's reconnect backoff grows to 120 s: after a peer had been down for a minute or
  // two, its organisation's calls kept failing for up to ~45 s after it was back. At most
  // 5 s between attempts costs a down peer one connection attempt per 5 s.
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 5_000,
  'grpc.max_receive_message_length': 100 * 1024 * 1024,
};

/**
 * One gRPC connection per peer endpoint, opened on first use and reused across
 * identities and requests; fabric-gateway multiplexes calls over it.
 */
export class PeerConnections {
  readonly #profile: ConnectionProfile;
  readonly #connections = new Map<string, PeerConnection>();
  readonly #gatewayCallsInFlight: number;

  /**
   * @param options.gatewayCallsInFlight unary Gateway calls this process keeps in flight
   *   per peer, the rest wait their turn; keep it below the peers'
   *   `peer.limits.concurrency.gatewayService`. Default {@link defaultGatewayCallsInFlight}.
   */
  constructor(profile: ConnectionProfile, options: { gatewayCallsInFlight?: number } = {}) {
    this.#profile = profile;
    this.#gatewayCallsInFlight = options.gatewayCallsInFlight ?? defaultGatewayCallsInFlight;
  }

  get profile(): ConnectionProfile {
    return this.#profile;
  }

  /**
   * @throws Error when the profile has no organisation with that MSP id.
   */
  forMsp(mspId: string): PeerConnection {
    const existing = this.#connections.get(mspId);
    if (existing !== undefined) return existing;
    const organization = this.#profile.organizations.find((org) => org.mspId === mspId);
    if (organization === undefined) throw new Error(`the connection profile has no organisation ${mspId}`);
    const clientCertificate = readFileSync(organization.tlsClient.cert);
    const credentials = grpc.credentials.createSsl(
      readFileSync(organization.peer.tlsRootCert),
      readFileSync(organization.tlsClient.key),
      clientCertificate,
    );
    const client = new grpc.Client(organization.peer.endpoint, credentials, {
      ...peerChannelOptions,
      'grpc.ssl_target_name_override': organization.peer.hostAlias,
      interceptors: [gatewayCallLimit(this.#gatewayCallsInFlight)],
    });
    const connection: PeerConnection = {
      organization,
      client,
      tlsClientCertificateHash: createHash('sha256').update(new X509Certificate(clientCertificate).raw).digest(),
    };
    this.#connections.set(mspId, connection);
    return connection;
  }

  /** Waits until every organisation's peer accepts a connection, or the deadline passes. */
  async waitForReady(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.#profile.organizations.map(
        (org) =>
          new Promise<void>((resolve, reject) => {
            this.forMsp(org.mspId).client.waitForReady(deadline, (error) => {
              if (error)
                reject(new Error(`peer of ${org.mspId} at ${org.peer.endpoint} is not reachable: ${error.message}`));
              else resolve();
            });
          }),
      ),
    );
  }

  close(): void {
    for (const connection of this.#connections.values()) connection.client.close();
    this.#connections.clear();
  }
}
