import 'reflect-metadata';
import { ParameterContract } from './contracts/parameter-contract';
import { SystemContract } from './contracts/system-contract';

export { ParameterContract, SystemContract };

/** The contracts the chaincode server exposes; fabric-chaincode-node reads this export. */
export const contracts = [SystemContract, ParameterContract];
