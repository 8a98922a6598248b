import { z } from 'zod';
import { callerSchema } from './identity';
import { contractSpecs, noRequest } from './spec';

export const systemContractName = 'system';

export const chaincodeVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Package id the chaincode server was started with: changes with every deployment. */
  packageId: z.string(),
});
export type ChaincodeVersion = z.infer<typeof chaincodeVersionSchema>;

const { evaluate } = contractSpecs(systemContractName);

export const systemTransactions = {
  version: evaluate('version', noRequest, chaincodeVersionSchema),
  whoAmI: evaluate('whoAmI', noRequest, callerSchema),
} as const;
