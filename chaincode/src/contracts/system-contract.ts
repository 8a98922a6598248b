import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import type { ChaincodeVersion } from '../model/system';
import { systemContractName } from '../model/system';
import type { Caller } from '../model/identity';
import { callerOf } from '../ledger/caller';

// Read once when the server starts: the package id is fixed for the life of the process.
const packageId = process.env.CORE_CHAINCODE_ID_NAME ?? 'unknown';
// The manifest sits outside the compiled tree, so it is loaded at run time rather than imported.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chaincodeVersion = (require('../../package.json') as { version: string }).version;

@Info({ title: 'System', description: 'Chaincode version and caller identity' })
export class SystemContract extends Contract {
  constructor() {
    super(systemContractName);
  }

  /** The chaincode's name, version and the package id this server runs as. */
  @Transaction(false)
  version(_ctx: Context): Promise<ChaincodeVersion> {
    return Promise.resolve({ name: 'gigledger', version: chaincodeVersion, packageId });
  }

  /** The caller's MSP id, identity and GigLedger attributes, as the chaincode sees them. */
  @Transaction(false)
  whoAmI(ctx: Context): Promise<Caller> {
    return Promise.resolve(callerOf(ctx));
  }
}
