import { callbackFieldOf, ProviderStatementError, verifyProviderCallback } from '@gigledger/settlement/webhook';
import { discrepancyKinds, type SettlementOutboxTable } from '@gigledger/settlement';
import {
  agreementIdSchema,
  grantCovers,
  type AgreementView,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import { z } from 'zod';
import { ApiError, forbidden, notFound } from '../errors/api-error.js';
import { route, type RouteSpec } from '../http/route.js';
import { routeRequester } from '../http/route-requester.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible } from '../ledger/visible.js';
import { LedgerReplayError } from './ledger-instructions.js';
import { payoutAccountViewSchema, registerPayoutAccountSchema } from './payout-accounts.js';
import type { SettlementRuntime } from './settlement-runtime.js';

const tag = 'settlement';

const providerPathSchema = z.strictObject({
  provider: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a configured provider name'),
});

const reconciliationQuerySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
    to: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), { message: 'must be after from', path: ['to'] });

const reconciliationReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  checkedAt: z.string(),
  counts: z.object({ ledger: z.number(), outbox: z.number(), provider: z.number() }),
  discrepancies: z.array(z.object({ kind: z.enum(discrepancyKinds), instructionId: z.string(), detail: z.string() })),
});

const callbackAnswerSchema = z.object({
  status: z
    .enum(['accepted', 'duplicate', 'conflict'])
    .describe(
      'duplicate: this webhook id or instruction was answered before; conflict: the instruction was answered otherwise before and that answer stands (operators are alerted). Either way nothing changed',
    ),
});

const instructionPathSchema = z.strictObject({
  instructionId: z.string().min(1).max(200),
});

const instructionProgressSchema = z.object({
  instructionId: z.string(),
  source: z.enum(['agreement', 'licensing']).describe('The contract that issued it'),
  recordId: z.string().describe('The agreement, or for a royalty or licence fee the licence grant'),
  itemId: z.string().describe('The milestone, or the royalty period (`YYYY-MM`, or `fee`)'),
  kind: z.string(),
  direction: z.enum(['collect', 'payout']),
  amount: z.string().describe('Integer minor units'),
  currency: z.string(),
  provider: z
    .string()
    .nullable()
    .describe(
      "The configured provider that sends it; on a held payout the one configured for the payee's organisation, null when none is",
    ),
  state: z
    .enum(['held', 'queued', 'sending', 'retry', 'sent', 'confirming', 'confirmed', 'dead'])
    .describe(
      'held: the compliance check stopped the payout on the ledger (see waitingFor) and nothing was sent; queued → sending → sent → confirming → confirmed; retry: waiting for its next attempt (see waitingFor); dead: the provider refused it or it ran out of attempts, an operator decides',
    ),
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  waitingFor: z
    .string()
    .nullable()
    .describe('Why it is not paid yet: the last attempt’s error, e.g. a missing payout account'),
  outcome: z.enum(['paid', 'failed']).nullable(),
  outcomeReason: z.string().nullable(),
  providerReference: z.string().nullable(),
  requestedAt: z.string(),
  updatedAt: z.string(),
});

/**
 * The payout `instructionId` (`<agreementId>/<milestoneId>/<kind>-<n>`) names when the
 * ledger holds it `held`, read with `readAgreement` (the caller's own read, so one who may
 * not read the agreement learns nothing); undefined for any other id or status.
 */
async function heldPayout(
  instructionId: string,
  readAgreement: (agreementId: string) => Promise<AgreementView>,
): Promise<SettlementInstruction | undefined> {
  const [agreementId, milestoneId, serial, ...rest] = instructionId.split('/');
  if (milestoneId === undefined || serial === undefined || rest.length > 0) return undefined;
  // Only an id an agreement may have is looked up: any other names no agreement.
  const parsed = agreementIdSchema.safeParse(agreementId);
  if (!parsed.success) return undefined;
  const view = await readAgreement(parsed.data);
  const instruction = view.milestones
    .find((milestone) => milestone.milestoneId === milestoneId)
    ?.instructions.find((each) => each.instructionId === instructionId);
  return instruction?.status === 'held' ? instruction : undefined;
}

