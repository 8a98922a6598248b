export * from './config.js';
export { arbitratorRosterActions, enactByVote, governArbitrators } from './consortium/governance.js';
export { openConsortiumLedger, type ConsortiumLedger } from './consortium/consortium-ledger.js';
export { grantKyc } from './consortium/kyc.js';
export { freeLoopbackPort } from './processes/ports.js';
export { Supervisor, type Restart, type RestartBackoff, type SupervisorOptions } from './processes/supervisor.js';
export { networkRestarts } from './cli/network-restarts.js';
export {
  deployChaincode,
  ensureChaincodeServer,
  queryCommitted,
  readDeployment,
  type Deployment,
  type DeployResult,
} from './chaincode/deploy.js';
export {
  ordererChannelInfo,
  ordererClientFlags,
  peerAdminEnv,
  peerHeight,
  type OrdererChannelInfo,
} from './fabric/channel.js';
export { peerMaterial } from './fabric/layout.js';
export { gossipPeersKnown, isFabricProfilingOn, isRaftLeader, nodeOverrides, profilingPort } from './fabric/nodes.js';
export { updateBatching, type Batching } from './fabric/batching.js';
export {
  exportOrgBundle,
  hostedNodes,
  missingMaterial,
  unpackOrgBundle,
  writeOrgBundle,
  type HostedNodes,
  type OrgBundle,
} from './fabric/bundle.js';
export { applicationOrgNames, fetchChannelConfig, OrgAdmissionError } from './fabric/add-org.js';
export {
  LocalNetwork,
  type AddOrgOptions,
  type AddOrgResult,
  type OrgChangeOptions,
  type OrgChangeResult,
  type RemoveOrgOptions,
  type RemoveOrgResult,
  type NetworkStatus,
  type ProcessStatus,
  type Reporter,
} from './network.js';
export {
  ensureToolchain,
  isToolchainInstalled,
  toolchainAt,
  toolchainDir,
  type Toolchain,
} from './toolchain/toolchain.js';
