import path from 'node:path';
import { z } from 'zod';
import { isWebhookSecret } from '../webhook/signature.js';
import type { SandboxProviderOptions } from './sandbox-provider.js';

const secret = z.string().refine(isWebhookSecret, 'must be "whsec_" followed by the base64 of at least 24 bytes');
const nonNegativeInteger = z.coerce.number().int().min(0);
const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((list) =>
      list
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );

const environmentSchema = z.object({
  // 0 asks the system for a free port (tests).
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SANDBOX_OUTBOUND_SECRET: secret,
  SANDBOX_CALLBACK_SECRET: secret,
  SANDBOX_CALLBACK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  SANDBOX_API_KEY: z.string().min(16, 'must be at least 16 characters'),
  /** Payments survive a restart only when set. */
  SANDBOX_DATA_DIR: z.string().min(1).optional(),
  SANDBOX_FAIL_AMOUNT_SUFFIXES: commaList('13').pipe(
    z.array(z.string().regex(/^[0-9]+$/, 'must be a comma-separated list of digit strings')),
  ),
  SANDBOX_FAIL_PAYEES: commaList(''),
  SANDBOX_DUPLICATE_EVERY: nonNegativeInteger.default(0),
  SANDBOX_LATE_EVERY: nonNegativeInteger.default(0),
  SANDBOX_LATE_MS: nonNegativeInteger.default(5000),
  SANDBOX_CALLBACK_DELAY_MS: nonNegativeInteger.default(200),
});

/**
 * The sandbox provider's settings from the environment, parsed once at start-up.
 *
 * @throws Error naming the variable at fault.
 */
export function parseSandboxConfig(env: NodeJS.ProcessEnv): SandboxProviderOptions {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`environment variable ${issue?.path[0]?.toString() ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const value = parsed.data;
  return {
    port: value.SANDBOX_PORT,
    outboundSecret: value.SANDBOX_OUTBOUND_SECRET,
    callbackSecret: value.SANDBOX_CALLBACK_SECRET,
    callbackUrl: value.SANDBOX_CALLBACK_URL,
    apiKey: value.SANDBOX_API_KEY,
    ...(value.SANDBOX_DATA_DIR === undefined ? {} : { dataDir: path.resolve(value.SANDBOX_DATA_DIR) }),
    failAmountSuffixes: value.SANDBOX_FAIL_AMOUNT_SUFFIXES,
    failPayees: value.SANDBOX_FAIL_PAYEES,
    duplicateEvery: value.SANDBOX_DUPLICATE_EVERY,
    lateEvery: value.SANDBOX_LATE_EVERY,
    lateMs: value.SANDBOX_LATE_MS,
    callbackDelayMs: value.SANDBOX_CALLBACK_DELAY_MS,
  };
}
