import { once } from 'node:events';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Network } from '@hyperledger/fabric-gateway';
import { agreementTermsSha256, agreementTermsTransientKey } from '@gigledger/chaincode/model';
import type { SettlementOutboxTable } from '@gigledger/settlement';
import { signatureHeaders, webhookSigner } from '@gigledger/settlement/webhook';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { Sealer } from '../identity/sealer.js';
import { startTestServer, testOperator } from '../test-support/test-server.js';
import { LedgerReplayError } from './ledger-instructions.js';
import { PayoutAccountStore } from './payout-accounts.js';
import type { SettlementConfig } from './settlement-config.js';
import { createSettlementRuntime, type SettlementRuntime } from './settlement-runtime.js';

const inboundSecret = `whsec_${Buffer.from('inbound secret of the route tests, 32+').toString('base64')}`;
const otherSecret = `whsec_${Buffer.from('a secret the provider never had, 32+!').toString('base64')}`;
const iban = 'DE89370400440532013000';
const providerReference = 'wallet-7731-0042-9981';

/**
 * An outbox row of a milestone's escrow collection, as the settlement service keeps it,
 * with `fields` over the defaults (a new row, not yet sent).
 */
function outboxRow(instructionId: string, fields: Partial<SettlementOutboxTable>): SettlementOutboxTable {
  const now = new Date().toISOString();
  const [agreementId = '', milestoneId = ''] = instructionId.split('/');
  return {
    instruction_id: instructionId,
    source: 'agreement',
    agreement_id: agreementId,
    milestone_id: milestoneId,
    kind: 'fund-escrow',
    direction: 'collect',
    provider: 'sandbox',
    counterparty_msp: 'ClientOrgMSP',
    counterparty_user: 'carol',
    amount: '150000',
    platform_fee: '0',
    currency: 'EUR',
    request_tx_id: 'tx000001',
    block_number: '1',
    requested_at: now,
    state: 'queued',
    attempts: 0,
    next_attempt_at: now,
    last_error: null,
    provider_reference: null,
    outcome: null,
    outcome_reason: null,
    confirm_tx_id: null,
    payout_account_id: null,
    reissue_of: null,
    created_at: now,
    updated_at: now,
    ...fields,
  };
}

/**
 * Settlement routes never reach Fabric: the event stream and reconciliation are the only
 * users of the network, and these tests start neither. Any use fails loudly.
 */
const unreachableNetwork = new Proxy(
  {},
  {
    get: (_target, property) => {
      throw new Error(`the route tests use no Fabric network (asked for ${String(property)})`);
    },
  },
) as Network;