/** A held payout's progress: nothing sent, waiting for the payee's KYC credential. */
function heldProgress(instruction: SettlementInstruction, provider: string | null) {
  return {
    instructionId: instruction.instructionId,
    source: 'agreement' as const,
    recordId: instruction.agreementId,
    itemId: instruction.milestoneId,
    kind: instruction.kind,
    direction: 'payout' as const,
    amount: instruction.amount,
    currency: instruction.currency,
    provider,
    state: 'held' as const,
    attempts: 0,
    nextAttemptAt: null,
    waitingFor: `the compliance check held it (${instruction.compliance?.reason ?? 'no reason recorded'}); it is sent once a check finds the payee's KYC credential: the service checks again when one is issued, and either party may ask with POST /v1/agreements/${instruction.agreementId}/milestones/${instruction.milestoneId}/held-payouts/retry`,
    outcome: null,
    outcomeReason: null,
    providerReference: null,
    requestedAt: instruction.requestedAt,
    updatedAt: instruction.compliance?.at ?? instruction.requestedAt,
  };
}

/**
 * What an instruction waits for, as its parties read it: nothing once confirmed; once
 * sent, the provider's answer, and once answered, its record on the ledger; for a dead
 * letter, a person's answer, since the service sends it no more; else the last attempt's
 * error, if any.
 */
function waitingFor(row: SettlementOutboxTable, deskOrganisation: string): string | null {
  if (row.state === 'confirmed') return null;
  if (row.state === 'sent') return `the answer of provider ${row.provider}, which took the order`;
  if (row.state === 'confirming')
    return `the ledger's record of provider ${row.provider}'s answer (${row.outcome ?? 'unknown'}), being written`;
  if (row.state === 'dead') {
    const why = row.last_error === null ? '' : ` (${row.last_error})`;
    return `the settlement service gave up on it${why}; a person with role settlement of ${deskOrganisation} records its provider's answer by hand`;
  }
  return row.last_error;
}

/** Roles of the settlement service's own organisation that operate it (and read its reconciliation). */
const operatorRoles = new Set(['admin', 'settlement']);

/**
 * The reconciliation lists every instruction of the settlement service, whoever's
 * agreement or licence it belongs to, so it is read by those who answer for the service:
 * its organisation's admins and settlement people, and an auditor holding a live grant
 * from that organisation naming `settlement` whose range holds the whole window.
 *
 * @throws ApiError 403 FORBIDDEN for anyone else; 403 NO_AUDIT_GRANT for an auditor whose
 *   grants do not cover the window.
 */
async function requireReconciler(
  requester: Requester,
  ledger: LedgerAccess,
  organisation: string,
  window: { from: Date; to: Date },
): Promise<void> {
  const { principal, log } = requester;
  if (operatorRoles.has(principal.role) && principal.mspId === organisation) return;
  if (principal.role !== 'auditor') {
    throw forbidden(
      `the settlement reconciliation is read by the admins and settlement people of ${organisation}, which runs the settlement service, and by auditors it grants; the caller has role ${principal.role} of ${principal.mspId}`,
    );
  }
  const scope = await (await ledger.clientFor(principal, log)).audit.getAuditScope();
  const last = new Date(window.to.getTime() - 1).toISOString();
  const covered = scope.grants.some(
    (grant) =>
      grantCovers(grant, { kind: 'settlement', organisations: [organisation], at: window.from.toISOString() }) &&
      grantCovers(grant, { kind: 'settlement', organisations: [organisation], at: last }),
  );
  if (!covered) {
    throw new ApiError(
      403,
      'NO_AUDIT_GRANT',
      `no live audit grant of ${organisation} naming settlement covers ${window.from.toISOString()} to ${window.to.toISOString()}`,
    );
  }
}

