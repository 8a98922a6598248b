import { z } from 'zod';
import { noRequest, transactionSpec } from './spec';

export const parameterContractName = 'parameter';

/**
 * Consortium parameters read by other contracts. Their values live in ledger state
 * (set at network bootstrap, later by governance); the chaincode holds no defaults.
 */
export const parameterCatalogue = {
  /** Platform fee taken from each release, in basis points of the released amount. */
  platformFeeBps: z.number().int().min(0).max(10_000),
  /** Review window applied to milestones that do not set their own, in seconds. */
  defaultReviewWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 24 * 3600),
  /** How many times a client may reject deliverables of one milestone, unless the agreement sets fewer. */
  maxRevisions: z.number().int().min(0).max(20),
} as const;

export type ParameterName = keyof typeof parameterCatalogue;
export const parameterNames = Object.keys(parameterCatalogue) as ParameterName[];
export const parameterNameSchema = z.enum(parameterNames as [ParameterName, ...ParameterName[]]);
export type ParameterValues = { [Name in ParameterName]: z.infer<(typeof parameterCatalogue)[Name]> };

export const setParameterRequestSchema = z.object({
  name: parameterNameSchema,
  value: z.number(),
});

export const parameterRecordSchema = z.object({
  name: parameterNameSchema,
  value: z.number(),
  updatedAt: z.string(),
  updatedBy: z.string(),
  txId: z.string(),
});
export type ParameterRecord = z.infer<typeof parameterRecordSchema>;

export const parameterTransactions = {
  setParameter: transactionSpec({
    contract: parameterContractName,
    name: 'setParameter',
    kind: 'submit',
    request: setParameterRequestSchema,
    result: parameterRecordSchema,
  }),
  getParameter: transactionSpec({
    contract: parameterContractName,
    name: 'getParameter',
    kind: 'evaluate',
    request: z.object({ name: parameterNameSchema }),
    result: parameterRecordSchema,
  }),
  listParameters: transactionSpec({
    contract: parameterContractName,
    name: 'listParameters',
    kind: 'evaluate',
    request: noRequest,
    result: z.array(parameterRecordSchema),
  }),
} as const;

export const parameterEvents = {
  parameterSet: { name: 'parameter.ParameterSet', payload: parameterRecordSchema },
} as const;
