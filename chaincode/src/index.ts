import 'reflect-metadata';
import { AgreementContract } from './contracts/agreement-contract';
import { CredentialContract } from './contracts/credential-contract';
import { GovernanceContract } from './contracts/governance-contract';
import { IpContract } from './contracts/ip-contract';
import { LicensingContract } from './contracts/licensing-contract';
import { ParameterContract } from './contracts/parameter-contract';
import { ReputationContract } from './contracts/reputation-contract';
import { SystemContract } from './contracts/system-contract';

export {
  AgreementContract,
  CredentialContract,
  GovernanceContract,
  IpContract,
  LicensingContract,
  ParameterContract,
  ReputationContract,
  SystemContract,
};

/** The contracts the chaincode server exposes; fabric-chaincode-node reads this export. */
export const contracts = [
  SystemContract,
  ParameterContract,
  AgreementContract,
  CredentialContract,
  ReputationContract,
  GovernanceContract,
  LicensingContract,
];
