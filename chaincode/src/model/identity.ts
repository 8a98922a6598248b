import { z } from 'zod';

/** Roles carried in the `role` attribute of certificates issued by the organisations' CAs. */
export const roles = [
  'client',
  'freelancer',
  'auditor',
  'hr',
  'issuer',
  'arbitrator',
  'evaluator',
  'settlement',
  'governor',
  'admin',
] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

/** Certificate attribute names the chaincode reads. */
export const identityAttributes = {
  role: 'role',
  userId: 'userId',
} as const;

/** Stable user id carried in the `userId` attribute: lowercase letters, digits, dot, dash, underscore. */
export const userIdSchema = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(64, 'must be at most 64 characters')
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

export const mspIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9.-]+$/, 'must be an MSP id');

/** The caller of a transaction as the chaincode sees it. */
export const callerSchema = z.object({
  mspId: z.string(),
  /** Fabric's identity string: subject and issuer distinguished names. */
  id: z.string(),
  role: roleSchema.optional(),
  userId: z.string().optional(),
  /**
   * For a role whose reach a governance decision grants (see `governedRoles`): whether
   * one stands behind this caller. Read from the ledger before the transaction runs;
   * absent for every other role.
   */
  governed: z.boolean().optional(),
});
export type Caller = z.infer<typeof callerSchema>;

/**
 * Roles any organisation's admin may give, whose reach across the consortium comes only
 * with a governance decision: an `arbitrator` hears disputes once the consortium adds
 * them as an active arbitrator, a `settlement` identity speaks for payment providers once
 * its organisation is in `settlementOrganisations`.
 */
export const governedRoles = ['arbitrator', 'settlement'] as const satisfies readonly Role[];
