import { Info } from 'fabric-contract-api';
import { systemContractName, systemTransactions as spec } from '../model/system';
import { contractClass, transaction } from '../ledger/contract-class';

// Read once when the server starts: the package id is fixed for the life of the process.
const packageId = process.env.CORE_CHAINCODE_ID_NAME ?? 'unknown';
// The manifest sits outside the compiled tree, so it is loaded at run time rather than imported.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chaincodeVersion = (require('../../package.json') as { version: string }).version;

@Info({ title: 'System', description: 'Chaincode version and caller identity' })
export class SystemContract extends contractClass(systemContractName, {
  /** The chaincode's name, version and the package id this server runs as. */
  version: transaction(spec.version, () =>
    Promise.resolve({ name: 'gigledger', version: chaincodeVersion, packageId }),
  ),
  /** The caller's MSP id, identity and GigLedger attributes, as the chaincode sees them. */
  whoAmI: transaction(spec.whoAmI, (tx) => Promise.resolve(tx.caller)),
}) {}