interface Api {
  readonly url: string;
  readonly db: Db;
  readonly logLines: string[];
  readonly settlement: SettlementRuntime | undefined;
  token(userId: string, org: string, role: Principal['role']): Promise<string>;
  /** Drafts agreement `agreementId` of one EUR milestone between two people, through the in-memory ledger. */
  draft(
    agreementId: string,
    client: { userId: string; org: string },
    freelancer: { userId: string; org: string },
  ): Promise<{ clientToken: string; freelancerToken: string }>;
  request(
    method: string,
    pathName: string,
    options?: { token?: string; body?: string | object; headers?: Record<string, string> },
  ): Promise<{ status: number; text: string; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * The test server, logging into `logLines`, with a settlement runtime unless `settlement`
 * is false, and `env` over the test configuration.
 */
async function startApi(options: { settlement: boolean; env?: Record<string, string> }): Promise<Api> {
  const logLines: string[] = [];
  const log = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const settlementConfig: SettlementConfig = {
    providers: {
      sandbox: {
        kind: 'webhook',
        // Nothing is sent in these tests: no order is dispatched.
        url: 'http://127.0.0.1:9/',
        outboundSecret: inboundSecret,
        inboundSecret,
        apiKey: 'sandbox-api-key-of-the-tests',
      },
    },
    organisations: { ClientOrgMSP: 'sandbox', TalentOrgMSP: 'sandbox' },
    stuckAfterSeconds: 900,
    maxAttempts: 8,
  };
  const server = await startTestServer(options.env ?? {}, {
    log,
    ...(options.settlement
      ? {
          settlement: async ({ db, ledger, metrics }) =>
            createSettlementRuntime({
              config: settlementConfig,
              organisation: 'AuditOrgMSP',
              db,
              network: unreachableNetwork,
              chaincode: 'gigledger',
              ledger: await ledger.clientFor(
                {
                  ...testOperator,
                  id: 'settlement',
                  userId: 'settlement-service',
                  mspId: 'AuditOrgMSP',
                  role: 'settlement',
                },
                log,
              ),
              accounts: new PayoutAccountStore(db, new Sealer('test payout key')),
              log,
              metrics,
            }),
        }
      : {}),
  });
  return {
    url: server.url,
    db: server.db,
    logLines,
    settlement: server.settlement,
    async token(userId, org, role) {
      return (await server.person(userId, org, role)).token;
    },
    async draft(agreementId, client, freelancer) {
      const drafter = await server.person(client.userId, client.org, 'client');
      const payee = await server.person(freelancer.userId, freelancer.org, 'freelancer');
      const ledger = await server.ledger.clientFor(drafter.principal, log);
      await ledger.agreements.draftAgreement(
        {
          requestId: `draft-${agreementId}`,
          agreementId,
          title: `Labelling ${agreementId}`,
          client: drafter.party,
          freelancer: payee.party,
          milestones: [
            {
              kind: 'deliverable',
              milestoneId: 'm1',
              title: 'Labels',
              amount: '150000',
              currency: 'JPY',
              dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString(),
              reviewWindowSeconds: 3600,
              acceptanceCriteria: { description: 'Agreement with the gold set' },
            },
          ],
        },
        { transient: { [agreementTermsTransientKey]: { scope: `labelling ${agreementId}`, salt: '1'.repeat(32) } } },
      );
      return { clientToken: drafter.token, freelancerToken: payee.token };
    },
    async request(method, pathName, requestOptions = {}) {
      const answer = await server.request(method, pathName, requestOptions);
      return { status: answer.status, text: answer.text, body: answer.body, headers: answer.headers };
    },
    close: () => server.close(),
  };
}

/** A `payment_order.paid` callback signed with `secret` at `signedAt`. */
function signed(
  data: Record<string, unknown>,
  options: { secret?: string; signedAt?: Date; webhookId?: string } = {},
): { headers: Record<string, string>; body: string } {
  const signedAt = options.signedAt ?? new Date();
  const body = JSON.stringify({ type: 'payment_order.paid', timestamp: signedAt.toISOString(), data });
  const webhookId = options.webhookId ?? `msg_${Math.random().toString(36).slice(2)}`;
  return {
    headers: { ...signatureHeaders(webhookSigner(options.secret ?? inboundSecret), webhookId, signedAt, body) },
    body,
  };
}

/** A 429 RATE_LIMITED whose message names what its budget counts. */
function expectRateLimited(answer: { status: number; body: unknown }, counted: string): void {
  expect([answer.status, answer.body]).toEqual([
    429,
    expect.objectContaining({ code: 'RATE_LIMITED', message: expect.stringContaining(counted) as unknown }) as unknown,
  ]);
}

const paidData = (instructionId: string) => ({
  instructionId,
  providerReference: 'sbx_ref_1',
  amount: '150000',
  currency: 'EUR',
});

describe('settlement routes over HTTP', () => {
  describe('with a settlement runtime', () => {
    let api: Api;
    let taraToken: string;

    beforeAll(async () => {
      api = await startApi({ settlement: true });
      taraToken = await api.token('tara', 'TalentOrg', 'freelancer');
    });

    afterAll(async () => {
      await api.close();
    });

    it("refuses a person's settlement answer for an instruction the service has not given up on, naming body.instructionId", async () => {
      const desk = await api.token('desk', 'AuditOrg', 'settlement');
      const answer = await api.request('POST', '/v1/agreements/A-404/milestones/m1/settlement-confirmations', {
        token: desk,
        body: {
          instructionId: 'A-404/m1/release-1',
          outcome: 'failed',
          providerReference: 'by-hand-1',
          reason: 'closed account',
        },
      });
      expect([answer.status, answer.body]).toEqual([
        409,
        expect.objectContaining({
          code: 'INVALID_STATE',
          field: 'body.instructionId',
          message:
            "instruction A-404/m1/release-1 is not a dead letter of the settlement service: its provider's answer is recorded when it comes",
        }),
      ]);
      // GraphQL names the same field under its input.
      const mutation = await api.request('POST', '/graphql', {
        token: desk,
        body: {
          query: 'mutation($input: ConfirmSettlementInput!) { confirmSettlement(input: $input) { requestId } }',
          variables: {
            input: {
              agreementId: 'A-404',
              milestoneId: 'm1',
              instructionId: 'A-404/m1/release-1',
              outcome: 'failed',
              providerReference: 'by-hand-1',
              reason: 'closed account',
            },
          },
        },
      });
      expect((mutation.body as { errors?: { extensions?: unknown }[] }).errors?.[0]?.extensions).toMatchObject({
        code: 'INVALID_STATE',
        field: 'input.instructionId',
      });
    });

    it("refuses a settlement person of another organisation than the settlement service's, whatever the consortium lists", async () => {
      const other = await api.token('tsam', 'TalentOrg', 'settlement');
      const answer = await api.request('POST', '/v1/agreements/A-404/milestones/m1/settlement-confirmations', {
        token: other,
        body: { instructionId: 'A-404/m1/fund-escrow-1', outcome: 'paid', providerReference: 'by-hand-2' },
      });
      expect([answer.status, answer.body]).toEqual([
        403,
        expect.objectContaining({
          code: 'FORBIDDEN',
          message:
            "this server's settlement service records its providers' answers; only a person of AuditOrgMSP answers one of its dead letters by hand",
        }),
      ]);
    });

    it("answers a licence's collection or payout by hand under the same rule as a milestone's", async () => {
      const path = '/v1/licensing/grants/G-404/periods/fee/settlement-confirmations';
      const body = { instructionId: 'G-404/fee/collect-1', outcome: 'paid', providerReference: 'by-hand-3' };
      const desk = await api.request('POST', path, {
        token: await api.token('desk-l', 'AuditOrg', 'settlement'),
        body,
      });
      expect([desk.status, desk.body]).toEqual([
        409,
        expect.objectContaining({
          code: 'INVALID_STATE',
          field: 'body.instructionId',
          message: expect.stringContaining('is not a dead letter of the settlement service') as unknown,
        }),
      ]);
      const other = await api.request('POST', path, {
        token: await api.token('tsam-l', 'TalentOrg', 'settlement'),
        body,
      });
      expect([other.status, (other.body as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
      expect((await api.request('POST', path, { token: taraToken, body })).status).toBe(403);
      // A failure must say why, before the outbox is consulted (it was answered 409 before).
      const unexplained = await api.request('POST', path, {
        token: await api.token('desk-l2', 'AuditOrg', 'settlement'),
        body: { ...body, outcome: 'failed' },
      });
      expect([unexplained.status, unexplained.body]).toEqual([
        422,
        expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'body.reason' }),
      ]);

      // The same answer over GraphQL, under the same rule.
      const mutation = async (token: string, input: Record<string, unknown>) => {
        const answer = await api.request('POST', '/graphql', {
          token,
          body: {
            query:
              'mutation($input: ConfirmRoyaltyPayoutInput!) { confirmRoyaltyPayout(input: $input) { requestId period { status } } }',
            variables: { input: { grantId: 'G-404', periodId: 'fee', ...input } },
          },
        });
        return (answer.body as { errors?: { extensions?: Record<string, unknown> }[] }).errors?.[0]?.extensions;
      };
      const deskToken = await api.token('desk-g', 'AuditOrg', 'settlement');
      expect(await mutation(deskToken, body)).toMatchObject({ code: 'INVALID_STATE', field: 'input.instructionId' });
      expect(await mutation(deskToken, { ...body, outcome: 'failed' })).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'input.reason',
      });
      expect(await mutation(await api.token('tsam-g', 'TalentOrg', 'settlement'), body)).toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(await mutation(taraToken, body)).toMatchObject({ code: 'FORBIDDEN' });
    });

    it("records a person's answer to a dead letter, a milestone's over REST and a licence fee's over GraphQL, and keeps it on the outbox row", async () => {
      // What the service leaves after its provider refused the order for good.
      const deadRow = (instructionId: string, fields: Partial<SettlementOutboxTable>) =>
        outboxRow(instructionId, {
          state: 'dead',
          attempts: 8,
          next_attempt_at: null,
          last_error: 'provider answered 422: account closed',
          ...fields,
        });
      const deskToken = await api.token('desk-dl', 'AuditOrg', 'settlement');
      const rowOf = (instructionId: string) =>
        api.db
          .selectFrom('settlement_outbox')
          .selectAll()
          .where('instruction_id', '=', instructionId)
          .executeTakeFirst();

      // A milestone whose escrow collection the service gave up on.
      const parties = await api.draft(
        'A-DL',
        { userId: 'cleo-dl', org: 'ClientOrg' },
        { userId: 'tia-dl', org: 'TalentOrg' },
      );
      expect(
        (
          await api.request('POST', '/v1/agreements/A-DL/accept', {
            token: parties.freelancerToken,
            body: { termsSha256: agreementTermsSha256({ scope: 'labelling A-DL', salt: '1'.repeat(32) }) },
          })
        ).status,
      ).toBe(200);
      expect(
        (await api.request('POST', '/v1/agreements/A-DL/milestones/m1/fund', { token: parties.clientToken, body: {} }))
          .status,
      ).toBe(200);
      const escrow = 'A-DL/m1/fund-escrow-1';
      await api.db
        .insertInto('settlement_outbox')
        .values(
          deadRow(escrow, {
            agreement_id: 'A-DL',
            milestone_id: 'm1',
            counterparty_user: 'cleo-dl',
            amount: '150000',
            currency: 'JPY',
          }),
        )
        .execute();
      // Its parties read that a person's answer is what it waits for now, and no next attempt.
      const progress = await api.request('GET', `/v1/settlement/instructions/${encodeURIComponent(escrow)}`, {
        token: parties.clientToken,
      });
      expect(progress.body).toMatchObject({
        state: 'dead',
        nextAttemptAt: null,
        waitingFor:
          "the settlement service gave up on it (provider answered 422: account closed); a person with role settlement of AuditOrgMSP records its provider's answer by hand",
      });
      // An account the ledger would keep but this service does not know is refused.
      const bogusAccount = await api.request('POST', '/v1/agreements/A-DL/milestones/m1/settlement-confirmations', {
        token: deskToken,
        body: {
          instructionId: escrow,
          outcome: 'paid',
          providerReference: 'bank-statement-7',
          payoutAccountId: 'pa_bogus',
        },
      });
      expect([bogusAccount.status, bogusAccount.body]).toEqual([
        422,
        expect.objectContaining({
          code: 'VALIDATION_FAILED',
          field: 'body.payoutAccountId',
          message: expect.stringContaining(
            'is not the payout account ClientOrgMSP user cleo-dl has registered here in JPY (none is registered)',
          ) as unknown,
        }),
      ]);
      expect(await rowOf(escrow)).toMatchObject({ state: 'dead' });
      const answer = {
        requestId: 'hand-answer-A-DL-1',
        instructionId: escrow,
        outcome: 'paid',
        providerReference: 'bank-statement-7',
      };
      const answered = await api.request('POST', '/v1/agreements/A-DL/milestones/m1/settlement-confirmations', {
        token: deskToken,
        body: answer,
      });
      expect(answered.status).toBe(200);
      const committed = answered.body as { transactionId: string; result: { status: string } };
      expect(committed.result.status).toBe('funded');
      expect(await rowOf(escrow)).toMatchObject({
        state: 'confirmed',
        outcome: 'paid',
        provider_reference: 'bank-statement-7',
        outcome_reason: 'answered by hand by AuditOrgMSP user desk-dl',
        confirm_tx_id: committed.transactionId,
      });
      // The same request sent again (a lost response) is answered as the first time.
      const again = await api.request('POST', '/v1/agreements/A-DL/milestones/m1/settlement-confirmations', {
        token: deskToken,
        body: answer,
      });
      expect([again.status, (again.body as { result: { status: string } }).result.status]).toEqual([200, 'funded']);
      // Once answered, a contrary answer is refused; the recorded one is not the person's to change.
      const contrary = await api.request('POST', '/v1/agreements/A-DL/milestones/m1/settlement-confirmations', {
        token: deskToken,
        body: { ...answer, requestId: 'hand-answer-A-DL-2', outcome: 'failed', reason: 'second thoughts' },
      });
      expect([contrary.status, (contrary.body as { field?: string }).field]).toEqual([409, 'body.instructionId']);

      // A licence fee whose collection from the licensee the service gave up on.
      const owner = await api.token('olga-dl', 'TalentOrg', 'freelancer');
      const licensee = await api.token('lars-dl', 'ClientOrg', 'client');
      const work = await api.request('POST', '/v1/ip/works', {
        token: owner,
        body: {
          workId: 'W-DL',
          kind: 'model',
          contentHash: 'a'.repeat(64),
          title: 'Churn model',
          uri: 'https://models.example.com/churn',
          creators: [{ mspId: 'TalentOrgMSP', userId: 'olga-dl' }],
          owners: [{ party: { mspId: 'TalentOrgMSP', userId: 'olga-dl' }, shareBps: 10_000 }],
        },
      });
      expect(work.status).toBe(201);
      const terms = { text: 'Evaluation of the churn model.', salt: '0'.repeat(32) };
      const offered = await api.request('POST', '/v1/licensing/offers', {
        token: owner,
        body: {
          offerId: 'L-DL',
          workId: 'W-DL',
          licensee: { mspId: 'ClientOrgMSP', userId: 'lars-dl' },
          scope: 'evaluation',
          fieldsOfUse: ['any'],
          territories: ['WORLD'],
          exclusive: false,
          termStart: '2026-01-01T00:00:00.000Z',
          termEnd: '2099-01-01T00:00:00.000Z',
          currency: 'EUR',
          fee: { amount: '50000' },
          terms,
        },
      });
      expect(offered.status).toBe(201);
      const termsSha256 = (offered.body as { result: { termsSha256: string } }).result.termsSha256;
      const granted = await api.request('POST', '/v1/licensing/offers/L-DL/grants', {
        token: licensee,
        body: { grantId: 'G-DL', termsSha256 },
      });
      expect(granted.status).toBe(201);
      const collection = 'G-DL/fee/collect-1';
      await api.db
        .insertInto('settlement_outbox')
        .values(
          deadRow(collection, {
            source: 'licensing',
            agreement_id: 'G-DL',
            milestone_id: 'fee',
            kind: 'collection',
            counterparty_user: 'lars-dl',
            amount: '50000',
          }),
        )
        .execute();
      // The licensee's account the desk saw debited, as registered here.
      const debited = await api.request('PUT', '/v1/settlement/payout-accounts/me', {
        token: licensee,
        body: { kind: 'iban', currency: 'EUR', holderName: 'Lars Example', iban, bic: 'COBADEFFXXX' },
      });
      const { accountId } = debited.body as { accountId: string };
      const graphqlAnswer = await api.request('POST', '/graphql', {
        token: deskToken,
        body: {
          query:
            'mutation($input: ConfirmRoyaltyPayoutInput!) { confirmRoyaltyPayout(input: $input) { transactionId period { status } } }',
          variables: {
            input: {
              grantId: 'G-DL',
              periodId: 'fee',
              instructionId: collection,
              outcome: 'paid',
              providerReference: 'sepa-dd-4',
              payoutAccountId: accountId,
            },
          },
        },
      });
      const data = (graphqlAnswer.body as { data?: { confirmRoyaltyPayout?: { transactionId: string } } }).data;
      expect(graphqlAnswer.body).not.toHaveProperty('errors');
      const transactionId = data?.confirmRoyaltyPayout?.transactionId;
      expect(transactionId).toEqual(expect.any(String));
      expect(await rowOf(collection)).toMatchObject({
        state: 'confirmed',
        outcome: 'paid',
        provider_reference: 'sepa-dd-4',
        confirm_tx_id: transactionId,
      });
      // The collection recorded paid, the owner's part of the fee is issued.
      const grant = await api.request('GET', '/v1/licensing/grants/G-DL', { token: owner });
      expect(grant.body).toMatchObject({
        fee: {
          status: 'settling',
          collections: [expect.objectContaining({ instructionId: collection, status: 'paid' })],
        },
      });
    });

    it('lets the settlement organisation and the auditors it grants read the reconciliation, and no one else', async () => {
      const settlement = api.settlement as { reconcile: SettlementRuntime['reconcile'] } | undefined;
      if (settlement === undefined) throw new Error('the server runs no settlement service');
      // The report reads the network, which these tests do not start; who may ask is decided before it.
      const original = settlement.reconcile;
      settlement.reconcile = (from, to) =>
        Promise.resolve({
          from: from.toISOString(),
          to: to.toISOString(),
          checkedAt: new Date().toISOString(),
          counts: { ledger: 0, outbox: 0, provider: 0 },
          discrepancies: [],
        });
      try {
        const reconciliation = async (token: string) => {
          const answer = await api.request(
            'GET',
            '/v1/settlement/reconciliation?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z',
            { token },
          );
          return [answer.status, (answer.body as { code?: string }).code];
        };
        const auditAdmin = await api.token('ops-a', 'AuditOrg', 'admin');
        const talentAdmin = await api.token('ops-t', 'TalentOrg', 'admin');
        // AuditOrgMSP runs this server's settlement service.
        expect(await reconciliation(auditAdmin)).toEqual([200, undefined]);
        expect(await reconciliation(await api.token('desk-a', 'AuditOrg', 'settlement'))).toEqual([200, undefined]);
        expect(await reconciliation(talentAdmin)).toEqual([403, 'FORBIDDEN']);
        expect(await reconciliation(await api.token('desk-c', 'ClientOrg', 'settlement'))).toEqual([403, 'FORBIDDEN']);
        expect(await reconciliation(taraToken)).toEqual([403, 'FORBIDDEN']);
        const auditor = await api.token('audra', 'AuditOrg', 'auditor');
        expect(await reconciliation(auditor)).toEqual([403, 'NO_AUDIT_GRANT']);
        const grant = (org: 'TalentOrg' | 'AuditOrg', kinds: string[], grantId: string) =>
          api.request('POST', '/v1/audit/grants', {
            token: org === 'TalentOrg' ? talentAdmin : auditAdmin,
            body: {
              grantId,
              auditor: { mspId: 'AuditOrgMSP', userId: 'audra' },
              kinds,
              expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
              purpose: 'settlement review',
            },
          });
        // A grant from another organisation, or naming other kinds, does not open it.
        expect((await grant('TalentOrg', ['settlement'], 'AG-rec-t')).status).toBe(201);
        expect((await grant('AuditOrg', ['agreement'], 'AG-rec-a1')).status).toBe(201);
        expect(await reconciliation(auditor)).toEqual([403, 'NO_AUDIT_GRANT']);
        expect((await grant('AuditOrg', ['settlement'], 'AG-rec-a2')).status).toBe(201);
        expect(await reconciliation(auditor)).toEqual([200, undefined]);
        // A peer that stops sending blocks part-way is the ledger being unavailable, not a fault of the server.
        settlement.reconcile = () => Promise.reject(new LedgerReplayError(412n, 450n));
        const unavailable = await api.request(
          'GET',
          '/v1/settlement/reconciliation?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z',
          { token: auditAdmin },
        );
        expect(unavailable.status).toBe(503);
        expect(unavailable.body).toMatchObject({
          code: 'LEDGER_UNAVAILABLE',
          message: "the ledger's blocks could be read only up to block 412 of 450; try again later",
        });
      } finally {
        settlement.reconcile = original;
      }
    });

    it('shows a party where an instruction stands and what it waits for, and answers 404 to anyone else', async () => {
      const parties = await api.draft(
        'A-JPY',
        { userId: 'cleo', org: 'ClientOrg' },
        { userId: 'tia', org: 'TalentOrg' },
      );
      const waiting = 'ClientOrgMSP user cleo has no payout account in JPY';
      await api.db
        .insertInto('settlement_outbox')
        .values(
          outboxRow('A-JPY/m1/fund-escrow-1', {
            counterparty_user: 'cleo',
            currency: 'JPY',
            request_tx_id: 'tx-fund',
            block_number: '7',
            state: 'retry',
            last_error: waiting,
          }),
        )
        .execute();
      const path = `/v1/settlement/instructions/${encodeURIComponent('A-JPY/m1/fund-escrow-1')}`;
      for (const token of [parties.clientToken, parties.freelancerToken]) {
        const seen = await api.request('GET', path, { token });
        expect([seen.status, seen.body]).toEqual([
          200,
          expect.objectContaining({
            instructionId: 'A-JPY/m1/fund-escrow-1',
            recordId: 'A-JPY',
            state: 'retry',
            attempts: 0,
            waitingFor: waiting,
            outcome: null,
          }),
        ]);
      }
      // Not in the outbox and not held on the ledger (the ledger is read for a held payout), or no instruction's id at all.
      for (const id of [
        'A-JPY/m1/fund-escrow-2',
        'A-JPY/m9/release-1',
        'A-JPY',
        'A JPY/m1/release-1',
        '../m1/x',
        'a/b/c/d',
      ]) {
        const missing = await api.request('GET', `/v1/settlement/instructions/${encodeURIComponent(id)}`, {
          token: parties.clientToken,
        });
        expect([id, missing.status, (missing.body as { code: string }).code]).toEqual([id, 404, 'NOT_FOUND']);
      }
      // Sent, it waits for the provider's answer; answered, for the ledger's record of it.
      for (const [state, outcome, expected] of [
        ['sent', null, 'the answer of provider sandbox, which took the order'],
        ['confirming', 'paid', "the ledger's record of provider sandbox's answer (paid), being written"],
      ] as const) {
        await api.db
          .updateTable('settlement_outbox')
          .set({ state, outcome, last_error: null })
          .where('instruction_id', '=', 'A-JPY/m1/fund-escrow-1')
          .execute();
        const seen = await api.request('GET', path, { token: parties.clientToken });
        expect(seen.body).toMatchObject({ state, waitingFor: expected });
      }
      const stranger = await api.token('dora', 'ClientOrg', 'client');
      for (const id of ['A-JPY/m1/fund-escrow-1', 'A-JPY/m1/fund-escrow-2']) {
        const hidden = await api.request('GET', `/v1/settlement/instructions/${encodeURIComponent(id)}`, {
          token: stranger,
        });
        expect([hidden.status, (hidden.body as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
      }
    });

    describe('/v1/settlement/payout-accounts/me', () => {
      it('registers a bank account, answers with it masked, and lists it masked', async () => {
        const registered = await api.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: taraToken,
          body: { kind: 'iban', currency: 'EUR', holderName: 'Tara Example', iban, bic: 'COBADEFFXXX' },
        });
        expect(registered.status).toBe(200);
        expect(registered.body).toMatchObject({
          party: { mspId: 'TalentOrgMSP', userId: 'tara' },
          currency: 'EUR',
          kind: 'iban',
          holderName: 'Tara Example',
          masked: 'DE89 **** 3000',
        });

        const listed = await api.request('GET', '/v1/settlement/payout-accounts/me', { token: taraToken });
        expect(listed.status).toBe(200);
        expect(listed.body).toEqual([registered.body]);
        for (const response of [registered, listed]) expect(response.text).not.toContain('370400440532');

        // Sealed at rest, and still the account the provider is sent.
        const row = await api.db
          .selectFrom('payout_accounts')
          .selectAll()
          .where('user_id', '=', 'tara')
          .executeTakeFirstOrThrow();
        expect(row.sealed_details).not.toContain(iban);
        expect(await api.settlement!.accounts.accountFor({ mspId: 'TalentOrgMSP', userId: 'tara' }, 'EUR')).toEqual({
          accountId: row.account_id,
          details: { kind: 'iban', holderName: 'Tara Example', iban, bic: 'COBADEFFXXX' },
        });
      });

      it('replaces the account of a currency and keeps one per currency', async () => {
        const replaced = await api.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: taraToken,
          body: { kind: 'provider', currency: 'EUR', holderName: 'Tara Example', reference: providerReference },
        });
        expect(replaced.status).toBe(200);
        expect(replaced.body).toMatchObject({ kind: 'provider', masked: 'wall **** 9981' });
        const listed = await api.request('GET', '/v1/settlement/payout-accounts/me', { token: taraToken });
        expect(listed.body).toEqual([replaced.body]);
        expect(listed.text).not.toContain(providerReference);
      });

      it.each([
        ['body.iban', { iban: 'DE89370400440532013001' }],
        ['body.iban', { iban: 'de89 3704 0044 0532 0130 00' }],
        ['body.bic', { bic: 'COBA' }],
        ['body.holderName', { holderName: '   ' }],
      ])('refuses with 422 naming %s and stores nothing', async (field, change) => {
        const before = await api.db.selectFrom('payout_accounts').selectAll().execute();
        const refused = await api.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: taraToken,
          body: { kind: 'iban', currency: 'EUR', holderName: 'Tara Example', iban, bic: 'COBADEFFXXX', ...change },
        });
        expect(refused.status).toBe(422);
        expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
        expect(refused.text).not.toContain('370400440532');
        expect(await api.db.selectFrom('payout_accounts').selectAll().execute()).toEqual(before);
      });

      it('refuses a provider reference that is no account id with 422 naming it, and stores nothing', async () => {
        const before = await api.db.selectFrom('payout_accounts').selectAll().execute();
        const refused = await api.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: taraToken,
          body: { kind: 'provider', currency: 'EUR', holderName: 'Tara Example', reference: '../../etc' },
        });
        expect(refused.status).toBe(422);
        expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.reference' });
        expect(await api.db.selectFrom('payout_accounts').selectAll().execute()).toEqual(before);
      });

      it('never wrote an account number to the logs', () => {
        const logs = api.logLines.join('');
        expect(logs).toContain('/v1/settlement/payout-accounts/me');
        for (const secret of ['370400440532', '3704 0044 0532', providerReference]) expect(logs).not.toContain(secret);
      });
    });

    describe('/v1/settlement/callbacks/:provider', () => {
      const post = (provider: string, message: { headers: Record<string, string>; body: string }) =>
        api.request('POST', `/v1/settlement/callbacks/${provider}`, { headers: message.headers, body: message.body });

      it.each([
        [
          'unsigned',
          () => ({ headers: {}, body: signed(paidData('A-1/m1/fund-escrow-1')).body }),
          'WEBHOOK_SIGNATURE_MISSING',
          'header.webhook-id',
        ],
        [
          'tampered',
          () => {
            const message = signed(paidData('A-1/m1/fund-escrow-1'));
            return { headers: message.headers, body: message.body.replace('150000', '150001') };
          },
          'WEBHOOK_SIGNATURE_INVALID',
          'header.webhook-signature',
        ],
        [
          'signed with another secret',
          () => signed(paidData('A-1/m1/fund-escrow-1'), { secret: otherSecret }),
          'WEBHOOK_SIGNATURE_INVALID',
          'header.webhook-signature',
        ],
        [
          'stale',
          () => signed(paidData('A-1/m1/fund-escrow-1'), { signedAt: new Date(Date.now() - 10 * 60_000) }),
          'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
          'header.webhook-timestamp',
        ],
      ])('refuses a callback that is %s with 401 and the header at fault', async (_label, message, code, field) => {
        const answer = await post('sandbox', message());
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ code, field });
        expect(await api.db.selectFrom('settlement_webhook_receipts').selectAll().execute()).toEqual([]);
      });

      // The signature is checked before the bytes are read: what an unsigned message holds,
      // or how it says it is encoded, never turns its refusal into anything but 401.
      describe.each([
        ['names a member twice', '{"type":"payment_order.paid","type":"payment_order.failed"}', 'application/json'],
        ['is not JSON', '{"type": ', 'application/json'],
        ['nests 100,000 objects deep', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, 'application/json'],
        ['is empty', '', 'application/json'],
        ['is declared as text', JSON.stringify({ type: 'payment_order.paid' }), 'text/plain'],
        ['is declared as UTF-16', JSON.stringify({ type: 'payment_order.paid' }), 'application/json; charset=utf-16le'],
      ])('a callback whose body %s', (_label, body, contentType) => {
        const send = (headers: Record<string, string>) =>
          fetch(`${api.url}/v1/settlement/callbacks/sandbox`, {
            method: 'POST',
            headers: { 'content-type': contentType, ...headers },
            body,
          }).then(async (answer) => ({ status: answer.status, body: (await answer.json()) as { code?: string } }));

        it('is refused 401 WEBHOOK_SIGNATURE_MISSING when unsigned', async () => {
          const answer = await send({});
          expect([answer.status, answer.body.code]).toEqual([401, 'WEBHOOK_SIGNATURE_MISSING']);
        });

        it('is refused 400 WEBHOOK_PAYLOAD_INVALID when signed', async () => {
          const headers = signatureHeaders(webhookSigner(inboundSecret), 'msg_odd_body', new Date(), body);
          const answer = await send({ ...headers });
          expect([answer.status, answer.body.code]).toEqual([400, 'WEBHOOK_PAYLOAD_INVALID']);
          expect(await api.db.selectFrom('settlement_webhook_receipts').selectAll().execute()).toEqual([]);
        });
      });

      it('refuses a signed message that is not a callback with 400 WEBHOOK_PAYLOAD_INVALID', async () => {
        const answer = await post('sandbox', signed({ instructionId: 'A-1/m1/fund-escrow-1', amount: 'lots' }));
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ code: 'WEBHOOK_PAYLOAD_INVALID' });
        // A field left out is named as required, not as "received undefined".
        const { providerReference: _left, ...withoutReference } = paidData('A-1/m1/fund-escrow-1');
        const missing = await post('sandbox', signed(withoutReference));
        expect([missing.status, missing.body]).toEqual([
          400,
          expect.objectContaining({
            code: 'WEBHOOK_PAYLOAD_INVALID',
            message: 'data.providerReference: is required',
          }) as unknown,
        ]);
      });

      it('takes a callback whatever query string its webhook URL carries (the signature covers the body alone)', async () => {
        const message = signed({ instructionId: 'A-1/m1/fund-escrow-1', amount: 'lots' });
        const answer = await api.request('POST', '/v1/settlement/callbacks/sandbox?source=provider&attempt=2', {
          headers: message.headers,
          body: message.body,
        });
        // Past the query and the signature, to the payload's own check.
        expect([answer.status, (answer.body as { code?: string }).code]).toEqual([400, 'WEBHOOK_PAYLOAD_INVALID']);
      });

      it('answers 404 for a provider that is not configured', async () => {
        const answer = await post('elsewhere', signed(paidData('A-1/m1/fund-escrow-1')));
        expect(answer.status).toBe(404);
        expect(answer.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.provider' });
      });

      it('hands a genuine callback to the service: unknown instructions are refused, known ones taken once', async () => {
        const unknown = await post('sandbox', signed(paidData('A-1/m1/fund-escrow-9')));
        expect(unknown.status).toBe(400);
        expect(unknown.body).toMatchObject({ code: 'UNKNOWN_INSTRUCTION', field: 'body.data.instructionId' });

        const row = outboxRow('A-1/m1/fund-escrow-1', {
          state: 'sent',
          attempts: 1,
          next_attempt_at: null,
          provider_reference: 'sbx_ref_1',
        });
        await api.db.insertInto('settlement_outbox').values(row).execute();
        const message = signed(paidData(row.instruction_id), { webhookId: 'msg_route_genuine' });
        const first = await post('sandbox', message);
        const again = await post('sandbox', message);

        expect([first.status, first.body]).toEqual([200, { status: 'accepted' }]);
        expect([again.status, again.body]).toEqual([200, { status: 'duplicate' }]);
        expect(
          await api.db.selectFrom('settlement_webhook_receipts').select(['webhook_id', 'instruction_id']).execute(),
        ).toEqual([{ webhook_id: 'msg_route_genuine', instruction_id: row.instruction_id }]);
      });
    });
  });

  describe('with a budget of three refused callbacks and two requests a minute per address', () => {
    let api: Api;

    beforeAll(async () => {
      api = await startApi({
        settlement: true,
        env: { RATE_LIMIT_PER_MINUTE: '2', CALLBACK_RATE_LIMIT_PER_MINUTE: '3' },
      });
    });

    afterAll(async () => {
      await api.close();
    });

    it('answers 429 to refused callbacks past the budget while genuine ones and the address’s own requests pass', async () => {
      const post = (message: { headers: Record<string, string>; body: string }) =>
        api.request('POST', '/v1/settlement/callbacks/sandbox', { headers: message.headers, body: message.body });
      const forged = () => post(signed(paidData('A-1/m1/fund-escrow-1'), { secret: otherSecret }));
      for (let sent = 0; sent < 3; sent += 1) expect((await forged()).status).toBe(401);
      const over = await forged();
      expect([over.status, over.body]).toEqual([429, expect.objectContaining({ code: 'RATE_LIMITED' }) as unknown]);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);

      // Genuine callbacks, more of them than either budget, are taken all the same.
      const instructions = [
        'A-1/m1/fund-escrow-1',
        'A-2/m1/fund-escrow-1',
        'A-3/m1/fund-escrow-1',
        'A-4/m1/fund-escrow-1',
      ];
      for (const instructionId of instructions) {
        await api.db
          .insertInto('settlement_outbox')
          .values(
            outboxRow(instructionId, {
              state: 'sent',
              attempts: 1,
              next_attempt_at: null,
              provider_reference: 'sbx_ref_1',
            }),
          )
          .execute();
        const answer = await post(signed(paidData(instructionId)));
        expect([answer.status, answer.body]).toEqual([200, { status: 'accepted' }]);
      }
      expect((await forged()).status).toBe(429);

      // Neither kind took anything of the address's budget for people's requests.
      const verify = () =>
        api.request('POST', '/v1/credentials/verify', {
          body: { credentialId: 'urn:uuid:00000000-0000-4000-8000-000000000000', revealedClaims: [] },
        });
      expect((await verify()).status).toBe(200);
      expect((await verify()).status).toBe(200);
      expect(await verify()).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    });
  });

  describe('with budgets of two requests and two refused callbacks a minute per address', () => {
    let api: Api;

    beforeAll(async () => {
      api = await startApi({
        settlement: true,
        env: { RATE_LIMIT_PER_MINUTE: '2', CALLBACK_RATE_LIMIT_PER_MINUTE: '2' },
      });
    });

    afterAll(async () => {
      await api.close();
    });

    it('counts requests refused before any limit saw them against the budget they belong to', async () => {
      // Callbacks refused before their signature is read (an encoding not taken, an
      // undecodable path, a body declared too large) are refused callbacks.
      const badEncoding = () =>
        api.request('POST', '/v1/settlement/callbacks/sandbox', {
          headers: { 'content-encoding': 'x-foo' },
          body: '{}',
        });
      // A request with two Host headers, refused before any route is looked at.
      const { port } = new URL(api.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = once(socket, 'close');
      socket.end(
        'POST /v1/settlement/callbacks/sandbox HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      );
      await closed;
      expect(received.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect((await badEncoding()).status).toBe(415);
      expect((await api.request('POST', '/v1/settlement/callbacks/%E0%A4%A', { body: '{}' })).status).toBe(429);
      const over = await badEncoding();
      expectRateLimited(over, 'refused callbacks');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);

      // None of them took anything of the people's budget; bodies that are not JSON do.
      const notJson = () => api.request('POST', '/v1/credentials/verify', { body: '{"bad json' });
      expect((await notJson()).status).toBe(400);
      expect((await notJson()).status).toBe(400);
      expectRateLimited(await notJson(), 'requests');

      // A genuine callback is never counted, so never refused by either budget, whatever
      // credential header a proxy on its way added: its signature is its credential.
      await api.db
        .insertInto('settlement_outbox')
        .values(
          outboxRow('A-9/m1/fund-escrow-1', {
            state: 'sent',
            attempts: 1,
            next_attempt_at: null,
            provider_reference: 'sbx_ref_1',
          }),
        )
        .execute();
      const message = signed(paidData('A-9/m1/fund-escrow-1'));
      const genuine = await api.request('POST', '/v1/settlement/callbacks/sandbox', {
        headers: { ...message.headers, authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'not-a-key' },
        body: message.body,
      });
      expect([genuine.status, genuine.body]).toEqual([200, { status: 'accepted' }]);
    });
  });

  describe('with a budget of two requests a minute per address, before a caller is identified', () => {
    let api: Api;

    // A console of one page and one asset, built here.
    const consoleDir = mkdtempSync(path.join(os.tmpdir(), 'gl-console-'));

    beforeAll(async () => {
      mkdirSync(path.join(consoleDir, 'assets'));
      writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
      writeFileSync(path.join(consoleDir, 'assets', 'index-test.js'), 'export {};');
      api = await startApi({
        settlement: false,
        env: { RATE_LIMIT_PER_MINUTE: '2', GIGLEDGER_CONSOLE_DIR: consoleDir },
      });
    });

    afterAll(async () => {
      await api.close();
      rmSync(consoleDir, { recursive: true, force: true });
    });

    it("counts preflights, the OpenAPI document and the console's pages against it, and no callback", async () => {
      // Callbacks take nothing of it, even those the server fails (settlement off, 503).
      for (let sent = 0; sent < 3; sent += 1) {
        const answer = await api.request(
          'POST',
          '/v1/settlement/callbacks/sandbox',
          signed(paidData('A-1/m1/fund-escrow-1')),
        );
        expect(answer.status).toBe(503);
      }
      expect((await api.request('GET', '/openapi.json')).status).toBe(200);
      expect((await api.request('OPTIONS', '/v1/agreements')).status).toBe(204);
      for (const [method, path] of [
        ['GET', '/openapi.json'],
        ['OPTIONS', '/v1/agreements'],
        ['GET', '/console/'],
      ] as const) {
        expect([method, path, (await api.request(method, path)).status]).toEqual([method, path, 429]);
      }
      // The console's assets are not counted (the browser caches them).
      expect((await api.request('GET', '/console/assets/index-test.js')).status).toBe(200);
    });
  });

  describe('without a settlement configuration', () => {
    let api: Api;

    beforeAll(async () => {
      api = await startApi({ settlement: false });
    });

    afterAll(async () => {
      await api.close();
    });

    it('answers 503 SETTLEMENT_DISABLED on every settlement route', async () => {
      const token = await api.token('tara', 'TalentOrg', 'freelancer');
      const answers = [
        await api.request('PUT', '/v1/settlement/payout-accounts/me', {
          token,
          body: { kind: 'iban', currency: 'EUR', holderName: 'Tara Example', iban, bic: 'COBADEFFXXX' },
        }),
        await api.request('GET', '/v1/settlement/payout-accounts/me', { token }),
        await api.request('POST', '/v1/settlement/callbacks/sandbox', signed(paidData('A-1/m1/fund-escrow-1'))),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({ code: 'SETTLEMENT_DISABLED' });
      }
      expect(await api.db.selectFrom('payout_accounts').selectAll().execute()).toEqual([]);
    });
  });
});
