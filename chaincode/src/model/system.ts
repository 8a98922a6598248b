import { z } from 'zod';
import { callerSchema } from './identity';
import { noRequest, transactionSpec } from './spec';

export const systemContractName = 'system';

export const chaincodeVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Package id the chaincode server was started with: changes with every deployment. */
  packageId: z.string(),
});
export type ChaincodeVersion = z.infer<typeof chaincodeVersionSchema>;

export const systemTransactions = {
  version: transactionSpec({
    contract: systemContractName,
    name: 'version',
    kind: 'evaluate',
    request: noRequest,
    result: chaincodeVersionSchema,
  }),
  whoAmI: transactionSpec({
    contract: systemContractName,
    name: 'whoAmI',
    kind: 'evaluate',
    request: noRequest,
    result: callerSchema,
  }),
} as const;