function unavailable(): ApiError {
  return new ApiError(503, 'SETTLEMENT_DISABLED', 'this server runs no settlement service');
}

function ownerOf(as: Requester): { mspId: string; userId: string } {
  const principal = as.principal;
  if (principal.kind !== 'person') throw forbidden('only a person registers where they are paid');
  return { mspId: principal.mspId, userId: principal.userId };
}

/**
 * Payout accounts, provider callbacks and reconciliation. Without a settlement
 * configuration the routes exist (the OpenAPI document is the same) and answer 503.
 */
export function settlementRoutes(deps: {
  settlement?: SettlementRuntime | undefined;
  ledger: LedgerAccess;
}): RouteSpec[] {
  const runtime = (): SettlementRuntime => {
    if (deps.settlement === undefined) throw unavailable();
    return deps.settlement;
  };
  return [
    route({
      method: 'put',
      path: '/v1/settlement/payout-accounts/me',
      operationId: 'registerPayoutAccount',
      summary:
        'Register (or replace) where the caller is paid in a currency: IBAN + BIC (checked) or a provider account reference. The number is sealed off the ledger and only shown masked',
      tag,
      access: 'agreements:write',
      body: registerPayoutAccountSchema,
      response: payoutAccountViewSchema,
      errors: [503],
      handler: async ({ body, ...caller }) => {
        const settlement = runtime();
        const owner = ownerOf(routeRequester(caller));
        const registered = await settlement.accounts.register(owner, body);
        await settlement.service.accountRegistered(owner);
        return registered;
      },
    }),
    route({
      method: 'get',
      path: '/v1/settlement/payout-accounts/me',
      operationId: 'listPayoutAccounts',
      summary: "The caller's payout accounts, numbers masked",
      tag,
      access: 'agreements:read',
      response: z.array(payoutAccountViewSchema),
      errors: [503],
      handler: (caller) => runtime().accounts.list(ownerOf(routeRequester(caller))),
    }),
    route({
      method: 'post',
      path: '/v1/settlement/callbacks/:provider',
      operationId: 'receiveProviderCallback',
      signedBody: true,
      summary:
        'A payment provider reports an instruction paid or failed. Signed per Standard Webhooks (webhook-id, webhook-timestamp within 5 minutes, webhook-signature); a repeated webhook id changes nothing',
      tag,
      access: 'public',
      params: providerPathSchema,
      // A provider may append its own query string to the webhook URL it was given; the
      // signature covers the body alone, so the query is taken and not read.
      query: z.record(z.string(), z.unknown()),
      body: z.record(z.string(), z.unknown()).describe('payment_order.paid or payment_order.failed message'),
      response: callbackAnswerSchema,
      errors: [400, 401, 404, 503],
      handler: async ({ params, rawBody, headers, log }) => {
        const settlement = runtime();
        const provider = settlement.provider(params.provider);
        if (provider?.inboundSecret === undefined) {
          throw new ApiError(404, 'NOT_FOUND', `no webhook provider ${params.provider} is configured`, 'path.provider');
        }
        // An empty body is checked as well: unsigned, it is refused as unsigned (401).
        const verified = verifyProviderCallback({
          headers,
          rawBody: rawBody ?? Buffer.alloc(0),
          secret: provider.inboundSecret,
        });
        if (!verified.ok) {
          log.warn({ provider: params.provider, code: verified.code }, 'provider callback refused');
          settlement.refused(params.provider, verified.code);
          throw new ApiError(verified.status, verified.code, verified.message, verified.field);
        }
        const result = await settlement.service.acceptConfirmation(
          params.provider,
          verified.webhookId,
          verified.confirmation,
        );
        if (result.status === 'refused') {
          log.warn({ provider: params.provider, code: result.code }, 'provider callback refused');
          throw new ApiError(400, result.code, result.message, callbackFieldOf(result.member));
        }
        return { status: result.status };
      },
    }),
    route({
      method: 'get',
      path: '/v1/settlement/instructions/:instructionId',
      operationId: 'getSettlementProgress',
      summary:
        "Where a settlement instruction stands between the ledger and its provider: state, attempts, and what it waits for (e.g. a payout account in its currency); for whoever may read the agreement or licence grant it belongs to. The id's slashes are percent-encoded. Only this organisation's service's instructions are here: one whose settlingOrganisation (on the milestone or royalty period) names another organisation is 404, its progress is with that organisation's API",
      tag,
      access: 'agreements:read',
      params: instructionPathSchema,
      response: instructionProgressSchema,
      errors: [404, 503],
      handler: async ({ params, ...caller }) => {
        const what = `settlement instruction ${params.instructionId}`;
        const row = await runtime().service.instruction(params.instructionId);
        // Answered only to those who may read the record it belongs to, and as 404 to anyone else.
        const { principal, log } = routeRequester(caller);
        const client = await deps.ledger.clientFor(principal, log);
        if (row === undefined) {
          // A payout the compliance check held never reaches the outbox; the ledger holds it.
          const held = await heldPayout(params.instructionId, (agreementId) =>
            visible(what, 'instructionId', () => client.agreements.getAgreement({ agreementId })),
          );
          const settlement = runtime();
          const ours =
            held?.settlingOrganisation === undefined || held.settlingOrganisation === settlement.desk.organisation;
          if (held === undefined || !ours) throw notFound(what, 'instructionId');
          return heldProgress(held, settlement.config.organisations[held.payee.mspId] ?? null);
        }
        await visible(what, 'instructionId', async () => {
          if (row.source === 'licensing') await client.licensing.getGrant({ grantId: row.agreement_id });
          else await client.agreements.getAgreement({ agreementId: row.agreement_id });
        });
        return {
          instructionId: row.instruction_id,
          source: row.source,
          recordId: row.agreement_id,
          itemId: row.milestone_id,
          kind: row.kind,
          direction: row.direction,
          amount: row.amount,
          currency: row.currency,
          provider: row.provider,
          state: row.state,
          attempts: row.attempts,
          // Only a queued or retried instruction is attempted again; a dead one never is.
          nextAttemptAt: row.state === 'queued' || row.state === 'retry' ? row.next_attempt_at : null,
          waitingFor: waitingFor(row, runtime().desk.organisation),
          outcome: row.outcome,
          outcomeReason: row.outcome_reason,
          providerReference: row.provider_reference,
          requestedAt: row.requested_at,
          updatedAt: row.updated_at,
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/settlement/reconciliation',
      operationId: 'reconcileSettlement',
      summary:
        "Compare the ledger's settlement instructions, the outbox and the providers' statements for instructions requested in [from, to): missing, duplicated, mismatched or stuck ones, and records paid out beyond what was collected (admins and settlement people of the organisation running the settlement service; auditors under its live grant naming settlement)",
      tag,
      access: 'agreements:read',
      query: reconciliationQuerySchema,
      response: reconciliationReportSchema,
      errors: [503],
      handler: async ({ query, ...caller }) => {
        const settlement = runtime();
        const window = { from: new Date(query.from), to: new Date(query.to) };
        await requireReconciler(routeRequester(caller), deps.ledger, settlement.desk.organisation, window);
        let report;
        try {
          report = await settlement.reconcile(window.from, window.to);
        } catch (error) {
          if (error instanceof ProviderStatementError) {
            throw new ApiError(
              503,
              'PROVIDER_UNAVAILABLE',
              `the statement of provider ${error.provider} could not be read; try again later`,
            );
          }
          if (error instanceof LedgerReplayError) {
            throw new ApiError(503, 'LEDGER_UNAVAILABLE', `${error.message}; try again later`);
          }
          throw error;
        }
        return { ...report, discrepancies: [...report.discrepancies] };
      },
    }),
  ];
}
