import { systemTransactions, type Caller, type ChaincodeVersion } from '@gigledger/chaincode/model';
import type { ContractClient } from './contract-client.js';

/** The system contract: chaincode version and the caller as the chaincode sees it. */
export class SystemClient {
  readonly #contract: ContractClient;

  constructor(contract: ContractClient) {
    this.#contract = contract;
  }

  /** @throws EndorsementError when no peer answers. */
  version(): Promise<ChaincodeVersion> {
    return this.#contract.evaluate(systemTransactions.version, {});
  }

  /** @throws EndorsementError when no peer answers. */
  whoAmI(): Promise<Caller> {
    return this.#contract.evaluate(systemTransactions.whoAmI, {});
  }
}
