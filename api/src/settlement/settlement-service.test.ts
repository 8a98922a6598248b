import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import { pino } from 'pino';
import {
  agreementEvents,
  agreementTermsTransientKey,
  credentialClaimsTransientKey,
  licenceTermsSha256,
  licenceTermsTransientKey,
  licensingEvents,
  type MilestoneRecord,
  type Role,
} from '@gigledger/chaincode/model';
import type { LedgerClient, LedgerEvent } from '@gigledger/gateway';
import {
  SettlementService,
  type CrashPoint,
  type EventFollowerFactory,
  type ProviderAdapter,
  type SettlementDb,
  type SettlementObserver,
  type SettlementOutboxTable,
  type SettlementServiceOptions,
} from '@gigledger/settlement';
import { answerPain001, endToEndIdFor, Iso20022FileAdapter } from '@gigledger/settlement/iso20022';
import { startSandboxProvider, type SandboxProvider } from '@gigledger/settlement/sandbox';
import {
  signatureHeaders,
  verifyProviderCallback,
  WebhookProviderAdapter,
  webhookSigner,
} from '@gigledger/settlement/webhook';
import { partyOf } from '../agreements/agreement-gates.js';
import type { Principal } from '../auth/principal.js';
import { openDatabase, type Db } from '../db/database.js';
import { Sealer } from '../identity/sealer.js';
import { Metrics } from '../observability/metrics.js';
import { InMemoryLedgerAccess } from '../test-support/in-memory-ledger-access.js';
import { PayoutAccountStore } from './payout-accounts.js';
import { applyKeepAliveTimeout } from '../http/keep-alive.js';

const silent = pino({ level: 'silent' });

const outboundSecret = `whsec_${Buffer.from('outbound secret of the settlement tests!').toString('base64')}`;
const callbackSecret = `whsec_${Buffer.from('callback secret of the settlement tests!').toString('base64')}`;
const sandboxApiKey = 'sandbox-api-key-of-the-tests';

function principal(userId: string, mspId: string, role: Role): Principal {
  return { kind: 'person', id: userId, userId, org: mspId, mspId, role, scopes: [], identityLabel: `person:${userId}` };
}

const operator = principal('ops', 'ClientOrgMSP', 'admin');
const settler = principal('settlement-service', 'AuditOrgMSP', 'settlement');
const registrar = principal('kyc-registrar', 'AuditOrgMSP', 'issuer');
const carol = principal('carol', 'ClientOrgMSP', 'client');
const tara = principal('tara', 'TalentOrgMSP', 'freelancer');

/** Each wait's deadline; a scenario has several, so its own limit is larger. */
const waitDeadlineMs = 10_000;
const scenarioTimeoutMs = 60_000;

/** A bank reached by files in `dataDir`, paying from the platform's escrow account. */
function bankFiles(
  dataDir: string,
  batching: { batchSize: number; maxWaitMs?: number },
): { bank: Iso20022FileAdapter; outbox: string; inbox: string } {
  const outbox = path.join(dataDir, 'bank', 'outbox');
  const inbox = path.join(dataDir, 'bank', 'inbox');
  const debtor = { name: 'GigLedger Escrow Ltd', iban: 'GB82WEST12345698765432', bic: 'NWBKGB2L' };
  return { bank: new Iso20022FileAdapter({ name: 'bank-files', outbox, inbox, debtor, ...batching }), outbox, inbox };
}

/**
 * Drops the bank's camt.054 answer to the payment file `painFile` into the inbox as
 * `camt054-<fileSuffix>.xml`, as the bank's connector would: every payout booked, those
 * named in `returns` (by EndToEndId) then returned; `edit` changes the XML first.
 */
function answerPaymentFile(
  files: { outbox: string; inbox: string },
  painFile: string,
  fileSuffix: string,
  answer: { edit?: (camt: string) => string; returns?: Record<string, { code: string }> } = {},
): void {
  const camt = answerPain001(readFileSync(path.join(files.outbox, painFile), 'utf8'), {
    messageId: `BANK-${fileSuffix}`,
    createdAt: new Date().toISOString().slice(0, 19) + 'Z',
    bookingDate: new Date().toISOString().slice(0, 10),
    ...(answer.returns === undefined ? {} : { returns: answer.returns }),
  });
  mkdirSync(files.inbox, { recursive: true });
  writeFileSync(path.join(files.inbox, `camt054-${fileSuffix}.xml`), (answer.edit ?? ((xml) => xml))(camt));
}

/** A service log that keeps its warnings and errors as `warn <message>` and `error <message>`. */
function recordingLog(messages: string[]): SettlementServiceOptions['log'] {
  return {
    info: () => undefined,
    warn: (_object, message) => messages.push(`warn ${message}`),
    error: (_object, message) => messages.push(`error ${message}`),
  };
}

/**
 * `client` with one method of its agreements contract failing as a ledger out of reach
 * (peers or orderers down) fails, not as a refusal, while `outage.down`; every call counts.
 */
function unreachableWhileDown(
  client: LedgerClient,
  method: 'confirmSettlement' | 'retryHeldPayout',
  outage: { down: boolean; tries: number },
): LedgerClient {
  const real = client.agreements[method].bind(client.agreements) as (...args: unknown[]) => Promise<unknown>;
  const failing = async (...args: unknown[]): Promise<unknown> => {
    outage.tries += 1;
    if (outage.down) throw new Error('14 UNAVAILABLE: No connection established to any endorsing peer');
    return real(...args);
  };
  const agreements = Object.create(client.agreements, { [method]: { value: failing } }) as LedgerClient['agreements'];
  return { ...client, agreements };
}

/** An observer that records only the stages at which the ledger could not be reached. */
function countingUnreachable(stages: string[]): SettlementObserver {
  return {
    sendAttempted: () => undefined,
    callbackRefused: () => undefined,
    confirmationRecorded: () => undefined,
    ledgerUnreachable: (stage) => stages.push(stage),
  };
}

/** Polls until `probe` yields a value; fails naming what was awaited once the deadline passes. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + waitDeadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await delay(10);
  }
}

/**
 * Committed chaincode events of the in-memory ledger, handed to the service's handle
 * one at a time in commit order, as the gateway's event stream would.
 */
class LedgerEventFeed {
  readonly events: LedgerEvent[] = [];
  /** Further feeds every event is published to, for a second service following the same ledger. */
  readonly copiesTo: LedgerEventFeed[] = [];
  #handle: ((event: LedgerEvent) => Promise<void>) | undefined;
  #next = 0;
  #pumping: Promise<void> = Promise.resolve();

  readonly publish = (event: LedgerEvent): void => {
    this.events.push(event);
    this.#pump();
    for (const feed of this.copiesTo) feed.publish(event);
  };

  readonly follow: EventFollowerFactory = (checkpointer, handle, startBlock) => ({
    start: async () => {
      await checkpointer.load();
      const saved = checkpointer.getBlockNumber();
      // Resume after the stored checkpoint, or when there is none from `startBlock`, else from now on.
      this.#next =
        saved !== undefined
          ? this.events.filter((event) => event.blockNumber <= saved).length
          : startBlock !== undefined
            ? this.events.filter((event) => event.blockNumber < startBlock).length
            : this.events.length;
      this.#handle = handle;
      this.#pump();
    },
    stop: async () => {
      this.#handle = undefined;
      await this.#pumping;
    },
  });

  /** Hands `event` to the running service once more, as a re-delivered stream would. */
  async redeliver(event: LedgerEvent): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) throw new Error('no service follows the feed');
    await this.#pumping;
    await handle(event);
  }

  #pump(): void {
    this.#pumping = this.#pumping.then(async () => {
      while (this.#handle !== undefined && this.#next < this.events.length) {
        const event = this.events[this.#next]!;
        this.#next += 1;
        await this.#handle(event);
      }
    });
  }
}

interface ReceivedCallback {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
  readonly answer: unknown;
}

/**
 * The API's callback endpoint reduced to its two steps: verify the signature, then hand
 * the confirmation to whichever service is running. While `down`, it answers 503 as a
 * stopped server would, and the provider keeps re-delivering.
 */
