import 'reflect-metadata';
import type { Contract } from 'fabric-contract-api';
import { AgreementContract } from './contracts/agreement-contract';
import { AuditContract } from './contracts/audit-contract';
import { CredentialContract } from './contracts/credential-contract';
import { GovernanceContract } from './contracts/governance-contract';
import { IpContract } from './contracts/ip-contract';
import { LicensingContract } from './contracts/licensing-contract';
import { ParameterContract } from './contracts/parameter-contract';
import { ProvenanceContract } from './contracts/provenance-contract';
import { ReputationContract } from './contracts/reputation-contract';
import { SystemContract } from './contracts/system-contract';
import { describeContract } from './ledger/metadata';
import { exitOnStopSignals } from './server-exit';
import { reuseParsedCertificates } from './server-identity';
import { skipDisabledLogLevels } from './server-logging';
import { batchStateWrites } from './server-write-batch';
import { agreementTransactions } from './model/agreement';
import { auditTransactions } from './model/audit';
import { credentialTransactions } from './model/credential';
import { governanceTransactions } from './model/governance';
import { licensingTransactions } from './model/licensing';
import { ipTransactions } from './model/ip';
import { parameterTransactions } from './model/parameter';
import { provenanceTransactions } from './model/provenance';
import { reputationTransactions } from './model/reputation';
import { systemTransactions } from './model/system';

export {
  AgreementContract,
  AuditContract,
  CredentialContract,
  GovernanceContract,
  IpContract,
  LicensingContract,
  ParameterContract,
  ProvenanceContract,
  ReputationContract,
  SystemContract,
};

/** Each contract beside the transaction specs it implements, which `GetMetadata` then describes. */
export const contractsWithSpecs = [
  [SystemContract, systemTransactions],
  [ParameterContract, parameterTransactions],
  [AgreementContract, agreementTransactions],
  [CredentialContract, credentialTransactions],
  [ReputationContract, reputationTransactions],
  [GovernanceContract, governanceTransactions],
  [IpContract, ipTransactions],
  [LicensingContract, licensingTransactions],
  [ProvenanceContract, provenanceTransactions],
  [AuditContract, auditTransactions],
] as const;

for (const [contract, transactions] of contractsWithSpecs) describeContract(contract, transactions);

/** The contracts the chaincode server exposes; fabric-chaincode-node reads this export. */
export const contracts: readonly (new () => Contract)[] = contractsWithSpecs.map(([contract]) => contract);

// Only in the chaincode server process: Fabric starts every chaincode with
// CORE_CHAINCODE_ID_NAME set; the unit tests and the API's in-memory ledger, which load
// the same contracts, never set it.
if (process.env.CORE_CHAINCODE_ID_NAME !== undefined) {
  exitOnStopSignals();
  skipDisabledLogLevels();
  reuseParsedCertificates();
  batchStateWrites();
}
