import { setTimeout as delay } from 'node:timers/promises';
import {
  agreementEventBaseSchema,
  agreementEvents,
  licensingEventBaseSchema,
  licensingEvents,
  type Party,
  type RoyaltyInstruction,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import { ChaincodeEventFollower, type LedgerClient, type LedgerEvent, type Network } from '@gigledger/gateway';
import {
  instructionRecord,
  reconcile,
  SettlementService,
  type CrashPoint,
  type LedgerInstructionView,
  type ProviderAdapter,
  type ReconciliationReport,
  type SettlementDb,
  type StatementEntry,
} from '@gigledger/settlement';
import { Iso20022FileAdapter } from '@gigledger/settlement/iso20022';
import { WebhookProviderAdapter } from '@gigledger/settlement/webhook';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { Metrics } from '../observability/metrics.js';
import type { SettlementDesk } from '../agreements/agreement-service.js';
import type { PayoutAccountStore } from './payout-accounts.js';
import type { ProviderConfig, SettlementConfig } from './settlement-config.js';

/** The settlement service as the server runs it, with what its routes need. */
export interface SettlementRuntime {
  readonly service: SettlementService;
  /** What the agreement service asks before and after a person answers an instruction by hand. */
  readonly desk: SettlementDesk;
  readonly config: SettlementConfig;
  readonly accounts: PayoutAccountStore;
  /** The provider by its configuration name (the `{provider}` of a callback URL). */
  provider(
    name: string,
  ): { adapter: ProviderAdapter; inboundSecret: string | readonly string[] | undefined } | undefined;
  reconcile(from: Date, to: Date): Promise<ReconciliationReport>;
  /** Counts a callback refused before it reached the service (signature, timestamp, payload). */
  refused(provider: string, code: string): void;
}

function adapterFor(name: string, config: ProviderConfig): ProviderAdapter {
  if (config.kind === 'webhook') {
    return new WebhookProviderAdapter({
      name,
      providerUrl: config.url,
      outboundSecret: config.outboundSecret,
      apiKey: config.apiKey,
    });
  }
  return new Iso20022FileAdapter({
    name,
    outbox: config.outboxDir,
    inbox: config.inboxDir,
    batchSize: config.batchSize,
    maxWaitMs: config.maxWaitSeconds * 1000,
    debtor: config.debtor,
  });
}

/**
 * Builds the settlement service from its configuration: one adapter per provider, the
 * outbox in the server's database, confirmations signed by `ledger` (the
 * organisation's `settlement` identity), committed events read from `network`.
 */
export function createSettlementRuntime(deps: {
  readonly config: SettlementConfig;
  /** MSP id of the organisation whose `settlement` identity records confirmations. */
  readonly organisation: string;
  readonly db: Db;
  readonly network: Network;
  readonly chaincode: string;
  readonly ledger: LedgerClient;
  readonly accounts: PayoutAccountStore;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly crash?: (point: CrashPoint, instructionId: string) => void;
}): SettlementRuntime {
  const providers = new Map(
    Object.entries(deps.config.providers).map(([name, provider]) => [
      name,
      {
        adapter: adapterFor(name, provider),
        inboundSecret: provider.kind === 'webhook' ? provider.inboundSecret : undefined,
      },
    ]),
  );
  const providerFor = (party: Party): ProviderAdapter => {
    const name = deps.config.organisations[party.mspId];
    const provider = name === undefined ? undefined : providers.get(name);
    if (provider === undefined) throw new Error(`no settlement provider is configured for organisation ${party.mspId}`);
    return provider.adapter;
  };
  const log = deps.log.child({ component: 'settlement' });
  // The settlement tables are part of the server's schema.
  const db = deps.db as unknown as SettlementDb;
  const service = new SettlementService({
    db,
    ledger: deps.ledger,
    organisation: deps.organisation,
    ...(deps.config.startBlock === undefined ? {} : { startBlock: BigInt(deps.config.startBlock) }),
    follow: (checkpointer, handle, startBlock) =>
      new ChaincodeEventFollower(deps.network, deps.chaincode, checkpointer, handle, {
        ...(startBlock === undefined ? {} : { startBlock }),
        onStreamError: (error, attempt) => {
          log.warn({ err: error, attempt }, 'settlement event stream failed; reopening');
        },
      }),
    providerFor,
    providerNamed: (name) => providers.get(name)?.adapter,
    accounts: deps.accounts,
    log,
    maxAttempts: deps.config.maxAttempts,
    observer: {
      sendAttempted: (provider, outcome) => {
        deps.metrics.settlementSends.inc({ provider, outcome });
      },
      callbackRefused: (provider, code) => {
        deps.metrics.settlementCallbackRefusals.inc({ provider, code });
      },
      confirmationRecorded: (outcome) => {
        deps.metrics.settlementConfirmations.inc({ outcome });
      },
      confirmationRefused: (code) => {
        deps.metrics.settlementConfirmationRefusals.inc({ code });
      },
      ledgerUnreachable: (stage) => {
        deps.metrics.settlementLedgerFailures.inc({ stage });
      },
    },
    ...(deps.crash === undefined ? {} : { crash: deps.crash }),
  });

  return {
    service,
    desk: {
      organisation: deps.organisation,
      handAnswerRefusal: (instructionId, answer) => service.handAnswerRefusal(instructionId, answer),
      handAnswerRecorded: (instructionId, answer) => service.handAnswerRecorded(instructionId, answer),
      payoutAccountRefusal: async (instructionId, payoutAccountId) => {
        const row = await service.instruction(instructionId);
        if (row === undefined) return `instruction ${instructionId} is not the settlement service's`;
        const counterparty = { mspId: row.counterparty_msp, userId: row.counterparty_user };
        const [registered] = await deps.accounts.list(counterparty, row.currency);
        if (registered?.accountId === payoutAccountId) return undefined;
        return `is not the payout account ${counterparty.mspId} user ${counterparty.userId} has registered here in ${row.currency}${
          registered === undefined ? ' (none is registered)' : ` (${registered.accountId} is)`
        }`;
      },
    },
    config: deps.config,
    accounts: deps.accounts,
    provider: (name) => providers.get(name),
    refused: (provider, code) => {
      deps.metrics.settlementCallbackRefusals.inc({ provider, code });
    },
    reconcile: (from, to) =>
      reconcileSettlement(
        {
          organisation: deps.organisation,
          network: deps.network,
          chaincode: deps.chaincode,
          db,
          config: deps.config,
          adapters: [...providers.values()].map((provider) => provider.adapter),
        },
        from,
        to,
      ),
  };
}

/**
 * Compares the ledger's instructions (replayed from committed events), the outbox and
 * every provider's statement for instructions requested in `[from, to)`.
 *
 * @throws ProviderStatementError when a provider's statement cannot be read.
 */
export async function reconcileSettlement(
  deps: {
    /** MSP id of the organisation whose service this is: instructions another organisation settles are not its to compare. */
    readonly organisation: string;
    readonly network: Network;
    readonly chaincode: string;
    readonly db: SettlementDb;
    readonly config: SettlementConfig;
    /** Built from `config` when left out. */
    readonly adapters?: readonly ProviderAdapter[];
  },
  from: Date,
  to: Date,
): Promise<ReconciliationReport> {
  const adapters =
    deps.adapters ?? Object.entries(deps.config.providers).map(([name, provider]) => adapterFor(name, provider));
  const [ledger, outbox] = await Promise.all([
    ledgerInstructions(deps.network, deps.chaincode),
    deps.db.selectFrom('settlement_outbox').selectAll().execute(),
  ]);
  const statements: StatementEntry[] = [];
  for (const adapter of adapters) statements.push(...(await adapter.statement(from, to)));
  return reconcile({
    organisation: deps.organisation,
    from,
    to,
    now: new Date(),
    ledger,
    outbox,
    statements,
    stuckAfterSeconds: deps.config.stuckAfterSeconds,
  });
}

/**
 * Every settlement instruction the ledger holds (agreements' and royalties'), with its
 * latest status, replayed from the chaincode's committed events since block 0 — independent of what the outbox took
 * in, which is the point of reconciling. The replay ends once no event has arrived for
 * a second (the stream has caught up with the chain).
 */
async function ledgerInstructions(network: Network, chaincode: string): Promise<LedgerInstructionView[]> {
  const instructions = new Map<string, LedgerInstructionView>();
  const remember = (instruction: SettlementInstruction | RoyaltyInstruction) => {
    instructions.set(instruction.instructionId, {
      instructionId: instruction.instructionId,
      amountMinor: BigInt(instruction.amount),
      currency: instruction.currency,
      status: instruction.status,
      requestedAt: instruction.requestedAt,
      record: instructionRecord(instruction),
      ...(instruction.settlingOrganisation === undefined
        ? {}
        : { settlingOrganisation: instruction.settlingOrganisation }),
    });
  };
  const events = await network.getChaincodeEvents(chaincode, { startBlock: 0n });
  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), delay(1000).then(() => undefined)]);
      if (next === undefined || next.done === true) break;
      const event = next.value;
      if (event.eventName.startsWith('licensing.')) {
        const payload: unknown = JSON.parse(new TextDecoder().decode(event.payload));
        const base = licensingEventBaseSchema.safeParse(payload);
        if (!base.success) continue;
        for (const instruction of base.data.settlementRequests) remember(instruction);
        if (event.eventName === licensingEvents.royaltyPayoutConfirmed.name) {
          const confirmed = licensingEvents.royaltyPayoutConfirmed.payload.safeParse(payload);
          if (confirmed.success) remember(confirmed.data.instruction);
        }
        continue;
      }
      if (!event.eventName.startsWith('agreement.')) continue;
      const payload: unknown = JSON.parse(new TextDecoder().decode(event.payload));
      const base = agreementEventBaseSchema.safeParse(payload);
      if (!base.success) continue;
      for (const instruction of [...base.data.settlementRequests, ...base.data.heldPayouts]) remember(instruction);
      if (event.eventName === agreementEvents.settlementConfirmed.name) {
        const confirmed = agreementEvents.settlementConfirmed.payload.safeParse(payload);
        if (confirmed.success) remember(confirmed.data.instruction);
      }
    }
  } finally {
    events.close();
  }
  return [...instructions.values()];
}

export type { LedgerEvent };
