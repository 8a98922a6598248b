import { z } from 'zod';
import { actorSchema } from './party';

/**
 * Who put a consortium rule (a parameter, an issuer's grant, an arbitrator, a member's
 * rights) in its current state. Genesis values are written by an administrator while
 * the network is bootstrapped, before governance is sealed, and say so; every later
 * value names the executed proposal. The proposal's votes are read from the
 * governance contract (`getProposal`).
 */
export const ruleProvenanceSchema = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('genesis'),
    /** The bootstrap administrator. */
    by: actorSchema,
    at: z.string(),
    txId: z.string(),
  }),
  z.object({
    source: z.literal('proposal'),
    proposalId: z.string(),
    /** Whoever executed the passed proposal (anyone may). */
    executedBy: actorSchema,
    /** Execution transaction's timestamp and id. */
    at: z.string(),
    txId: z.string(),
  }),
]);
export type RuleProvenance = z.output<typeof ruleProvenanceSchema>;
