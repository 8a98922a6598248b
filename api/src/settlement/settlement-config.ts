import { readFileSync } from 'node:fs';
import { z } from 'zod';

const webhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be a Standard Webhooks secret (whsec_…)');

const providerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** A provider speaking the Standard Webhooks payment protocol (the sandbox provider too). */
    kind: z.literal('webhook'),
    url: z.url(),
    /** Signs our payment orders. */
    outboundSecret: webhookSecretSchema,
    /**
     * Verifies the provider's callbacks to `/v1/settlement/callbacks/{name}`; while the
     * provider rotates its secret, the new and the old one (a callback signed with either is taken).
     */
    inboundSecret: z.union([webhookSecretSchema, z.array(webhookSecretSchema).min(1).max(3)]),
    /** Bearer token for the provider's statement endpoint. */
    apiKey: z.string().min(16),
  }),
  z.strictObject({
    /** A bank taking ISO 20022 pain.001 files and answering with camt.054 notifications. */
    kind: z.literal('iso20022'),
    outboxDir: z.string().min(1),
    inboxDir: z.string().min(1),
    batchSize: z.number().int().min(1).max(10_000).default(100),
    /** A file is also written once its oldest order has waited this long. */
    maxWaitSeconds: z.number().int().min(0).max(86_400).default(60),
    debtor: z.strictObject({ name: z.string().min(1).max(140), iban: z.string(), bic: z.string() }),
  }),
]);

const settlementFileSchema = z.strictObject({
  /** Providers by name; the name is the `{provider}` of the callback URL. */
  providers: z.record(
    z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be lower-case letters, digits or "-"'),
    providerSchema,
  ),
  /** Which provider pays and collects for the members of each organisation, by MSP id. */
  organisations: z.record(z.string(), z.string()),
  /** The organisation whose `settlement` identity records confirmations; the first organisation by default. */
  settlementOrg: z.string().optional(),
  /**
   * The block a service with no checkpoint yet starts reading from (the next block by
   * default): for an organisation's first service, started after instructions naming it
   * were issued. Never for a service that ran before: it would send its instructions again.
   */
  startBlock: z.number().int().min(0).optional(),
  /** An instruction open longer than this shows as stuck in reconciliation. */
  stuckAfterSeconds: z.number().int().min(1).default(900),
  maxAttempts: z.number().int().min(1).max(100).default(8),
});
export type SettlementConfig = z.output<typeof settlementFileSchema>;
export type ProviderConfig = SettlementConfig['providers'][string];

/**
 * Reads the settlement configuration file (GIGLEDGER_SETTLEMENT_CONFIG). It holds
 * secrets and is read once at start-up.
 *
 * @throws Error naming the file and the first field at fault, or an organisation routed
 *   to a provider that is not configured.
 */
export function readSettlementConfig(file: string): SettlementConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`settlement configuration ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const parsed = settlementFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`settlement configuration ${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  for (const [mspId, provider] of Object.entries(parsed.data.organisations)) {
    if (!(provider in parsed.data.providers)) {
      throw new Error(`settlement configuration ${file}: organisations.${mspId}: no provider named ${provider}`);
    }
  }
  return parsed.data;
}
