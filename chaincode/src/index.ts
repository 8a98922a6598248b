import 'reflect-metadata';
import { AgreementContract } from './contracts/agreement-contract';
import { ParameterContract } from './contracts/parameter-contract';
import { SystemContract } from './contracts/system-contract';

export { AgreementContract, ParameterContract, SystemContract };

/** The contracts the chaincode server exposes; fabric-chaincode-node reads this export. */
export const contracts = [SystemContract, ParameterContract, AgreementContract];
