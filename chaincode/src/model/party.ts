import { z } from 'zod';
import { trimmedText } from './text-controls';
import { mspIdSchema, roleSchema, userIdSchema } from './identity';

/** A person or service named in a record: their organisation's MSP id and the `userId` in their certificate. */
export const partySchema = z.strictObject({ mspId: mspIdSchema, userId: userIdSchema });
export type Party = z.infer<typeof partySchema>;

/** Who performed a transition, as recorded: MSP id and the certificate attributes GigLedger reads. */
export const actorSchema = z.object({
  mspId: z.string(),
  userId: z.string().optional(),
  role: roleSchema.optional(),
});
export type Actor = z.infer<typeof actorSchema>;

/** Free text a person gives for a decision (rejection, dispute, cancellation…). */
export const reasonSchema = trimmedText(2000);
