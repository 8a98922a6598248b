/**
 * The settlement configuration (the API's GIGLEDGER_SETTLEMENT_CONFIG file) that routes
 * every listed organisation through one webhook provider — the local sandbox, or a
 * real provider speaking the same protocol.
 */
export function webhookSettlementConfiguration(options: {
  /** Name of the provider, the `{provider}` of its callback URL. */
  readonly name?: string;
  readonly url: string;
  /** Signs our payment orders. */
  readonly outboundSecret: string;
  /** Verifies the provider's callbacks. */
  readonly inboundSecret: string;
  /** Bearer token of the provider's statement endpoint. */
  readonly apiKey: string;
  /** MSP ids of the organisations whose members are paid through it. */
  readonly mspIds: readonly string[];
}): { providers: Record<string, unknown>; organisations: Record<string, string> } {
  const name = options.name ?? 'sandbox';
  return {
    providers: {
      [name]: {
        kind: 'webhook',
        url: options.url,
        outboundSecret: options.outboundSecret,
        inboundSecret: options.inboundSecret,
        apiKey: options.apiKey,
      },
    },
    organisations: Object.fromEntries(options.mspIds.map((mspId) => [mspId, name])),
  };
}