class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  service: SettlementService | undefined;
  down = false;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<CallbackReceiver> {
    const server = createServer();
    // As the API's own server: a kept-alive connection outlives the client's reuse of it,
    // even on a machine so busy that timers fire late (Node's 5 s reset one under load).
    applyKeepAliveTimeout(server, 65_000);
    const receiver = new CallbackReceiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        void receiver.#answer(request.headers, body).then(({ status, answer }) => {
          receiver.received.push({ headers: request.headers, body, status, answer });
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/settlement/callbacks/sandbox`;
  }

  /** POSTs a callback as a provider would, and returns the receiver's answer. */
  async post(headers: Record<string, string>, body: string): Promise<{ status: number; answer: unknown }> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, answer: await response.json() };
  }

  async #answer(headers: IncomingHttpHeaders, body: string): Promise<{ status: number; answer: unknown }> {
    const service = this.service;
    if (this.down || service === undefined) return { status: 503, answer: { code: 'SETTLEMENT_DISABLED' } };
    const verified = verifyProviderCallback({ headers, rawBody: body, secret: callbackSecret });
    if (!verified.ok) return { status: verified.status, answer: { code: verified.code } };
    try {
      const result = await service.acceptConfirmation('sandbox', verified.webhookId, verified.confirmation);
      return result.status === 'refused' ? { status: 400, answer: result } : { status: 200, answer: result };
    } catch (error) {
      return { status: 500, answer: { code: 'INTERNAL', message: String(error) } };
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
    });
  }
}

/** A signed `payment_order.*` callback, as a provider sends it. */
function signedCallback(
  webhookId: string,
  data: { instructionId: string; providerReference: string; amount: string; currency: string; reason?: string },
  type: 'payment_order.paid' | 'payment_order.failed' = 'payment_order.paid',
): { headers: Record<string, string>; body: string } {
  const now = new Date();
  const body = JSON.stringify({ type, timestamp: now.toISOString(), data });
  return { headers: { ...signatureHeaders(webhookSigner(callbackSecret), webhookId, now, body) }, body };
}

/** The provider's own callback that a 150,000 EUR funding was collected. */
function fundingPaid(
  instructionId: string,
  providerReference: string,
): { headers: Record<string, string>; body: string } {
  return signedCallback('msg_genuine', { instructionId, providerReference, amount: '150000', currency: 'EUR' });
}

/** A stand-in provider that answers each payment order with the next scripted status. */
interface ScriptedProvider {
  readonly url: string;
  readonly requests: { readonly idempotencyKey: string | undefined; readonly receivedAt: number }[];
  /** The outbox row of each request's order as it stood when the request arrived. */
  readonly rowsAtArrival: (SettlementOutboxTable | undefined)[];
  close(): Promise<void>;
}

async function startScriptedProvider(
  db: SettlementDb,
  answer: (index: number) => { status: number; body: unknown },
): Promise<ScriptedProvider> {
  const requests: ScriptedProvider['requests'][number][] = [];
  const rowsAtArrival: (SettlementOutboxTable | undefined)[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const receivedAt = Date.now();
      const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
      void db
        .selectFrom('settlement_outbox')
        .selectAll()
        .where('instruction_id', '=', idempotencyKey ?? '')
        .executeTakeFirst()
        .then((row) => {
          rowsAtArrival.push(row);
          requests.push({ idempotencyKey, receivedAt });
          const { status, body } = answer(requests.length - 1);
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    rowsAtArrival,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

const validIban = 'DE89370400440532013000';
const validBic = 'COBADEFFXXX';

/**
 * Everything a settlement service runs against, all real: a migrated SQLite database,
 * the chaincode on the in-memory ledger, the sandbox provider over HTTP and a callback
 * receiver. `startService` starts a service on it; calling it again after `stop()` is
 * a restart on the same database.
 */
class Rig {
  readonly feed = new LedgerEventFeed();
  readonly ledger = new InMemoryLedgerAccess(new Metrics(), this.feed.publish);
  readonly observed: { provider: string; outcome: string }[] = [];
  service: SettlementService | undefined;
  #agreements = 0;

  private constructor(
    readonly dataDir: string,
    readonly apiDb: Db,
    readonly sandbox: SandboxProvider,
    readonly receiver: CallbackReceiver,
    readonly accounts: PayoutAccountStore,
  ) {}

  static async start(
    options: { kycCredentialTypes?: string[]; sandboxCallbackDelayMs?: number; failAmountSuffixes?: string[] } = {},
  ): Promise<Rig> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-settlement-'));
    const apiDb = await openDatabase({ kind: 'sqlite', file: path.join(dataDir, 'api.sqlite') });
    const receiver = await CallbackReceiver.start();
    const sandbox = await startSandboxProvider({
      port: 0,
      outboundSecret,
      callbackSecret,
      callbackUrl: receiver.url,
      apiKey: sandboxApiKey,
      failAmountSuffixes: options.failAmountSuffixes ?? [],
      callbackDelayMs: options.sandboxCallbackDelayMs ?? 10,
      callbackRetry: { baseMs: 20, maxMs: 100 },
    });
    const rig = new Rig(dataDir, apiDb, sandbox, receiver, new PayoutAccountStore(apiDb, new Sealer('test key')));
    const admin = await rig.as(operator);
    for (const [name, value] of Object.entries({
      platformFeeBps: 250,
      defaultReviewWindowSeconds: 604_800,
      maxRevisions: 3,
      kycCredentialTypes: options.kycCredentialTypes ?? [],
      settlementOrganisations: ['AuditOrgMSP'],
    })) {
      await admin.parameters.setParameter({ name: name as 'platformFeeBps', value });
    }
    return rig;
  }

  get db(): SettlementDb {
    // The settlement tables are part of the API's schema, as the runtime wires them.
    return this.apiDb as unknown as SettlementDb;
  }

  /** The webhook adapter to the sandbox, or to another provider (`name`, `providerUrl`) speaking the same protocol. */
  adapter(overrides: { fetch?: typeof fetch; name?: string; providerUrl?: string } = {}): WebhookProviderAdapter {
    return new WebhookProviderAdapter({
      name: 'sandbox',
      providerUrl: this.sandbox.url,
      outboundSecret,
      apiKey: sandboxApiKey,
      ...overrides,
    });
  }

  as(person: Principal): Promise<LedgerClient> {
    return this.ledger.clientFor(person, silent);
  }

  async startService(overrides: Partial<SettlementServiceOptions> = {}): Promise<SettlementService> {
    const adapter = this.adapter();
    const observer: SettlementObserver = {
      sendAttempted: (provider, outcome) => this.observed.push({ provider, outcome }),
      callbackRefused: () => undefined,
      confirmationRecorded: () => undefined,
    };
    const service = new SettlementService({
      db: this.db,
      ledger: await this.as(settler),
      organisation: settler.mspId,
      follow: this.feed.follow,
      providerFor: () => adapter,
      accounts: this.accounts,
      log: silent,
      observer,
      backoff: { baseMs: 20, maxMs: 50 },
      sweepIntervalMs: 25,
      ...overrides,
    });
    await service.start();
    this.service = service;
    this.receiver.service = service;
    return service;
  }

  /**
   * A settlement service of another organisation's API: its own database and payout
   * accounts (Carol's registered), the same ledger (every event copied to a feed of its
   * own) and provider.
   */
  async serviceOf(mspId: string, options: { startBlock?: bigint } = {}) {
    const db = await openDatabase({ kind: 'sqlite', file: path.join(this.dataDir, `${mspId}.sqlite`) });
    const accounts = new PayoutAccountStore(db, new Sealer(`the key of ${mspId}`));
    await accounts.register(partyOf(carol), {
      kind: 'iban',
      currency: 'EUR',
      holderName: 'carol Example',
      iban: validIban,
      bic: validBic,
    });
    const feed = new LedgerEventFeed();
    for (const event of this.feed.events) feed.publish(event);
    this.feed.copiesTo.push(feed);
    const service = new SettlementService({
      db: db as unknown as SettlementDb,
      ledger: await this.as(principal(`${mspId}-settlement`, mspId, 'settlement')),
      organisation: mspId,
      ...(options.startBlock === undefined ? {} : { startBlock: options.startBlock }),
      follow: feed.follow,
      providerFor: () => this.adapter(),
      accounts,
      log: silent,
      backoff: { baseMs: 20, maxMs: 50 },
      sweepIntervalMs: 25,
    });
    await service.start();
    return {
      row: (instructionId: string) =>
        db.selectFrom('settlement_outbox').selectAll().where('instruction_id', '=', instructionId).executeTakeFirst(),
      close: async () => {
        await service.stop();
        await db.destroy();
      },
    };
  }

  async registerAccounts(...people: Principal[]): Promise<void> {
    for (const person of people) {
      await this.accounts.register(partyOf(person), {
        kind: 'iban',
        currency: 'EUR',
        holderName: `${person.userId} Example`,
        iban: validIban,
        bic: validBic,
      });
    }
  }

  /** Drafts an agreement of one EUR 1 500.00 milestone between `client` and Tara, and has her accept it. */
  async activeAgreement(client: Principal = carol): Promise<string> {
    this.#agreements += 1;
    const agreementId = `A-${String(this.#agreements).padStart(3, '0')}`;
    const terms = { scope: `Fine-tune the defect classifier (${agreementId})`, salt: '3'.repeat(32) };
    const drafted = await (
      await this.as(client)
    ).agreements.draftAgreement(
      {
        requestId: `draft-${agreementId}`,
        agreementId,
        title: `Defect classifier ${agreementId}`,
        client: partyOf(client),
        freelancer: partyOf(tara),
        milestones: [
          {
            kind: 'deliverable',
            milestoneId: 'm1',
            title: 'Baseline model',
            amount: '150000',
            currency: 'EUR',
            dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString(),
            reviewWindowSeconds: 3600,
            acceptanceCriteria: { description: 'Accuracy on the hold-out set' },
          },
        ],
      },
      { transient: { [agreementTermsTransientKey]: terms } },
    );
    await (
      await this.as(tara)
    ).agreements.acceptAgreement({ agreementId, termsSha256: drafted.result.agreement.termsSha256 });
    return agreementId;
  }

  /** Asks for funding; returns the fund-escrow instruction id. */
  async fund(agreementId: string, client: Principal = carol): Promise<string> {
    const funding = await (
      await this.as(client)
    ).agreements.fundMilestone({ requestId: `fund-${agreementId}`, agreementId, milestoneId: 'm1' });
    return funding.result.instructions.at(-1)!.instructionId;
  }

  /** Tara delivers, the client accepts and releases; returns the release instruction. */
  async release(agreementId: string, client: Principal = carol): Promise<MilestoneRecord['instructions'][number]> {
    await (
      await this.as(tara)
    ).agreements.submitDeliverable({
      requestId: `submit-${agreementId}`,
      agreementId,
      milestoneId: 'm1',
      artifactSha256: 'a'.repeat(64),
      uri: 'https://models.example.com/defects/v1.safetensors',
      claimedMetrics: { accuracy: 0.93 },
    });
    const buyer = await this.as(client);
    await buyer.agreements.acceptMilestone({ agreementId, milestoneId: 'm1' });
    const released = await buyer.agreements.releaseMilestone({
      requestId: `release-${agreementId}`,
      agreementId,
      milestoneId: 'm1',
    });
    return released.result.instructions.at(-1)!;
  }

  async milestone(agreementId: string): Promise<MilestoneRecord> {
    const view = await (await this.as(operator)).agreements.getAgreement({ agreementId });
    return view.milestones[0]!;
  }

  row(instructionId: string): Promise<SettlementOutboxTable | undefined> {
    return this.db
      .selectFrom('settlement_outbox')
      .selectAll()
      .where('instruction_id', '=', instructionId)
      .executeTakeFirst();
  }

  rowIn(instructionId: string, state: SettlementOutboxTable['state']): Promise<SettlementOutboxTable> {
    return eventually(`${instructionId} to be ${state}`, async () => {
      const row = await this.row(instructionId);
      return row?.state === state ? row : undefined;
    });
  }

  /**
   * A funded agreement whose release the ledger holds for the payee's missing KYC
   * credential, once `service` has taken note of the hold.
   */
  async heldRelease(
    service: SettlementService,
  ): Promise<{ agreementId: string; release: MilestoneRecord['instructions'][number] }> {
    const agreementId = await this.activeAgreement();
    await this.rowIn(await this.fund(agreementId), 'confirmed');
    const release = await this.release(agreementId);
    await eventually('the held payout to be remembered', async () =>
      (await service.stats()).held === 1 ? true : undefined,
    );
    return { agreementId, release };
  }

  /** The operator registers the KYC registrar as an issuer of `KYC` credentials. */
  async registerKycIssuer(): Promise<void> {
    await (
      await this.as(operator)
    ).credentials.registerIssuer({
      requestId: 'register-kyc-registrar',
      issuer: partyOf(registrar),
      displayName: 'KYC registrar',
      credentialTypes: ['KYC'],
    });
  }

  /** The KYC registrar issues Tara a `KYC` credential: what clears her payouts held for KYC. */
  async issueKycToTara(): Promise<void> {
    await (
      await this.as(registrar)
    ).credentials.issueCredential(
      {
        requestId: 'issue-kyc-tara',
        credentialId: 'urn:uuid:6f0e1a52-0000-4000-8000-00000000c0de',
        subject: partyOf(tara),
        type: 'KYC',
      },
      { transient: { [credentialClaimsTransientKey]: [{ name: 'level', value: 'enhanced', salt: 'a'.repeat(64) }] } },
    );
  }

  /** Committed ledger writes that recorded a confirmation of `instructionId`. */
  confirmationsOnLedger(instructionId: string): { txId: string; actor: unknown }[] {
    return this.ledger.ledger.transactions
      .filter((transaction) => transaction.writes.length > 0)
      .flatMap((transaction) => {
        if (transaction.event?.name !== agreementEvents.settlementConfirmed.name) return [];
        const payload = agreementEvents.settlementConfirmed.payload.parse(transaction.event.payload);
        return payload.instruction.instructionId === instructionId
          ? [{ txId: transaction.txId, actor: payload.actor }]
          : [];
      });
  }

  /** Transactions that wrote to the ledger, to show that something changed nothing. */
  ledgerWrites(): number {
    return this.ledger.ledger.transactions.filter((transaction) => transaction.writes.length > 0).length;
  }

  async close(): Promise<void> {
    try {
      await this.service?.stop();
      await this.sandbox.close();
      await this.receiver.close();
      await this.apiDb.destroy();
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

describe('SettlementService against the chaincode, the sandbox provider and SQLite', () => {
  const rigs: Rig[] = [];
  const startRig = async (options?: Parameters<typeof Rig.start>[0]): Promise<Rig> => {
    const rig = await Rig.start(options);
    rigs.push(rig);
    return rig;
  };

  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
  });

  it(
    'collects the escrow and pays the release through the provider, and the ledger records both from its callbacks',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      await rig.startService();
      const agreementId = await rig.activeAgreement();

      const fundId = await rig.fund(agreementId);
      const funded = await rig.rowIn(fundId, 'confirmed');
      expect((await rig.milestone(agreementId)).status).toBe('funded');

      const release = await rig.release(agreementId);
      expect(release).toMatchObject({ kind: 'release', status: 'pending' });
      const paid = await rig.rowIn(release.instructionId, 'confirmed');
      const milestone = await rig.milestone(agreementId);
      expect(milestone.status).toBe('paid');

      const payments = rig.sandbox.payments();
      expect(payments.map((payment) => [payment.instructionId, payment.direction, payment.amount])).toEqual([
        [fundId, 'collect', '150000'],
        [release.instructionId, 'payout', release.amount],
      ]);
      for (const payment of payments) {
        expect(payment).toMatchObject({ status: 'paid', receivedCount: 1, executedCount: 1 });
      }
      // Each ledger confirmation is the service's own, carrying the provider's reference.
      for (const [row, payment] of [
        [funded, payments[0]!],
        [paid, payments[1]!],
      ] as const) {
        const recorded = rig.confirmationsOnLedger(row.instruction_id);
        expect(recorded).toEqual([
          { txId: row.confirm_tx_id, actor: expect.objectContaining(partyOf(settler)) as unknown },
        ]);
        expect(row).toMatchObject({ outcome: 'paid', provider_reference: payment.providerReference, attempts: 1 });
      }
      expect(milestone.instructions.map((instruction) => instruction.confirmation?.providerReference)).toEqual(
        payments.map((payment) => payment.providerReference),
      );
    },
    scenarioTimeoutMs,
  );

  it(
    'sends each instruction from the one service its settling organisation runs, when two organisations run one',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      const admin = await rig.as(operator);
      await admin.parameters.setParameter({ name: 'settlementOrganisations', value: ['AuditOrgMSP', 'ClientOrgMSP'] });
      await rig.startService();
      // ClientOrg's own API runs a settlement service too: its own database and accounts, the same ledger and provider.
      const clientOrg = await rig.serviceOf('ClientOrgMSP');
      const clientOrgRow = clientOrg.row;
      try {
        const first = await rig.activeAgreement();
        const firstFunding = await rig.fund(first);
        await rig.rowIn(firstFunding, 'confirmed');
        expect(await clientOrgRow(firstFunding)).toBeUndefined();

        // Governance lists ClientOrg first: new instructions are its service's, and only its.
        await admin.parameters.setParameter({
          name: 'settlementOrganisations',
          value: ['ClientOrgMSP', 'AuditOrgMSP'],
        });
        const second = await rig.activeAgreement();
        const secondFunding = await rig.fund(second);
        await eventually('ClientOrg to send the second funding', async () => {
          const row = await clientOrgRow(secondFunding);
          return row !== undefined && row.state !== 'queued' && row.state !== 'sending' ? row : undefined;
        });
        await delay(200);
        expect(await rig.row(secondFunding)).toBeUndefined();

        const orders = rig.sandbox.payments().map((payment) => [payment.instructionId, payment.receivedCount]);
        expect(orders).toEqual([
          [firstFunding, 1],
          [secondFunding, 1],
        ]);
      } finally {
        await clientOrg.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    'takes in, from the block it is told, the instructions naming its organisation issued before its first start',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      const admin = await rig.as(operator);
      // Governance listed ClientOrg first before ClientOrg ran a service: nobody sends its instructions.
      await admin.parameters.setParameter({ name: 'settlementOrganisations', value: ['ClientOrgMSP', 'AuditOrgMSP'] });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      const late = await rig.serviceOf('ClientOrgMSP', { startBlock: 0n });
      try {
        const sent = await eventually('the instruction issued before the start to be sent', async () => {
          const row = await late.row(fundId);
          return row !== undefined && row.state !== 'queued' && row.state !== 'sending' ? row : undefined;
        });
        expect(sent).toMatchObject({ attempts: 1, provider: 'sandbox' });
        expect(rig.sandbox.payments().map((payment) => [payment.instructionId, payment.receivedCount])).toEqual([
          [fundId, 1],
        ]);
      } finally {
        await late.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    "keeps a provider's answer the ledger refuses to record, offers it again after the longest backoff, and records it once the cause is gone",
    async () => {
      // The provider answers a second after taking the order: time to hand settlement to another organisation.
      const rig = await startRig({ sandboxCallbackDelayMs: 1_000 });
      await rig.registerAccounts(carol, tara);
      const refusals: string[] = [];
      const messages: string[] = [];
      const service = await rig.startService({
        backoff: { baseMs: 20, maxMs: 1_500 },
        log: recordingLog(messages),
        observer: {
          sendAttempted: () => undefined,
          callbackRefused: () => undefined,
          confirmationRecorded: () => undefined,
          confirmationRefused: (code) => refusals.push(code),
        },
      });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      const sent = await rig.rowIn(fundId, 'sent');
      const admin = await rig.as(operator);
      await admin.parameters.setParameter({ name: 'settlementOrganisations', value: ['ClientOrgMSP'] });

      const refused = await eventually('the refusal to be kept on the row', async () => {
        const row = await rig.row(fundId);
        return row?.last_error?.includes('FORBIDDEN') === true ? row : undefined;
      });
      expect(refused).toMatchObject({
        state: 'confirming',
        outcome: 'paid',
        provider_reference: sent.provider_reference,
      });
      expect(refused.last_error).toMatch(
        /^the ledger refused to record provider sandbox's paid answer \(FORBIDDEN: .+\); offered again at /,
      );
      // Many sweeps within the backoff: one attempt, one log line, no retry warnings.
      await delay(600);
      expect(refusals).toEqual(['FORBIDDEN']);
      expect(messages.filter((message) => message.startsWith('error the ledger refused'))).toHaveLength(1);
      expect(messages.filter((message) => message.startsWith('warn'))).toEqual([]);
      expect(rig.confirmationsOnLedger(fundId)).toEqual([]);
      // The provider's answer stands: another outcome is a conflict, and a person may not answer it by hand.
      const contradiction = await service.acceptConfirmation('sandbox', 'msg_contradicting', {
        instructionId: fundId,
        outcome: 'failed',
        providerReference: sent.provider_reference ?? '',
        amountMinor: 150_000n,
        currency: 'EUR',
        reason: 'insufficient funds',
      });
      expect(contradiction.status).toBe('conflict');
      expect(await service.handAnswerRefusal(fundId, { outcome: 'failed', providerReference: 'by-hand' })).toEqual(
        expect.any(String),
      );

      // Governance gives settlement back: the kept answer is recorded at its next attempt.
      await admin.parameters.setParameter({ name: 'settlementOrganisations', value: ['AuditOrgMSP'] });
      const confirmed = await rig.rowIn(fundId, 'confirmed');
      expect(confirmed).toMatchObject({ outcome: 'paid', provider_reference: sent.provider_reference });
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
      expect((await rig.milestone(agreementId)).status).toBe('funded');
    },
    scenarioTimeoutMs,
  );

  it(
    'waits a growing backoff between tries to record a confirmation while the ledger cannot be reached, and records it once it can',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol);
      const outage = { down: true, tries: 0 };
      const messages: string[] = [];
      const stages: string[] = [];
      // The longest draw of each backoff: 200, 400, 800 ms, then 1 s each.
      await rig.startService({
        ledger: unreachableWhileDown(await rig.as(settler), 'confirmSettlement', outage),
        backoff: { baseMs: 200, maxMs: 1_000, random: () => 1 - Number.EPSILON },
        log: recordingLog(messages),
        observer: countingUnreachable(stages),
      });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);

      const waiting = await eventually('the failure to be kept on the row', async () => {
        const row = await rig.row(fundId);
        return row?.last_error?.startsWith('recording provider') === true ? row : undefined;
      });
      expect(waiting).toMatchObject({ state: 'confirming', outcome: 'paid' });
      expect(waiting.last_error).toMatch(
        /^recording provider sandbox's paid answer failed \(14 UNAVAILABLE: .+\); offered again at \d{4}-/,
      );
      expect(waiting.next_attempt_at).not.toBeNull();
      // Sweeps run every 25 ms: a second and a half would be some 60 tries without the backoff.
      await delay(1_500);
      expect(outage.tries).toBeGreaterThanOrEqual(2);
      expect(outage.tries).toBeLessThanOrEqual(4);
      expect(
        messages.every((message) => message === 'warn recording a settlement confirmation failed; will retry'),
      ).toBe(true);
      expect(stages).toEqual(Array.from({ length: outage.tries }, () => 'confirmation'));
      expect(rig.confirmationsOnLedger(fundId)).toEqual([]);

      outage.down = false;
      const confirmed = await rig.rowIn(fundId, 'confirmed');
      expect(confirmed.confirm_tx_id).not.toBeNull();
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
      expect((await rig.milestone(agreementId)).status).toBe('funded');
    },
    scenarioTimeoutMs,
  );

  it(
    'defers an instruction it cannot prepare for its provider, and sends the others of the sweep',
    async () => {
      const rig = await startRig();
      const dave = principal('dave', 'ClientOrgMSP', 'client');
      await rig.registerAccounts(carol, tara);
      const messages: string[] = [];
      await rig.startService({
        backoff: { baseMs: 20, maxMs: 60_000 },
        log: recordingLog(messages),
        // Dave's account was sealed under a key the server no longer holds.
        accounts: {
          accountFor: (party, currency) =>
            party.userId === dave.userId
              ? Promise.reject(new Error('the sealed account cannot be opened with the current key'))
              : rig.accounts.accountFor(party, currency),
        },
      });
      await rig.registerAccounts(dave);
      const stranded = await rig.fund(await rig.activeAgreement(dave), dave);
      const paid = await rig.fund(await rig.activeAgreement());

      expect(await rig.rowIn(paid, 'confirmed')).toMatchObject({ outcome: 'paid' });
      const deferred = await rig.rowIn(stranded, 'retry');
      expect(deferred).toMatchObject({ attempts: 0 });
      expect(deferred.last_error).toBe(
        'could not be prepared for its provider: the sealed account cannot be opened with the current key',
      );
      expect(Date.parse(deferred.next_attempt_at ?? '')).toBeGreaterThan(Date.now() + 50_000);
      expect(messages.filter((message) => message === 'error a settlement instruction could not be sent')).toHaveLength(
        1,
      );
    },
    scenarioTimeoutMs,
  );

  it(
    'takes an event delivered twice into the outbox once, writing its checkpoint with it',
    async () => {
      const rig = await startRig();
      // No payout account: the row stays undispatched, so only intake is observed.
      await rig.startService();
      const agreementId = await rig.activeAgreement();
      expect(await rig.db.selectFrom('checkpoints').selectAll().execute()).toEqual([]);

      const fundId = await rig.fund(agreementId);
      await rig.rowIn(fundId, 'retry');
      const event = rig.feed.events.find((candidate) => candidate.name === agreementEvents.fundingRequested.name)!;
      await rig.feed.redeliver(event);

      const rows = await rig.db.selectFrom('settlement_outbox').selectAll().execute();
      expect(rows.map((row) => row.instruction_id)).toEqual([fundId]);
      expect(rows[0]).toMatchObject({
        agreement_id: agreementId,
        kind: 'fund-escrow',
        direction: 'collect',
        amount: '150000',
        currency: 'EUR',
        counterparty_msp: carol.mspId,
        counterparty_user: carol.userId,
        block_number: event.blockNumber.toString(),
        request_tx_id: event.transactionId,
        attempts: 0,
      });
      expect(
        await rig.db.selectFrom('checkpoints').select(['name', 'block_number', 'transaction_id']).execute(),
      ).toEqual([
        { name: 'settlement-outbox', block_number: event.blockNumber.toString(), transaction_id: event.transactionId },
      ]);
    },
    scenarioTimeoutMs,
  );

  it(
    'records at once a callback for an instruction waiting to be sent again, whatever its retry time',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol);
      // The provider took the order, but its answer was lost: a 503, and the next attempt far off.
      const lost = await startScriptedProvider(rig.db, () => ({
        status: 503,
        body: { code: 'UNAVAILABLE', message: 'gateway timeout' },
      }));
      try {
        const adapter = rig.adapter({ name: 'lost', providerUrl: lost.url });
        const service = await rig.startService({
          providerFor: () => adapter,
          backoff: { baseMs: 600_000, maxMs: 600_000 },
        });
        const fundId = await rig.fund(await rig.activeAgreement(carol), carol);
        const waiting = await rig.rowIn(fundId, 'retry');
        expect(waiting.attempts).toBe(1);

        const taken = await service.acceptConfirmation('lost', 'msg_after_lost_answer', {
          instructionId: fundId,
          outcome: 'paid',
          providerReference: 'lost-ref-1',
          amountMinor: 150_000n,
          currency: 'EUR',
        });
        expect(taken.status).toBe('accepted');
        expect(await rig.rowIn(fundId, 'confirmed')).toMatchObject({
          outcome: 'paid',
          provider_reference: 'lost-ref-1',
        });
        expect(lost.requests).toHaveLength(1);
      } finally {
        await lost.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    "takes each provider's callback though another provider's bore the same webhook id, and still drops a replay",
    async () => {
      const rig = await startRig();
      const dave = principal('dave', 'ClientOrgMSP', 'client');
      await rig.registerAccounts(carol, dave);
      const takes = (reference: string) => () => ({ status: 202, body: { providerReference: reference } });
      const first = await startScriptedProvider(rig.db, takes('first-ref-1'));
      const second = await startScriptedProvider(rig.db, takes('second-ref-1'));
      try {
        const adapters: Record<string, ProviderAdapter> = {
          carol: rig.adapter({ name: 'first', providerUrl: first.url }),
          dave: rig.adapter({ name: 'second', providerUrl: second.url }),
        };
        const service = await rig.startService({ providerFor: (party) => adapters[party.userId]! });
        const carolFund = await rig.fund(await rig.activeAgreement(carol), carol);
        const daveFund = await rig.fund(await rig.activeAgreement(dave), dave);
        await rig.rowIn(carolFund, 'sent');
        await rig.rowIn(daveFund, 'sent');

        // Standard Webhooks ids are unique per sender: both providers number their messages from 1.
        const paid = (instructionId: string, providerReference: string) => ({
          instructionId,
          outcome: 'paid' as const,
          providerReference,
          amountMinor: 150_000n,
          currency: 'EUR',
        });
        expect(await service.acceptConfirmation('first', 'msg_1', paid(carolFund, 'first-ref-1'))).toEqual({
          status: 'accepted',
        });
        expect(await service.acceptConfirmation('second', 'msg_1', paid(daveFund, 'second-ref-1'))).toEqual({
          status: 'accepted',
        });
        expect(await rig.rowIn(carolFund, 'confirmed')).toMatchObject({ provider_reference: 'first-ref-1' });
        expect(await rig.rowIn(daveFund, 'confirmed')).toMatchObject({ provider_reference: 'second-ref-1' });
        expect(await service.acceptConfirmation('second', 'msg_1', paid(daveFund, 'second-ref-1'))).toEqual({
          status: 'duplicate',
        });
        expect(
          await rig.db
            .selectFrom('settlement_webhook_receipts')
            .select(['provider', 'webhook_id', 'instruction_id'])
            .orderBy('provider')
            .execute(),
        ).toEqual([
          { provider: 'first', webhook_id: 'msg_1', instruction_id: carolFund },
          { provider: 'second', webhook_id: 'msg_1', instruction_id: daveFund },
        ]);
      } finally {
        await first.close();
        await second.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    'retries a provider answering 503 with backoff until it takes the order, and dead-letters one answering 422',
    async () => {
      const rig = await startRig();
      const dave = principal('dave', 'ClientOrgMSP', 'client');
      await rig.registerAccounts(carol, dave);
      const flaky = await startScriptedProvider(rig.db, (index) =>
        index < 2
          ? { status: 503, body: { code: 'UNAVAILABLE', message: 'maintenance' } }
          : { status: 202, body: { providerReference: 'flaky-ref-1' } },
      );
      const closed = await startScriptedProvider(rig.db, () => ({
        status: 422,
        body: { code: 'ACCOUNT_CLOSED', message: 'the debtor account is closed' },
      }));
      try {
        const adapters: Record<string, ProviderAdapter> = {
          carol: rig.adapter({ name: 'flaky', providerUrl: flaky.url }),
          dave: rig.adapter({ name: 'closed', providerUrl: closed.url }),
        };
        const service = await rig.startService({ providerFor: (party) => adapters[party.userId]! });

        const flakyId = await rig.fund(await rig.activeAgreement(carol), carol);
        const closedId = await rig.fund(await rig.activeAgreement(dave), dave);
        const sent = await rig.rowIn(flakyId, 'sent');
        const dead = await rig.rowIn(closedId, 'dead');

        expect(flaky.requests.map((request) => request.idempotencyKey)).toEqual([flakyId, flakyId, flakyId]);
        expect(sent).toMatchObject({
          provider: 'flaky',
          attempts: 3,
          provider_reference: 'flaky-ref-1',
          last_error: null,
        });
        // Each retry waited for the time the failure before it scheduled.
        for (const index of [1, 2]) {
          const row = flaky.rowsAtArrival[index]!;
          expect(row).toMatchObject({ state: 'sending', attempts: index + 1 });
          expect(row.last_error).toBe('HTTP 503 UNAVAILABLE: maintenance');
          expect(flaky.requests[index]!.receivedAt).toBeGreaterThanOrEqual(Date.parse(row.next_attempt_at!));
        }
        expect(closed.requests).toHaveLength(1);
        expect(dead).toMatchObject({
          provider: 'closed',
          attempts: 1,
          last_error: 'HTTP 422 ACCOUNT_CLOSED: the debtor account is closed',
        });
        expect(rig.observed.filter((seen) => seen.provider === 'closed').map((seen) => seen.outcome)).toEqual([
          'rejected',
        ]);
        expect(rig.observed.filter((seen) => seen.provider === 'flaky').map((seen) => seen.outcome)).toEqual([
          'retry',
          'retry',
          'accepted',
        ]);
        const stats = await service.stats();
        expect(stats.byState).toEqual({
          queued: 0,
          sending: 0,
          retry: 0,
          sent: 1,
          confirming: 0,
          confirmed: 0,
          dead: 1,
        });
        expect(stats.held).toBe(0);
      } finally {
        await flaky.close();
        await closed.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    'after its organisation is routed to another provider, sends an instruction never sent there, and dead-letters one sent before',
    async () => {
      const rig = await startRig();
      const dave = principal('dave', 'ClientOrgMSP', 'client');
      await rig.registerAccounts(carol);
      // The old provider took Carol's order but its answer was lost; Dave's was never sent (no account yet).
      const old = await startScriptedProvider(rig.db, () => ({
        status: 503,
        body: { code: 'UNAVAILABLE', message: 'gateway timeout' },
      }));
      const next = await startScriptedProvider(rig.db, () => ({ status: 202, body: { providerReference: 'next-1' } }));
      try {
        const oldAdapter = rig.adapter({ name: 'old', providerUrl: old.url });
        const nextAdapter = rig.adapter({ name: 'next', providerUrl: next.url });
        const first = await rig.startService({
          providerFor: () => oldAdapter,
          backoff: { baseMs: 600_000, maxMs: 600_000 },
        });
        const carolFund = await rig.fund(await rig.activeAgreement(carol), carol);
        const daveFund = await rig.fund(await rig.activeAgreement(dave), dave);
        expect(await rig.rowIn(carolFund, 'retry')).toMatchObject({ provider: 'old', attempts: 1 });
        expect(await rig.rowIn(daveFund, 'retry')).toMatchObject({ provider: 'old', attempts: 0 });
        await first.stop();
        await rig.registerAccounts(dave);
        await rig.db
          .updateTable('settlement_outbox')
          .set({ next_attempt_at: new Date(0).toISOString() })
          .where('instruction_id', 'in', [carolFund, daveFund])
          .execute();

        const providers = [oldAdapter, nextAdapter];
        await rig.startService({
          providerFor: () => nextAdapter,
          providerNamed: (name) => providers.find((provider) => provider.name === name),
        });
        expect(await rig.rowIn(daveFund, 'sent')).toMatchObject({ provider: 'next', provider_reference: 'next-1' });
        const dead = await rig.rowIn(carolFund, 'dead');
        expect(dead.provider).toBe('old');
        expect(dead.last_error).toContain('was handed to provider old before and is now routed to provider next');
        // Carol's order went to the old provider once, and never to the new one.
        expect(old.requests.map((request) => request.idempotencyKey)).toEqual([carolFund]);
        expect(next.requests.map((request) => request.idempotencyKey)).toEqual([daveFund]);
      } finally {
        await old.close();
        await next.close();
      }
    },
    scenarioTimeoutMs,
  );

  it(
    'refuses a hand answer of failed for a dead letter its provider still holds, as a lost answer and a changed account leave one',
    async () => {
      // The sandbox takes orders but does not execute them during the test: the order stays pending there.
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.registerAccounts(carol);
      let calls = 0;
      const losingFirstAnswer: typeof fetch = async (input, init) => {
        calls += 1;
        const answer = await fetch(input, init);
        if (calls > 1) return answer;
        // The provider took the order, its answer is lost, and meanwhile Carol changes her account.
        await answer.text();
        await rig.accounts.register(partyOf(carol), {
          kind: 'iban',
          currency: 'EUR',
          holderName: 'carol Example',
          iban: 'GB82WEST12345698765432',
          bic: 'NWBKGB2L',
        });
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      };
      const adapter = rig.adapter({ fetch: losingFirstAnswer });
      const service = await rig.startService({ providerFor: () => adapter });
      const fundId = await rig.fund(await rig.activeAgreement());

      // The retry carries the new account: the provider refuses it as a reused key, and it is a dead letter.
      const dead = await rig.rowIn(fundId, 'dead');
      expect(dead).toMatchObject({ attempts: 2 });
      expect(dead.last_error).toContain('IDEMPOTENCY_KEY_REUSED');
      expect(rig.sandbox.payments()).toEqual([expect.objectContaining({ instructionId: fundId, status: 'pending' })]);

      const refusal = await service.handAnswerRefusal(fundId, { outcome: 'failed', providerReference: 'by-hand' });
      expect(refusal).toContain(`provider sandbox's statement lists instruction ${fundId} as pending`);
      // Paid may still be answered: that claim cannot pay anyone twice.
      expect(
        await service.handAnswerRefusal(fundId, { outcome: 'paid', providerReference: 'by-hand' }),
      ).toBeUndefined();
    },
    scenarioTimeoutMs,
  );

  it(
    'refuses callbacks for unknown instructions or other amounts, and takes a repeated webhook id once',
    async () => {
      // The sandbox takes the order but does not execute it during the test: every callback here is crafted.
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.registerAccounts(carol);
      await rig.startService();
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      const sent = await rig.rowIn(fundId, 'sent');
      const reference = sent.provider_reference!;
      const snapshot = async () => ({
        outbox: await rig.db.selectFrom('settlement_outbox').selectAll().execute(),
        receipts: await rig.db.selectFrom('settlement_webhook_receipts').selectAll().execute(),
        ledgerWrites: rig.ledgerWrites(),
      });
      const before = await snapshot();

      const refusals = [
        [
          { instructionId: `${agreementId}/m1/fund-escrow-9`, amount: '150000', currency: 'EUR' },
          'UNKNOWN_INSTRUCTION',
          'instructionId',
        ],
        [{ instructionId: fundId, amount: '150001', currency: 'EUR' }, 'CONFIRMATION_MISMATCH', 'amountMinor'],
        [{ instructionId: fundId, amount: '150000', currency: 'USD' }, 'CONFIRMATION_MISMATCH', 'currency'],
      ] as const;
      for (const [index, [data, code, member]] of refusals.entries()) {
        const callback = signedCallback(`msg_refused_${index}`, { ...data, providerReference: reference });
        const answer = await rig.receiver.post(callback.headers, callback.body);
        expect(answer).toEqual({
          status: 400,
          answer: expect.objectContaining({ status: 'refused', code, member }) as unknown,
        });
      }
      // Signed, for the right instruction and amount, but naming another reference than
      // the provider took the order as: not the provider's answer to this order.
      const otherReference = signedCallback(
        'msg_other_reference',
        { instructionId: fundId, providerReference: 'sbx_forged', amount: '150000', currency: 'EUR' },
        'payment_order.failed',
      );
      expect(await rig.receiver.post(otherReference.headers, otherReference.body)).toEqual({
        status: 400,
        answer: expect.objectContaining({
          status: 'refused',
          code: 'CONFIRMATION_MISMATCH',
          message: `instruction ${fundId} was taken by provider sandbox as ${reference}, not sbx_forged`,
          member: 'providerReference',
        }) as unknown,
      });
      expect(await snapshot()).toEqual(before);
      expect((await rig.milestone(agreementId)).status).toBe('funding');

      const genuine = fundingPaid(fundId, reference);
      expect(await rig.receiver.post(genuine.headers, genuine.body)).toEqual({
        status: 200,
        answer: { status: 'accepted' },
      });
      await rig.rowIn(fundId, 'confirmed');
      expect((await rig.milestone(agreementId)).status).toBe('funded');
      const afterGenuine = await snapshot();

      expect(await rig.receiver.post(genuine.headers, genuine.body)).toEqual({
        status: 200,
        answer: { status: 'duplicate' },
      });
      expect(await snapshot()).toEqual(afterGenuine);
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    "records a provider's failure reason holding control and bidirectional characters, escaped, instead of retrying it for ever",
    async () => {
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.registerAccounts(carol);
      await rig.startService();
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      const sent = await rig.rowIn(fundId, 'sent');
      // A bank's text may hold any XML character; the ledger refuses these in text.
      const reason = `Account closed\u0085 see \u202Egnp.exe ${'x'.repeat(470)}`;
      const callback = signedCallback(
        'msg_failed_text',
        {
          instructionId: fundId,
          providerReference: sent.provider_reference!,
          amount: '150000',
          currency: 'EUR',
          reason,
        },
        'payment_order.failed',
      );
      expect(await rig.receiver.post(callback.headers, callback.body)).toEqual({
        status: 200,
        answer: { status: 'accepted' },
      });
      const confirmed = await rig.rowIn(fundId, 'confirmed');
      expect(confirmed.outcome).toBe('failed');
      expect(confirmed.outcome_reason).toMatch(/^Account closed\\u0085 see \\u202Egnp\.exe x+$/);
      expect(confirmed.outcome_reason).toHaveLength(500);
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    'closes, and never sends, an instruction someone else answered on the ledger while it waited for an account',
    async () => {
      const rig = await startRig();
      // The client has no account yet: the funding waits for one.
      await rig.registerAccounts(tara);
      const service = await rig.startService();
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      expect((await rig.rowIn(fundId, 'retry')).last_error).toMatch(/has no account in EUR to be debited/);

      // Another settlement identity of the organisation records it paid on the ledger, around this service.
      const desk = principal('desk', 'AuditOrgMSP', 'settlement');
      const recorded = await (
        await rig.as(desk)
      ).agreements.confirmSettlement({
        requestId: 'desk-paid',
        agreementId,
        milestoneId: 'm1',
        instructionId: fundId,
        outcome: 'paid',
        providerReference: 'desk-ref-1',
      });
      expect(await rig.rowIn(fundId, 'confirmed')).toMatchObject({
        outcome: 'paid',
        provider_reference: 'desk-ref-1',
        confirm_tx_id: recorded.transactionId,
        attempts: 0,
        outcome_reason: `answered paid on the ledger by AuditOrgMSP user desk in transaction ${recorded.transactionId} before this service sent it; not sent`,
      });
      // The account the funding waited for comes: nothing is collected, the ledger counts it collected already.
      await rig.registerAccounts(carol);
      service.wake();
      await delay(500);
      expect(rig.sandbox.payments()).toEqual([]);
      expect(await rig.row(fundId)).toMatchObject({ state: 'confirmed', attempts: 0 });
    },
    scenarioTimeoutMs,
  );

  it(
    'answers a person only for dead letters, and never sends the replacement of a payout its provider may still pay',
    async () => {
      // The sandbox takes orders but answers none by itself: every provider answer here is crafted.
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.registerAccounts(carol, tara);
      const service = await rig.startService();
      const agreementId = await rig.activeAgreement();
      const providerAnswers = async (instructionId: string, amount: string, id: string) => {
        const sent = await rig.rowIn(instructionId, 'sent');
        const callback = signedCallback(id, {
          instructionId,
          providerReference: sent.provider_reference!,
          amount,
          currency: 'EUR',
        });
        expect(await rig.receiver.post(callback.headers, callback.body)).toMatchObject({ status: 200 });
        return rig.rowIn(instructionId, 'confirmed');
      };
      await providerAnswers(await rig.fund(agreementId), '150000', 'msg_fund');
      const release = await rig.release(agreementId);
      await rig.rowIn(release.instructionId, 'sent');

      // With the provider: a person's answer, either way, is refused.
      for (const outcome of ['failed', 'paid'] as const) {
        expect(
          await service.handAnswerRefusal(release.instructionId, { outcome, providerReference: 'by-hand' }),
        ).toMatch(/is with provider sandbox \(sent\); only its provider answers it/);
      }
      expect(
        await service.handAnswerRefusal(`${agreementId}/m1/release-9`, { outcome: 'failed', providerReference: 'x' }),
      ).toMatch(/is not a dead letter of the settlement service/);

      // Someone with a settlement identity writes "failed" on the ledger anyway, around this
      // service, and the freelancer has the payout reissued: the replacement is not sent.
      const desk = principal('desk', 'AuditOrgMSP', 'settlement');
      await (
        await rig.as(desk)
      ).agreements.confirmSettlement({
        requestId: 'forged-failure',
        agreementId,
        milestoneId: 'm1',
        instructionId: release.instructionId,
        outcome: 'failed',
        providerReference: 'forged-1',
        reason: 'forged',
      });
      const reissued = await (
        await rig.as(tara)
      ).agreements.reissueFailedPayout({
        requestId: 'reissue-release',
        agreementId,
        milestoneId: 'm1',
        instructionId: release.instructionId,
      });
      const replacement = reissued.result.instructions.at(-1)!;
      expect(replacement).toMatchObject({ kind: 'release', status: 'pending', reissueOf: release.instructionId });
      const withheld = await rig.rowIn(replacement.instructionId, 'dead');
      expect(withheld.last_error).toBe(
        `not sent: it replaces ${release.instructionId}, which is still open with provider sandbox (sent); paying it could pay twice, an operator decides`,
      );
      expect(withheld.attempts).toBe(0);

      // The provider pays the original: one payout reached it, the replacement never did.
      const paidRelease = await providerAnswers(release.instructionId, release.amount, 'msg_release');
      service.wake();
      expect(rig.sandbox.payments().map((payment) => payment.instructionId)).toEqual([
        `${agreementId}/m1/fund-escrow-1`,
        release.instructionId,
      ]);
      expect(await rig.row(replacement.instructionId)).toMatchObject({ state: 'dead', attempts: 0 });

      // A dead letter is the operator's: their answer is taken, kept on its row, and may be repeated.
      const answer = { outcome: 'failed', providerReference: 'desk-note-1' } as const;
      expect(await service.handAnswerRefusal(replacement.instructionId, answer)).toBeUndefined();
      await service.handAnswerRecorded(replacement.instructionId, { ...answer, txId: 'tx-by-hand', by: partyOf(desk) });
      expect(await rig.row(replacement.instructionId)).toMatchObject({
        state: 'confirmed',
        outcome: 'failed',
        provider_reference: 'desk-note-1',
        confirm_tx_id: 'tx-by-hand',
        outcome_reason: 'answered by hand by AuditOrgMSP user desk',
      });
      expect(await service.handAnswerRefusal(replacement.instructionId, answer)).toBeUndefined();
      expect(await service.handAnswerRefusal(replacement.instructionId, { ...answer, outcome: 'paid' })).toMatch(
        /\(confirmed and answered failed\)/,
      );

      // The operator's "failed" reaches the ledger and the payout is reissued once more: its
      // chain still leads to the payout the provider paid, so this one is not sent either.
      await (
        await rig.as(desk)
      ).agreements.confirmSettlement({
        requestId: 'desk-failure',
        agreementId,
        milestoneId: 'm1',
        instructionId: replacement.instructionId,
        outcome: 'failed',
        providerReference: 'desk-note-1',
        reason: 'never sent',
      });
      const again = await (
        await rig.as(tara)
      ).agreements.reissueFailedPayout({
        requestId: 'reissue-release-again',
        agreementId,
        milestoneId: 'm1',
        instructionId: replacement.instructionId,
      });
      const third = again.result.instructions.at(-1)!;
      expect(third).toMatchObject({ reissueOf: replacement.instructionId });
      expect((await rig.rowIn(third.instructionId, 'dead')).last_error).toBe(
        `not sent: it replaces ${release.instructionId} by way of ${replacement.instructionId}, which provider sandbox reported paid (reference ${paidRelease.provider_reference ?? '?'}); paying it could pay twice, an operator decides`,
      );
      service.wake();
      expect(rig.sandbox.payments().map((payment) => payment.instructionId)).toEqual([
        `${agreementId}/m1/fund-escrow-1`,
        release.instructionId,
      ]);
    },
    scenarioTimeoutMs,
  );

  it(
    'keeps a callback that overtakes the send: the send completing later does not undo confirming',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol);
      // The provider's answer to the order is held back until its callback has been taken.
      const slowAnswer: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        const instructionId = new Headers(init?.headers).get('idempotency-key')!;
        await rig.rowIn(instructionId, 'confirming');
        return response;
      };
      const adapter = rig.adapter({ fetch: slowAnswer });
      await rig.startService({ providerFor: () => adapter });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);

      const confirmed = await rig.rowIn(fundId, 'confirmed');
      expect(confirmed).toMatchObject({ outcome: 'paid', attempts: 1 });
      expect((await rig.milestone(agreementId)).status).toBe('funded');
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
      expect(rig.sandbox.payments()).toEqual([expect.objectContaining({ receivedCount: 1, executedCount: 1 })]);
    },
    scenarioTimeoutMs,
  );

  it(
    "sets aside a callback that overtakes the send naming another reference, and records the provider's own answer",
    async () => {
      // The sandbox takes the order but calls back only when the test has finished with it.
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.registerAccounts(carol);
      let forged: Promise<unknown> | undefined;
      // While the provider's answer to the order is on its way, a signed callback answers
      // the order failed under a reference of its own (a leaked secret, a misrouted message).
      const answerAfterForgery: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        const instructionId = new Headers(init?.headers).get('idempotency-key')!;
        const callback = signedCallback(
          'msg_forged',
          { instructionId, providerReference: 'sbx_forged', amount: '150000', currency: 'EUR', reason: 'no funds' },
          'payment_order.failed',
        );
        forged = rig.receiver.post(callback.headers, callback.body);
        await rig.rowIn(instructionId, 'confirming');
        return response;
      };
      const adapter = rig.adapter({ fetch: answerAfterForgery });
      await rig.startService({ providerFor: () => adapter });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);

      // Taken while the send was under way, as a provider's early callback would be...
      expect(await eventually('the forged callback', () => forged)).toEqual({
        status: 200,
        answer: { status: 'accepted' },
      });
      // ...and set aside once the provider's own reference for the order is known.
      const setAside = await rig.rowIn(fundId, 'sent');
      const reference = rig.sandbox.payments()[0]!.providerReference;
      expect(setAside).toMatchObject({ provider_reference: reference, outcome: null });
      expect(setAside.last_error).toBe(
        `a callback answered failed as sbx_forged while provider sandbox took the order as ${reference}; that answer was set aside`,
      );
      expect(rig.confirmationsOnLedger(fundId)).toEqual([]);
      expect((await rig.milestone(agreementId)).status).toBe('funding');

      const genuine = fundingPaid(fundId, reference);
      expect(await rig.receiver.post(genuine.headers, genuine.body)).toEqual({
        status: 200,
        answer: { status: 'accepted' },
      });
      expect(await rig.rowIn(fundId, 'confirmed')).toMatchObject({ outcome: 'paid', provider_reference: reference });
      expect((await rig.milestone(agreementId)).status).toBe('funded');
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    "pays a release through ISO 20022 files, the bank statement's entry reference differing from the order's EndToEndId",
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      // A batch far from full: the file leaves because its one order has waited long enough.
      const files = bankFiles(rig.dataDir, { batchSize: 100, maxWaitMs: 300 });
      const { bank } = files;
      const sandbox = rig.adapter();
      // Collections through the payment API, payouts to Tara by bank file.
      await rig.startService({ providerFor: (party) => (party.userId === tara.userId ? bank : sandbox) });
      const agreementId = await rig.activeAgreement();
      await rig.rowIn(await rig.fund(agreementId), 'confirmed');
      const release = await rig.release(agreementId);
      const sent = await rig.rowIn(release.instructionId, 'sent');
      expect(sent.provider_reference).toBe(endToEndIdFor(release.instructionId));

      const painFile = await eventually('the payment file to be written', () =>
        readdirSync(files.outbox).find((name) => name.endsWith('.xml')),
      );
      answerPaymentFile(files, painFile, '0001');

      const paid = await rig.rowIn(release.instructionId, 'confirmed');
      expect(paid.outcome).toBe('paid');
      expect(paid.provider_reference).not.toBe(sent.provider_reference);
      expect((await rig.milestone(agreementId)).status).toBe('paid');
      expect(rig.confirmationsOnLedger(release.instructionId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    "makes a dead letter of a payout the bank's statement answers with another amount, and keeps the statement as processed",
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      const files = bankFiles(rig.dataDir, { batchSize: 1 });
      const { bank, inbox } = files;
      const sandbox = rig.adapter();
      await rig.startService({ providerFor: (party) => (party.userId === tara.userId ? bank : sandbox) });
      const agreementId = await rig.activeAgreement();
      await rig.rowIn(await rig.fund(agreementId), 'confirmed');
      const release = await rig.release(agreementId);
      const sent = await rig.rowIn(release.instructionId, 'sent');

      // The bank booked the payout 5.00 EUR short of what was sent (its charges taken from it).
      const [painFile] = readdirSync(files.outbox).filter((name) => name.endsWith('.xml'));
      const netOfCharges = (BigInt(sent.amount) - 500n).toString();
      const shortOfCharges = (camt: string) =>
        camt.replaceAll(`>${(Number(sent.amount) / 100).toFixed(2)}<`, `>${(Number(netOfCharges) / 100).toFixed(2)}<`);
      answerPaymentFile(files, painFile!, '0009', { edit: shortOfCharges });

      const dead = await rig.rowIn(release.instructionId, 'dead');
      expect(dead.last_error).toContain(`bank-files's statement answered paid for ${netOfCharges} EUR (minor units)`);
      expect(dead.last_error).toContain('an operator checks with the bank and answers it by hand');
      await eventually('the statement to be processed', () =>
        // Moved once acknowledged, which follows the dead letter; the folder itself appears with the first move.
        existsSync(path.join(inbox, 'processed', 'camt054-0009.xml')) ? true : undefined,
      );
      // Nothing reached the ledger: the milestone waits for the operator's answer.
      expect(rig.confirmationsOnLedger(release.instructionId)).toEqual([]);
      expect((await rig.milestone(agreementId)).status).toBe('released');
      expect(
        await rig.service!.handAnswerRefusal(release.instructionId, { outcome: 'paid', providerReference: 'x' }),
      ).toBeUndefined();

      // The statement says paid, so failed by hand is refused, until the bank returns that booking.
      const failedByHand = { outcome: 'failed' as const, providerReference: 'by-hand' };
      expect(await rig.service!.handAnswerRefusal(release.instructionId, failedByHand)).toContain(
        `lists instruction ${release.instructionId} as paid`,
      );
      answerPaymentFile(files, painFile!, '0010', {
        edit: shortOfCharges,
        returns: { [endToEndIdFor(release.instructionId)]: { code: 'AC04' } },
      });
      await eventually('the return to be on the statement', async () =>
        (await rig.service!.handAnswerRefusal(release.instructionId, failedByHand)) === undefined ? true : undefined,
      );
      expect(await rig.row(release.instructionId)).toMatchObject({ state: 'dead' });
    },
    scenarioTimeoutMs,
  );

  it(
    'acknowledges the bank statement entries it took, and reads again the one the database would not take after a growing backoff',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol, tara);
      const files = bankFiles(rig.dataDir, { batchSize: 1 });
      const { bank, inbox } = files;
      const sandbox = rig.adapter();
      const messages: string[] = [];
      // The longest draw of each backoff: 200, 400, 800 ms, then 1 s each.
      await rig.startService({
        providerFor: (party) => (party.userId === tara.userId ? bank : sandbox),
        log: recordingLog(messages),
        backoff: { baseMs: 200, maxMs: 1_000, random: () => 1 - Number.EPSILON },
      });
      const releases: string[] = [];
      for (const agreementId of [await rig.activeAgreement(), await rig.activeAgreement()]) {
        await rig.rowIn(await rig.fund(agreementId), 'confirmed');
        releases.push((await rig.release(agreementId)).instructionId);
      }
      const [stuck, taken] = releases as [string, string];
      for (const instructionId of releases) await rig.rowIn(instructionId, 'sent');
      // The database fails to store the first payout's statement entry, as a full disk would.
      await sql
        .raw(
          `create trigger refuse_entry before insert on settlement_webhook_receipts when new.instruction_id = '${stuck}' ` +
            `begin select raise(abort, 'database or disk is full'); end`,
        )
        .execute(rig.db);
      const painFiles = readdirSync(files.outbox).filter((name) => name.endsWith('.xml'));
      expect(painFiles).toHaveLength(2);
      painFiles.forEach((painFile, index) => {
        answerPaymentFile(files, painFile, `000${String(index + 1)}`);
      });

      await rig.rowIn(taken, 'confirmed');
      const entryFailure = 'error a statement entry could not be taken; it is read again after a backoff';
      await eventually('the failed entry to be logged', () => (messages.includes(entryFailure) ? true : undefined));
      // Sweeps run every 25 ms: a second and a half would be some 60 tries without the backoff.
      await delay(1_500);
      const tries = messages.filter((message) => message === entryFailure).length;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(5);
      // The statement holding the taken entry is done with; the other waits in the inbox.
      const waiting = () => readdirSync(inbox).filter((name) => name.endsWith('.xml'));
      await eventually('the taken statement to move', () => (waiting().length === 1 ? true : undefined));
      expect((await rig.row(stuck))?.state).toBe('sent');
      expect(rig.confirmationsOnLedger(stuck)).toEqual([]);

      await sql.raw('drop trigger refuse_entry').execute(rig.db);
      const paid = await rig.rowIn(stuck, 'confirmed');
      expect(paid.outcome).toBe('paid');
      await eventually('every statement to move', () => (waiting().length === 0 ? true : undefined));
      expect(readdirSync(path.join(inbox, 'processed')).sort()).toEqual(['camt054-0001.xml', 'camt054-0002.xml']);
      for (const instructionId of releases) expect(rig.confirmationsOnLedger(instructionId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    'refuses a callback for an instruction never sent, one waiting for an account',
    async () => {
      const rig = await startRig({ sandboxCallbackDelayMs: 600_000 });
      await rig.startService();
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      // Carol has no account to be debited yet: nothing went to the provider.
      expect(await rig.rowIn(fundId, 'retry')).toMatchObject({ attempts: 0 });
      const callback = signedCallback('msg_unsent', {
        instructionId: fundId,
        providerReference: 'sbx_unsent',
        amount: '150000',
        currency: 'EUR',
      });
      expect(await rig.receiver.post(callback.headers, callback.body)).toEqual({
        status: 400,
        answer: expect.objectContaining({ status: 'refused', code: 'UNKNOWN_INSTRUCTION' }) as unknown,
      });
      expect(await rig.row(fundId)).toMatchObject({ state: 'retry', outcome: null, provider_reference: null });
    },
    scenarioTimeoutMs,
  );

  it(
    'sends a row left sending by a crash again after a restart, with the same key, and the provider pays once',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol);
      let crashed = false;
      const crash = (point: CrashPoint): void => {
        if (point !== 'after-send' || crashed) return;
        crashed = true;
        throw new Error('simulated crash between the send and its bookkeeping');
      };
      // The API is down with the crashed service: the provider's callbacks wait.
      rig.receiver.down = true;
      const first = await rig.startService({ crash, sweepIntervalMs: 3_600_000 });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      await eventually('the crash', () => (crashed ? true : undefined));
      await first.stop();
      expect(await rig.row(fundId)).toMatchObject({ state: 'sending', attempts: 1 });
      expect(rig.sandbox.payments()).toEqual([expect.objectContaining({ instructionId: fundId, receivedCount: 1 })]);

      await rig.startService();
      await eventually('the order to be sent again', () =>
        rig.sandbox.payments()[0]?.receivedCount === 2 ? true : undefined,
      );
      rig.receiver.down = false;
      const confirmed = await rig.rowIn(fundId, 'confirmed');

      expect(confirmed).toMatchObject({ attempts: 2, outcome: 'paid' });
      // The sandbox keys orders by Idempotency-Key: one record received twice is one key sent twice.
      expect(rig.sandbox.payments()).toEqual([
        expect.objectContaining({ instructionId: fundId, receivedCount: 2, executedCount: 1, status: 'paid' }),
      ]);
      expect((await rig.milestone(agreementId)).status).toBe('funded');
      expect(rig.confirmationsOnLedger(fundId)).toHaveLength(1);
    },
    scenarioTimeoutMs,
  );

  it(
    'records a confirmation left confirming by a crash on the ledger after a restart, exactly once',
    async () => {
      const rig = await startRig();
      await rig.registerAccounts(carol);
      let crashed = false;
      const crash = (point: CrashPoint): void => {
        if (point !== 'after-callback' || crashed) return;
        crashed = true;
        throw new Error('simulated crash between storing the callback and the ledger write');
      };
      rig.receiver.down = true;
      const first = await rig.startService({ crash });
      const agreementId = await rig.activeAgreement();
      const fundId = await rig.fund(agreementId);
      await rig.rowIn(fundId, 'sent');
      // Stopped, the service sweeps no more: the callback it takes is stored and left for the next one.
      await first.stop();
      rig.receiver.down = false;
      await rig.rowIn(fundId, 'confirming');
      expect(crashed).toBe(true);
      expect(rig.confirmationsOnLedger(fundId)).toEqual([]);
      expect((await rig.milestone(agreementId)).status).toBe('funding');

      const second = await rig.startService();
      const confirmed = await rig.rowIn(fundId, 'confirmed');
      // Let the next service sweep and the provider re-deliver: neither may write a second time.
      await eventually('the re-delivered callback to be answered as a duplicate', () =>
        rig.receiver.received.some((received) => (received.answer as { status?: string }).status === 'duplicate')
          ? true
          : undefined,
      );
      second.wake();
      await second.stop();

      const recorded = rig.confirmationsOnLedger(fundId);
      expect(recorded).toEqual([
        { txId: confirmed.confirm_tx_id, actor: expect.objectContaining(partyOf(settler)) as unknown },
      ]);
      expect((await rig.milestone(agreementId)).status).toBe('funded');
      expect(rig.sandbox.payments()).toEqual([expect.objectContaining({ executedCount: 1 })]);
    },
    scenarioTimeoutMs,
  );

  it(
    'stops retrying a held payout the ledger refuses to retry, until the next credential of the payee',
    async () => {
      const rig = await startRig({ kycCredentialTypes: ['KYC'] });
      await rig.registerAccounts(carol, tara);
      await rig.registerKycIssuer();
      const admin = await rig.as(operator);
      const messages: string[] = [];
      const service = await rig.startService({
        log: recordingLog(messages),
      });
      const { release } = await rig.heldRelease(service);
      // Settlement moves to another organisation before the payee's credential arrives.
      await admin.parameters.setParameter({ name: 'settlementOrganisations', value: ['ClientOrgMSP'] });
      await rig.issueKycToTara();
      const heldRow = () =>
        rig.db
          .selectFrom('settlement_held')
          .select(['retry_due', 'cleared_at'])
          .where('instruction_id', '=', release.instructionId)
          .executeTakeFirst();
      await eventually('the refused retry to be recorded', async () => {
        const row = await heldRow();
        return row?.retry_due === 0 && messages.length > 0 ? row : undefined;
      });
      // Several sweeps later: tried once, not again, and still held.
      await delay(300);
      expect(messages.filter((message) => message.includes('held payout'))).toHaveLength(1);
      expect(messages[0]).toMatch(/^error the ledger refused to retry a held payout \(FORBIDDEN: /);
      expect(await heldRow()).toEqual({ retry_due: 0, cleared_at: null });
      expect((await service.stats()).held).toBe(1);
      expect(await rig.row(release.instructionId)).toBeUndefined();
    },
    scenarioTimeoutMs,
  );

  it(
    'retries a payout held for KYC when the payee is issued a credential, then pays it',
    async () => {
      const rig = await startRig({ kycCredentialTypes: ['KYC'] });
      await rig.registerAccounts(carol, tara);
      await rig.registerKycIssuer();
      const service = await rig.startService();
      const { agreementId, release } = await rig.heldRelease(service);
      expect(release).toMatchObject({ status: 'held', compliance: { outcome: 'held' } });
      expect(await rig.row(release.instructionId)).toBeUndefined();

      await rig.issueKycToTara();
      const paid = await rig.rowIn(release.instructionId, 'confirmed');

      expect(paid).toMatchObject({
        kind: 'release',
        direction: 'payout',
        counterparty_user: tara.userId,
        outcome: 'paid',
      });
      const milestone = await rig.milestone(agreementId);
      expect(milestone.status).toBe('paid');
      expect(milestone.instructions.at(-1)).toMatchObject({ status: 'paid', compliance: { outcome: 'cleared' } });
      const cleared = rig.ledger.ledger.transactions.filter(
        (transaction) => transaction.event?.name === agreementEvents.payoutCleared.name,
      );
      expect(cleared).toHaveLength(1);
      expect(cleared[0]!.event!.payload).toMatchObject({ actor: partyOf(settler) });
      expect(
        await rig.db
          .selectFrom('settlement_held')
          .select(['instruction_id', 'retry_due'])
          .where('cleared_at', 'is not', null)
          .execute(),
      ).toEqual([{ instruction_id: release.instructionId, retry_due: 0 }]);
      expect((await service.stats()).held).toBe(0);
      expect(rig.sandbox.payments().find((payment) => payment.instructionId === release.instructionId)).toMatchObject({
        direction: 'payout',
        executedCount: 1,
      });
    },
    scenarioTimeoutMs,
  );

  /** Tara (60 %) and Tom (40 %) own W-1; Carol holds grant G-1 at 10 % of revenue plus 3 per unit, and reports January. */
  async function closedRoyaltyMonth(rig: Rig, units: string) {
    const tom = principal('tom', 'TalentOrgMSP', 'freelancer');
    await rig.registerAccounts(carol, tara, tom);
    await rig.startService();
    const licensor = await rig.as(tara);
    await licensor.ip.registerWork({
      requestId: 'register-W-1',
      workId: 'W-1',
      kind: 'model',
      contentHash: 'e'.repeat(64),
      title: 'Fraud model',
      uri: 'https://models.example.com/fraud',
      creators: [partyOf(tara), partyOf(tom)],
      owners: [
        { party: partyOf(tara), shareBps: 6_000 },
        { party: partyOf(tom), shareBps: 4_000 },
      ],
    });
    const terms = { text: 'Fraud scoring of card payments.', salt: 'e'.repeat(32) };
    await licensor.licensing.offerLicence(
      {
        requestId: 'offer-L-1',
        offerId: 'L-1',
        workId: 'W-1',
        licensee: partyOf(carol),
        scope: 'commercial',
        fieldsOfUse: ['fraud-detection'],
        territories: ['WORLD'],
        exclusive: false,
        termStart: '2026-01-01T00:00:00.000Z',
        termEnd: '2099-01-01T00:00:00.000Z',
        royaltyBps: 1_000,
        perUnitAmount: '3',
        currency: 'EUR',
      },
      { transient: { [licenceTermsTransientKey]: terms } },
    );
    await (await rig.as(tom)).licensing.consentToOffer({ offerId: 'L-1' });
    const licensee = await rig.as(carol);
    await licensee.licensing.acceptOffer({
      requestId: 'accept-L-1',
      offerId: 'L-1',
      grantId: 'G-1',
      termsSha256: licenceTermsSha256(terms),
    });
    await licensee.licensing.reportUsage({
      requestId: 'report-G-1-2026-01',
      grantId: 'G-1',
      periodId: '2026-01',
      units,
      revenue: '1234567',
      currency: 'EUR',
    });
    const closed = await licensee.licensing.closeRoyaltyPeriod({ grantId: 'G-1', periodId: '2026-01' });
    return { licensee, closed: closed.result };
  }

  it(
    'waits a growing backoff between retries of a held payout while the ledger cannot be reached, then pays it',
    async () => {
      const rig = await startRig({ kycCredentialTypes: ['KYC'] });
      await rig.registerAccounts(carol, tara);
      await rig.registerKycIssuer();
      const outage = { down: true, tries: 0 };
      const messages: string[] = [];
      const stages: string[] = [];
      const service = await rig.startService({
        ledger: unreachableWhileDown(await rig.as(settler), 'retryHeldPayout', outage),
        backoff: { baseMs: 200, maxMs: 1_000, random: () => 1 - Number.EPSILON },
        log: recordingLog(messages),
        observer: countingUnreachable(stages),
      });
      const { agreementId, release } = await rig.heldRelease(service);
      await rig.issueKycToTara();
      await eventually('a retry to fail', () => (outage.tries > 0 ? true : undefined));
      // Sweeps run every 25 ms: a second and a half would be some 60 retries without the backoff.
      await delay(1_500);
      expect(outage.tries).toBeGreaterThanOrEqual(2);
      expect(outage.tries).toBeLessThanOrEqual(4);
      expect(messages.length).toBe(outage.tries);
      expect(new Set(messages)).toEqual(new Set(['warn retrying a held payout failed; will retry']));
      expect(stages).toEqual(Array.from({ length: outage.tries }, () => 'held-payout'));
      expect(await rig.row(release.instructionId)).toBeUndefined();

      outage.down = false;
      const paid = await rig.rowIn(release.instructionId, 'confirmed');
      expect(paid).toMatchObject({ kind: 'release', outcome: 'paid' });
      expect((await rig.milestone(agreementId)).status).toBe('paid');
    },
    scenarioTimeoutMs,
  );

  it(
    'collects a closed royalty month from the licensee first, then pays each co-owner, recording each answer with the licensing contract',
    async () => {
      const rig = await startRig();
      // 10 % of 1 234 567 floors to 123 456; 7 units at 3 add 21: 123 477.
      const { licensee, closed } = await closedRoyaltyMonth(rig, '7');
      expect(closed.instructions.map((instruction) => [instruction.instructionId, instruction.amount])).toEqual([
        ['G-1/2026-01/collect-1', '123477'],
      ]);

      const collected = await rig.rowIn('G-1/2026-01/collect-1', 'confirmed');
      const rows = [
        collected,
        await rig.rowIn('G-1/2026-01/royalty-1', 'confirmed'),
        await rig.rowIn('G-1/2026-01/royalty-2', 'confirmed'),
      ];
      expect(
        rows.map((row) => [row.source, row.kind, row.direction, row.counterparty_user, row.amount, row.outcome]),
      ).toEqual([
        ['licensing', 'collection', 'collect', 'carol', '123477', 'paid'],
        ['licensing', 'royalty', 'payout', 'tara', '74087', 'paid'],
        ['licensing', 'royalty', 'payout', 'tom', '49390', 'paid'],
      ]);
      // The payouts were requested by the transaction that recorded the collection, never before it.
      expect(rows.slice(1).map((row) => row.request_tx_id)).toEqual([collected.confirm_tx_id, collected.confirm_tx_id]);
      const payments = rig.sandbox.payments();
      const total = (direction: string) =>
        payments
          .filter((payment) => payment.direction === direction)
          .reduce((sum, payment) => sum + BigInt(payment.amount), 0n);
      expect([total('collect'), total('payout')]).toEqual([123_477n, 123_477n]);
      const confirmations = rig.ledger.ledger.transactions.filter(
        (transaction) => transaction.event?.name === licensingEvents.royaltyPayoutConfirmed.name,
      );
      expect(confirmations.map((transaction) => transaction.txId).sort()).toEqual(
        rows.map((row) => row.confirm_tx_id).sort(),
      );
      const period = await licensee.licensing.getRoyaltyPeriod({ grantId: 'G-1', periodId: '2026-01' });
      expect(period.closed).toMatchObject({ status: 'paid', royalty: '123477' });
      expect(period.closed?.instructions.map((instruction) => instruction.confirmation?.providerReference)).toEqual(
        rows.map((row) => row.provider_reference),
      );
    },
    scenarioTimeoutMs,
  );

  it(
    'pays no co-owner a royalty the licensee was not debited for',
    async () => {
      const rig = await startRig({ failAmountSuffixes: ['13'] });
      // 123 456 + 19 units at 3 = 123 513: the sandbox fails it, as a licensee's bank refusing the debit would.
      const { licensee } = await closedRoyaltyMonth(rig, '19');
      const failed = await rig.rowIn('G-1/2026-01/collect-1', 'confirmed');
      expect([failed.direction, failed.counterparty_user, failed.amount, failed.outcome]).toEqual([
        'collect',
        'carol',
        '123513',
        'failed',
      ]);
      const period = await licensee.licensing.getRoyaltyPeriod({ grantId: 'G-1', periodId: '2026-01' });
      expect(period.closed?.status).toBe('collecting');
      expect(period.closed?.instructions.map((instruction) => [instruction.kind, instruction.status])).toEqual([
        ['collection', 'failed'],
      ]);
      expect(rig.sandbox.payments().filter((payment) => payment.direction === 'payout')).toEqual([]);
      expect(
        await rig.db
          .selectFrom('settlement_outbox')
          .select('instruction_id')
          .where('direction', '=', 'payout')
          .execute(),
      ).toEqual([]);
    },
    scenarioTimeoutMs,
  );
});
