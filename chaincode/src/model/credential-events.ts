import { z } from 'zod';
import { actorSchema } from './party';
import { eventSpec } from './spec';
import {
  credentialContractName,
  credentialRecordSchema,
  credentialStatusSchema,
  issuerRecordSchema,
  issuerVersionRecordSchema,
} from './credential-records';

/** Fields every `credential.*` event carries. */
export const credentialEventBaseSchema = z.object({
  /** Transaction timestamp. */
  at: z.string(),
  txId: z.string(),
  actor: actorSchema,
});
export type CredentialEventBase = z.output<typeof credentialEventBaseSchema>;

const credentialEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({ name: `${credentialContractName}.${name}`, payload: credentialEventBaseSchema.extend(shape) });

const issuerShape = { issuer: issuerRecordSchema, version: issuerVersionRecordSchema };

const statusShape = {
  credentialId: z.string(),
  /** The credential as this transaction left it (commitments only, never claim values). */
  credential: credentialRecordSchema,
  previousStatus: credentialStatusSchema,
  reason: z.string(),
};

/** Every event of the `credential` contract; a transaction emits exactly one. */
export const credentialEvents = {
  /** An admin registered an issuer, changed its grant, or re-registered a removed issuer. */
  issuerRegistered: credentialEvent('IssuerRegistered', issuerShape),
  issuerRemoved: credentialEvent('IssuerRemoved', issuerShape),
  credentialIssued: credentialEvent('CredentialIssued', {
    credentialId: z.string(),
    credential: credentialRecordSchema,
  }),
  credentialSuspended: credentialEvent('CredentialSuspended', statusShape),
  credentialReinstated: credentialEvent('CredentialReinstated', statusShape),
  credentialRevoked: credentialEvent('CredentialRevoked', statusShape),
} as const;

/** Names of every credential event, for consumers that subscribe by name. */
export const credentialEventNames: readonly string[] = Object.values(credentialEvents).map((event) => event.name);
