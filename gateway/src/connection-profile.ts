import { readFileSync } from 'node:fs';
import { z } from 'zod';

const absolutePath = z.string().startsWith('/', 'must be an absolute path');
const endpoint = z.string().regex(/^[^:]+:\d+$/, 'must be host:port');

const organizationSchema = z.object({
  name: z.string(),
  mspId: z.string(),
  peer: z.object({
    endpoint,
    /** Name in the peer's TLS certificate, for clients that dial it by another name. */
    hostAlias: z.string(),
    tlsRootCert: absolutePath,
  }),
  /** The organisation's TLS client certificate for gRPC connections to peers that require one. */
  tlsClient: z.object({ cert: absolutePath, key: absolutePath }),
  ca: z.object({
    url: z.url(),
    caName: z.string(),
    tlsRootCert: absolutePath,
    /** File holding `{ enrollmentId, secret }` of the CA's registrar. */
    registrarFile: absolutePath,
  }),
  /** MSP folder of the organisation's pre-enrolled operator (role `admin`). */
  operatorMspDir: absolutePath,
});

/**
 * How applications reach the network: written by the network setup, read by the
 * gateway library. Paths point at certificates and keys on this host.
 */
export const connectionProfileSchema = z.object({
  channel: z.string(),
  chaincode: z.string(),
  organizations: z.array(organizationSchema).min(1),
  /** Member MSP ids of each private data collection of the chaincode, by collection name. */
  collections: z.record(z.string(), z.array(z.string())).default({}),
});

export type ConnectionProfile = z.infer<typeof connectionProfileSchema>;
export type OrganizationProfile = z.infer<typeof organizationSchema>;

/**
 * @throws Error naming the file and the field when the profile is malformed.
 */
export function readConnectionProfile(file: string): ConnectionProfile {
  const parsed = connectionProfileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid connection profile'}`);
  }
  return parsed.data;
}
