/**
 * What the primary and its HTTP workers say to each other over the cluster's IPC channel
 * (structured clone, so bigints and dates cross as they are). Every message carries
 * `gigledger` so that other users of the channel (the rate-limit store) are told apart.
 */
import type { LedgerEvent } from '@gigledger/gateway';
import type { CredentialSubject } from '../auth/credential-throttle.js';

/** A worker asks the primary to do something only the primary may do, and waits for the answer. */
export interface WorkerRequest {
  readonly gigledger: 'request';
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
}

/** The primary's answer to one {@link WorkerRequest}. */
export type PrimaryAnswer =
  | { readonly gigledger: 'answer'; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly gigledger: 'answer';
      readonly id: number;
      readonly ok: false;
      readonly error: { readonly name: string; readonly message: string; readonly detail?: unknown };
    };

/** A change to the failed-credential counts, made in one worker and replayed in the others. */
export interface ThrottleChange {
  readonly gigledger: 'throttle';
  readonly change: 'failure' | 'success';
  readonly subject: CredentialSubject;
}

/** A committed chaincode event the primary's follower read, for every worker's subscribers. */
export interface LedgerEventMessage {
  readonly gigledger: 'ledger-event';
  readonly event: LedgerEvent;
}

/**
 * A worker tells the primary whether it has subscribers for committed events: the
 * primary sends {@link LedgerEventMessage}s only to workers that said `true` last, so a
 * worker nobody subscribes through reads and copies none of them.
 */
export interface LedgerEventDemand {
  readonly gigledger: 'ledger-events-wanted';
  readonly wanted: boolean;
}

/** The primary tells a worker to finish its requests, close and exit. */
export interface StopMessage {
  readonly gigledger: 'stop';
}

/** A worker tells the primary it is ready to serve the connections the primary hands it. */
export interface WorkerStateMessage {
  readonly gigledger: 'serving';
}

/**
 * A connection the primary accepted, handed to a worker with the message (its socket
 * travels beside it over the channel); `id` names it in the worker's acknowledgement.
 */
export interface HandedConnection {
  readonly gigledger: 'connection';
  readonly id: number;
}

/** A worker has taken the handed connection `id`: the primary closes its own copy of the socket. */
export interface ConnectionTaken {
  readonly gigledger: 'connection-taken';
  readonly id: number;
}

/** The primary asks every worker for something each holds (its metrics), and gathers the answers. */
export interface PrimaryQuestion {
  readonly gigledger: 'question';
  readonly id: number;
  readonly kind: string;
}

/** A worker's answer to one {@link PrimaryQuestion}. */
export interface WorkerReply {
  readonly gigledger: 'reply';
  readonly id: number;
  readonly value: unknown;
}

export type ClusterMessage =
  | WorkerRequest
  | PrimaryAnswer
  | ThrottleChange
  | LedgerEventMessage
  | LedgerEventDemand
  | StopMessage
  | WorkerStateMessage
  | HandedConnection
  | ConnectionTaken
  | PrimaryQuestion
  | WorkerReply;

/** Whether `message` is one of ours, of kind `kind`. */
export function isClusterMessage<Kind extends ClusterMessage['gigledger']>(
  message: unknown,
  kind: Kind,
): message is Extract<ClusterMessage, { gigledger: Kind }> {
  return typeof message === 'object' && message !== null && (message as { gigledger?: unknown }).gigledger === kind;
}
