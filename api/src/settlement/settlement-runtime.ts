import type { Party } from '@gigledger/chaincode/model';
import { ChaincodeEventFollower, type LedgerClient, type LedgerEvent, type Network } from '@gigledger/gateway';
import {
  reconcile,
  SettlementService,
  type CrashPoint,
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
import { networkBlockSource, reconciliationRecords } from './ledger-instructions.js';
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
 * Compares the ledger's instructions (read from committed blocks, the blocks since the
 * last reconciliation only), the outbox and every provider's statement for instructions
 * requested in `[from, to)`, reading only the rows that period concerns (see
 * `reconciliationRecords`).
 *
 * @throws ProviderStatementError when a provider's statement cannot be read.
 * @throws LedgerReplayError when the peer's blocks could not be read up to its height.
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
  // Statements first: an instruction a provider booked was requested before, so the ledger read after holds it.
  const statements: StatementEntry[] = [];
  for (const adapter of adapters) statements.push(...(await adapter.statement(from, to)));
  const { ledger, outbox } = await reconciliationRecords(networkBlockSource(deps.network), deps.chaincode, deps.db, {
    from,
    to,
    statementIds: statements.map((entry) => entry.instructionId),
  });
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

export type { LedgerEvent };
