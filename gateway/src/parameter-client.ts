import { parameterTransactions, type ParameterName, type ParameterRecord } from '@gigledger/chaincode/model';
import type { ContractClient, Submitted } from './contract-client.js';

/** Consortium parameters. */
export class ParameterClient {
  readonly #contract: ContractClient;

  constructor(contract: ContractClient) {
    this.#contract = contract;
  }

  /** @throws RefusedError FORBIDDEN unless the identity has role admin; VALIDATION_FAILED for a bad value. */
  set(name: ParameterName, value: number): Promise<Submitted<ParameterRecord>> {
    return this.#contract.submit(parameterTransactions.setParameter, { name, value });
  }

  /** @throws RefusedError PARAMETER_INVALID when the parameter was never set. */
  get(name: ParameterName): Promise<ParameterRecord> {
    return this.#contract.evaluate(parameterTransactions.getParameter, { name });
  }

  list(): Promise<ParameterRecord[]> {
    return this.#contract.evaluate(parameterTransactions.listParameters, {});
  }
}
