import { connect, type Gateway } from '@hyperledger/fabric-gateway';
import type { CallOptions } from '@grpc/grpc-js';
import type { PeerConnections } from './connections.js';
import { PeerHeights } from './peer-heights.js';
import { ContractClient, type ContractClientOptions, type TransactionTransport } from './contract-client.js';
import { qsccLedgerBlocks } from './ledger-blocks.js';
import { CommitLatencies, type ResubmitReason } from './resubmission.js';
import {
  agreementTransactions,
  credentialTransactions,
  governanceTransactions,
  auditTransactions,
  ipTransactions,
  licensingTransactions,
  parameterTransactions,
  provenanceTransactions,
  reputationTransactions,
  systemTransactions,
} from '@gigledger/chaincode/model';
import { gatewayCredentials, type SigningIdentity } from './identity.js';
import { typedContract, type TypedContract } from './typed-contract.js';
import { callerRequestClaims, type RequestClaims } from './request-claims.js';

/** Deadlines for each stage of a transaction, in milliseconds. */
export interface Deadlines {
  readonly evaluateMs: number;
  readonly endorseMs: number;
  readonly submitMs: number;
  readonly commitStatusMs: number;
}

export const defaultDeadlines: Deadlines = {
  evaluateMs: 10_000,
  endorseMs: 30_000,
  submitMs: 10_000,
  commitStatusMs: 60_000,
};

/** The chaincode's contracts by the name clients use for them: the one list a new domain joins. */
const contractTransactions = {
  system: systemTransactions,
  parameters: parameterTransactions,
  agreements: agreementTransactions,
  credentials: credentialTransactions,
  reputation: reputationTransactions,
  governance: governanceTransactions,
  ip: ipTransactions,
  licensing: licensingTransactions,
  provenance: provenanceTransactions,
  audit: auditTransactions,
} as const;

/** The typed contracts of the chaincode, whatever carries the calls. */
export type LedgerClient = {
  readonly [Name in keyof typeof contractTransactions]: TypedContract<(typeof contractTransactions)[Name]>;
};

/** Every typed contract over one transport. */
export function ledgerClient(transport: TransactionTransport): LedgerClient {
  return Object.fromEntries(
    Object.entries(contractTransactions).map(([name, transactions]) => [name, typedContract(transport, transactions)]),
  ) as LedgerClient;
}

/** Typed access to the ledger for one signing identity, over its organisation's shared peer connection. */
export interface LedgerSession extends LedgerClient {
  readonly identity: SigningIdentity;
  readonly contract: ContractClient;
  /** The underlying fabric-gateway Gateway, for events and block access. */
  readonly gateway: Gateway;
  close(): void;
}

/**
 * Opens sessions for identities. Each session reuses the gRPC connection to its
 * organisation's peer; only the signing identity differs.
 */
export class LedgerGateway {
  readonly #connections: PeerConnections;
  readonly #deadlines: Deadlines;
  #peerHeights: PeerHeights | undefined;
  readonly #commitLatencies = new CommitLatencies();
  readonly #resubmitListeners = new Set<(transactionId: string, reason: ResubmitReason) => void>();
  #requestClaims: RequestClaims | undefined;

  constructor(connections: PeerConnections, deadlines: Deadlines = defaultDeadlines) {
    this.#connections = connections;
    this.#deadlines = deadlines;
  }

  get connections(): PeerConnections {
    return this.#connections;
  }

  /**
   * From now on every session's submit returns only once every organisation's peer has
   * committed the block, so the caller's next command (endorsed by the counterparty's
   * peer too) and the counterparty's next read see it. `reader` is any channel member;
   * it only reads block headers.
   */
  enableReadYourWrites(reader: SigningIdentity): PeerHeights {
    if (this.#peerHeights === undefined) {
      this.#peerHeights = new PeerHeights(this.#connections, reader);
      this.#peerHeights.start();
    }
    return this.#peerHeights;
  }

  /**
   * Tells `listener` of every transaction any session sends for ordering again, and why
   * (for metrics and benchmarks). Returns the function that stops telling it.
   */
  onResubmit(listener: (transactionId: string, reason: ResubmitReason) => void): () => void {
    this.#resubmitListeners.add(listener);
    return () => {
      this.#resubmitListeners.delete(listener);
    };
  }

  /**
   * From now on every session takes its turn with a request id from `claims`, shared
   * with the other processes sending as the same callers (the HTTP workers of one API),
   * before it sends a submit carrying that id (see {@link RequestClaims}).
   */
  shareRequestIds(claims: RequestClaims): void {
    this.#requestClaims = claims;
  }

  /**
   * The organisations whose peer did not answer a question of its height within 2 s
   * (see {@link PeerHeights.silentPeers}); empty unless read-your-writes is enabled.
   */
  async silentPeers(): Promise<string[]> {
    return (await this.#peerHeights?.silentPeers()) ?? [];
  }

  /** Stops following peer heights; the connections stay open (they are the caller's). */
  close(): void {
    this.#peerHeights?.close();
    this.#peerHeights = undefined;
  }

  /** What a session takes from the peers' block streams: read-your-writes, ordering progress, its commits. */
  #followedBy(peerHeights: PeerHeights, mspId: string): Partial<ContractClientOptions> {
    return {
      peerHeights,
      blockProgress: peerHeights,
      watchCommit: (transactionId) => peerHeights.watchCommit(mspId, transactionId),
    };
  }

  /**
   * @throws Error when the identity's organisation is not in the connection profile.
   */
  session(identity: SigningIdentity): LedgerSession {
    const connection = this.#connections.forMsp(identity.mspId);
    const { identity: gatewayIdentity, signer, hash } = gatewayCredentials(identity);
    const within = (ms: number) => (): CallOptions => ({ deadline: Date.now() + ms });
    const gateway = connect({
      client: connection.client,
      identity: gatewayIdentity,
      signer,
      hash,
      tlsClientCertificateHash: connection.tlsClientCertificateHash,
      evaluateOptions: within(this.#deadlines.evaluateMs),
      endorseOptions: within(this.#deadlines.endorseMs),
      submitOptions: within(this.#deadlines.submitMs),
      commitStatusOptions: within(this.#deadlines.commitStatusMs),
    });
    const profile = this.#connections.profile;
    const network = gateway.getNetwork(profile.channel);
    const contract = new ContractClient(network, profile.chaincode, {
      // forMsp connects through a peer of the identity's own organisation.
      gatewayMspId: identity.mspId,
      collectionMembers: profile.collections,
      ledgerBlocks: qsccLedgerBlocks(network),
      // Every session judges a missing commit status against the same recent latencies.
      commitLatencies: this.#commitLatencies,
      onResubmit: (transactionId, reason) => {
        for (const listener of this.#resubmitListeners) listener(transactionId, reason);
      },
      ...(this.#peerHeights === undefined ? {} : this.#followedBy(this.#peerHeights, identity.mspId)),
      ...(this.#requestClaims === undefined
        ? {}
        : { requestClaims: callerRequestClaims(this.#requestClaims, identity) }),
    });
    return {
      identity,
      contract,
      ...ledgerClient(contract),
      gateway,
      close: () => {
        gateway.close();
      },
    };
  }
}
