/*
 * The public surface of the gateway library: what the API, the settlement service, the
 * network tooling, the benchmarks and the end-to-end suites use. Functions the modules
 * share among themselves (refusal parsing, block decoding, gateway credentials, the
 * typed-contract builder) stay inside the package.
 */
export { readConnectionProfile, type ConnectionProfile, type OrganizationProfile } from './connection-profile.js';
export { PeerConnections, type PeerConnection } from './connections.js';
export { defaultGatewayCallsInFlight } from './gateway-call-limit.js';
export {
  ContractClient,
  transactionArguments,
  type ContractClientOptions,
  type EvaluateOptions,
  type SubmitOptions,
  type Submitted,
  type TransactionTransport,
} from './contract-client.js';
export {
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  LedgerError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  ResultFormatError,
  SubmissionError,
} from './errors.js';
export {
  certificateCommonName,
  gatewayCredentials,
  hasHighS,
  readMspIdentity,
  signLowS,
  type GatewayCredentials,
  type SigningIdentity,
} from './identity.js';
export {
  defaultDeadlines,
  LedgerGateway,
  ledgerClient,
  type Deadlines,
  type LedgerClient,
  type LedgerSession,
} from './ledger-gateway.js';
export type { TypedContract } from './typed-contract.js';
export { callerRequestClaims, type RequestClaims } from './request-claims.js';
export {
  AlreadyRegisteredError,
  CertificateAuthority,
  CertificateAuthorityUnavailableError,
  type RegistrationRequest,
} from './certificate-authority.js';
export {
  BlockContentsFollower,
  BlockEventFollower,
  ChaincodeEventFollower,
  FileCheckpointer,
  StoredCheckpointer,
  type DurableCheckpointer,
  type FollowOptions,
  type LedgerBlock,
  type LedgerEvent,
} from './event-follower.js';
export { qsccLedgerBlocks, type LedgerBlocks } from './ledger-blocks.js';
export { untilStopSignal } from './stop-signals.js';
export { qsccChannelMembers, type ChannelMembers } from './channel-members.js';
export {
  decodeBlockContents,
  validationCodeName,
  validationCodeNames,
  type BlockContents,
  type BlockTransaction,
  type KeyAccess,
  type KeyAccessKind,
  type PublicWrite,
  type TransactionEvent,
} from './block-contents.js';
export type { PeerHeights } from './peer-heights.js';
export {
  CommitLatencies,
  resubmitReason,
  systemClock,
  type BlockProgress,
  type Clock,
  type CommitWait,
  type ResubmitLimits,
  type ResubmitReason,
} from './resubmission.js';
/** The channel handle of fabric-gateway, for callers that read events or blocks through a session. */
export type { Network } from '@hyperledger/fabric-gateway';
export {
  qsccProofExporter,
  TransactionNotFoundError,
  UnprovableTransactionError,
  type ChainIndex,
  type KeyHistory,
  type LocatedTransaction,
  type ProofExporter,
} from './proofs/export-proof.js';
export {
  binaryParts,
  isCanonicalBase64,
  proofBundleSchema,
  proofCreatorMspId,
  proofFormat,
  proofVersion,
  type BinaryPart,
  type ProofBundle,
} from './proofs/proof-bundle.js';
export { verifyProof, type ProofFailure, type ProofVerdict } from './proofs/verify-proof.js';
export { recordKey, recordKinds, recordValueProblem, type RecordKind } from './proofs/record-keys.js';
export { keepEndorsementsOf, rewriteEnvelope } from './proofs/tamper.js';
