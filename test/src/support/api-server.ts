import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseApiConfig } from '@gigledger/api/config';
import { startApiServer, type RunningServer } from '@gigledger/api/server';
import { auditRecordKinds, type ArbitratorRecord } from '@gigledger/chaincode/model';
import { arbitratorRosterActions, freeLoopbackPort, type NetworkConfig } from '@gigledger/network';
import {
  startSandboxProvider,
  webhookSettlementConfiguration,
  type SandboxProvider,
  type SandboxProviderOptions,
} from '@gigledger/settlement/sandbox';
import { oneMilestoneDraft, type OneMilestoneDraft } from './agreement-drafts.js';

/** An API server on a free loopback port, against the e2e network, with its own fresh database. */
/** A person created through the admin API and logged in. */
export interface E2ePerson {
  readonly token: string;
  readonly party: { mspId: string; userId: string };
}

export interface E2eApi {
  readonly running: RunningServer;
  readonly url: string;
  /** JSON over HTTP; `as` is a bearer token or `{ apiKey }`. */
  call(
    method: string,
    pathAndQuery: string,
    as?: string | { apiKey: string },
    body?: unknown,
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** Bearer token of an organisation's bootstrap administrator (admins act within their own organisation). */
  adminToken(org?: string): Promise<string>;
  /** Creates a person through the admin API and logs them in. */
  person(userId: string, org: string, role: string): Promise<E2ePerson>;
  /**
   * Clears people for payouts through the API: a KYC issuer (voted in once per server
   * by the governors) issues each a KYC credential.
   */
  grantKyc(people: readonly { mspId: string; userId: string }[]): Promise<void>;
  /**
   * Lets an auditor read every kind of record of every member organisation for an hour:
   * each organisation's administrator grants it over REST (`POST /v1/audit/grants`).
   */
  grantAuditEverywhere(auditor: { mspId: string; userId: string }): Promise<void>;
  /** Bearer tokens of one governor per organisation, created once per server. */
  governors(): Promise<string[]>;
  /**
   * Changes the consortium's rules over REST as its members do: the first governor
   * proposes with the shortest windows allowed, every governor votes yes, and once the
   * timelock has run out the proposal is executed. Resolves to the execution's answer.
   */
  enact(actions: readonly unknown[]): Promise<{ transactionId: string; result: { proposal: { proposalId: string } } }>;
  /** Makes `arbitrators` exactly the governed arbitrators dispute panels are drawn from, by one vote. */
  governArbitrators(arbitrators: readonly { mspId: string; userId: string }[]): Promise<void>;
  /** Registers `person`'s EUR payout account (an IBAN and its BIC); resolves to what the API answers. */
  payoutAccount(person: E2ePerson, iban: string, bic: string): Promise<{ masked: string; accountId: string }>;
  /**
   * Drafts, as `client`, an agreement with `freelancer` holding one deliverable milestone
   * `m1` (EUR, due in 14 days, unless `draft.milestone` says otherwise); throws unless 201.
   * Resolves to the command's transaction id and block.
   */
  draftOneMilestone(
    client: E2ePerson,
    freelancer: E2ePerson,
    draft: OneMilestoneDraft,
  ): Promise<{ transactionId: string; blockNumber: string }>;
  /** `freelancer` reads the agreement's terms and accepts them by their hash; throws unless 200. */
  acceptTerms(freelancer: E2ePerson, agreementId: string): Promise<void>;
  /** A GraphQL operation; resolves to `data`, throwing on errors. */
  graphql<T>(query: string, as: string | { apiKey: string }, variables?: Record<string, unknown>): Promise<T>;
  /** Stops the server and removes its data folder. */
  close(): Promise<void>;
}

/**
 * An API server with a data folder of its own, which `close` removes (as does a start that fails).
 *
 * @param env more settings, e.g. PORT or GIGLEDGER_SETTLEMENT_CONFIG.
 */
export async function startE2eApi(network: NetworkConfig, env: Record<string, string> = {}): Promise<E2eApi> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-e2e-api-'));
  const removeDataDir = () => {
    rmSync(dataDir, { recursive: true, force: true });
  };
  const running = await startApiServer(
    parseApiConfig({
      GIGLEDGER_CONNECTION_PROFILE: network.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: dataDir,
      PORT: '0',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...env,
    }),
  ).catch((error: unknown) => {
    removeDataDir();
    throw error;
  });
  const call: E2eApi['call'] = async (method, pathAndQuery, as, body) => {
    const headers: Record<string, string> = {};
    if (typeof as === 'string') headers.authorization = `Bearer ${as}`;
    else if (as !== undefined) headers['x-api-key'] = as.apiKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${running.url}${pathAndQuery}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      headers: response.headers,
    };
  };
  const admins = new Map<string, string>();
  let kycIssuer: string | undefined;
  let governors: Promise<string[]> | undefined;
  const expectStatus = (response: { status: number; body: unknown }, status: number, what: string) => {
    if (response.status !== status)
      throw new Error(`${what} failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const api: E2eApi = {
    running,
    url: running.url,
    call,
    async adminToken(org = 'ClientOrg') {
      const cached = admins.get(org);
      if (cached !== undefined) return cached;
      const bootstrap = JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-admin.json'), 'utf8')) as {
        admins: Record<string, { userId: string; password: string }>;
      };
      const credentials = bootstrap.admins[org];
      if (credentials === undefined) throw new Error(`no bootstrap administrator for ${org}`);
      const response = await call('POST', '/v1/auth/token', undefined, credentials);
      const token = (response.body as { accessToken: string }).accessToken;
      admins.set(org, token);
      return token;
    },
    async person(userId, org, role) {
      const password = `e2e password of ${userId}`;
      const created = await call('POST', '/v1/admin/users', await api.adminToken(org), { userId, org, role, password });
      if (created.status !== 201) throw new Error(`creating ${userId} failed: ${JSON.stringify(created.body)}`);
      const login = await call('POST', '/v1/auth/token', undefined, { userId, password });
      return {
        token: (login.body as { accessToken: string }).accessToken,
        party: { mspId: (created.body as { mspId: string }).mspId, userId },
      };
    },
    governors() {
      governors ??= Promise.all(
        ['ClientOrg', 'TalentOrg', 'AuditOrg'].map(
          async (org) =>
            (await api.person(`gov-${org.toLowerCase()}-${randomBytes(3).toString('hex')}`, org, 'governor')).token,
        ),
      );
      return governors;
    },
    async enact(actions) {
      const voters = await api.governors();
      const [proposer] = voters;
      if (proposer === undefined) throw new Error('no governor');
      const minimum = async (name: string) =>
        ((await call('GET', `/v1/governance/rules/parameters/${name}`, proposer)).body as { record: { value: number } })
          .record.value;
      const proposalId = `P-${randomBytes(6).toString('hex')}`;
      const proposed = expectStatus(
        await call('POST', '/v1/governance/proposals', proposer, {
          proposalId,
          title: 'Consortium change',
          text: 'Proposed by the end-to-end suite.',
          actions,
          votingSeconds: await minimum('governanceMinVotingSeconds'),
          timelockSeconds: await minimum('governanceMinTimelockSeconds'),
        }),
        201,
        'proposing',
      ) as { result: { proposal: { executableAt: string } } };
      for (const governor of voters) {
        expectStatus(
          await call('POST', `/v1/governance/proposals/${proposalId}/votes`, governor, { choice: 'yes' }),
          200,
          'voting',
        );
      }
      // Windows are judged by transaction timestamps, which clients take from their own clock.
      const wait = Date.parse(proposed.result.proposal.executableAt) - Date.now() + 1000;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return expectStatus(
        await call('POST', `/v1/governance/proposals/${proposalId}/execution`, proposer, {}),
        200,
        'executing',
      ) as { transactionId: string; result: { proposal: { proposalId: string } } };
    },
    async governArbitrators(arbitrators) {
      const [reader] = await api.governors();
      const listed = (await call('GET', '/v1/governance/arbitrators', reader)).body as ArbitratorRecord[];
      const actions = arbitratorRosterActions(listed, arbitrators);
      if (actions.length > 0) await api.enact(actions);
    },
    async grantKyc(people) {
      if (kycIssuer === undefined) {
        const issuer = await api.person(`kyc-office-${randomBytes(3).toString('hex')}`, 'AuditOrg', 'issuer');
        await api.enact([
          { type: 'registerIssuer', issuer: issuer.party, displayName: 'KYC office', credentialTypes: ['KYC'] },
        ]);
        kycIssuer = issuer.token;
      }
      for (const subject of people) {
        const issued = await call('POST', '/v1/credentials', kycIssuer, {
          subject,
          type: 'KYC',
          claims: [{ name: 'level', value: 'verified' }],
        });
        if (issued.status !== 201)
          throw new Error(`issuing KYC to ${subject.userId} failed: ${JSON.stringify(issued.body)}`);
      }
    },
    async grantAuditEverywhere(auditor) {
      for (const org of ['ClientOrg', 'TalentOrg', 'AuditOrg']) {
        const granted = await call('POST', '/v1/audit/grants', await api.adminToken(org), {
          grantId: `AG-${org}-${randomBytes(4).toString('hex')}`,
          auditor,
          kinds: [...auditRecordKinds],
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          purpose: 'end-to-end suite',
        });
        if (granted.status !== 201)
          throw new Error(`${org} granting audit access failed: ${JSON.stringify(granted.body)}`);
      }
    },
    async payoutAccount(person, iban, bic) {
      return expectStatus(
        await call('PUT', '/v1/settlement/payout-accounts/me', person.token, {
          kind: 'iban',
          currency: 'EUR',
          holderName: person.party.userId,
          iban,
          bic,
        }),
        200,
        `payout account of ${person.party.userId}`,
      ) as { masked: string; accountId: string };
    },
    async draftOneMilestone(client, freelancer, draft) {
      return expectStatus(
        await call('POST', '/v1/agreements', client.token, oneMilestoneDraft(client.party, freelancer.party, draft)),
        201,
        `drafting ${draft.agreementId}`,
      ) as { transactionId: string; blockNumber: string };
    },
    async acceptTerms(freelancer, agreementId) {
      const terms = expectStatus(
        await call('GET', `/v1/agreements/${agreementId}/terms`, freelancer.token),
        200,
        `reading the terms of ${agreementId}`,
      ) as { termsSha256: string };
      expectStatus(
        await call('POST', `/v1/agreements/${agreementId}/accept`, freelancer.token, {
          termsSha256: terms.termsSha256,
        }),
        200,
        `accepting ${agreementId}`,
      );
    },
    async graphql<T>(query: string, as: string | { apiKey: string }, variables: Record<string, unknown> = {}) {
      const response = await call('POST', '/graphql', as, { query, variables });
      const body = response.body as { data?: T; errors?: unknown[] };
      if (body.errors !== undefined || body.data === undefined)
        throw new Error(`GraphQL failed: ${JSON.stringify(body)}`);
      return body.data;
    },
    async close() {
      try {
        await running.close();
      } finally {
        removeDataDir();
      }
    },
  };
  return api;
}

/** An e2e API whose settlement service pays through a sandbox provider of its own. */
export interface E2eApiWithSandbox {
  readonly api: E2eApi;
  readonly sandbox: SandboxProvider;
  /** The secret the sandbox signs its callbacks with, which the API verifies (Standard Webhooks). */
  readonly callbackSecret: string;
  /** Stops the API and the sandbox, and removes the settlement configuration's folder. */
  close(): Promise<void>;
}

/**
 * Starts a sandbox provider and an API whose settlement configuration sends every
 * organisation's instructions to it as signed webhooks, with the callbacks coming back
 * to the API: the money loop of `npm start`, one per suite.
 *
 * @param sandboxOptions provider behaviour (callback delay, payees it refuses, duplicates…).
 */
export async function startE2eApiWithSandbox(
  network: NetworkConfig,
  sandboxOptions: Partial<
    Omit<SandboxProviderOptions, 'outboundSecret' | 'callbackSecret' | 'callbackUrl' | 'apiKey'>
  > = {},
): Promise<E2eApiWithSandbox> {
  const webhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
  const outboundSecret = webhookSecret();
  const callbackSecret = webhookSecret();
  const apiKey = `sandbox-statement-key-${randomBytes(8).toString('hex')}`;
  // The sandbox must know the API's callback URL before the API starts.
  const apiPort = await freeLoopbackPort();
  const sandbox = await startSandboxProvider({
    port: 0,
    callbackDelayMs: 100,
    ...sandboxOptions,
    outboundSecret,
    callbackSecret,
    callbackUrl: `http://127.0.0.1:${apiPort}/v1/settlement/callbacks/sandbox`,
    apiKey,
  });
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'gl-e2e-settlement-'));
  const removeConfigDir = () => {
    rmSync(configDir, { recursive: true, force: true });
  };
  const configFile = path.join(configDir, 'settlement.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      webhookSettlementConfiguration({
        url: sandbox.url,
        outboundSecret,
        inboundSecret: callbackSecret,
        apiKey,
        mspIds: network.peerOrgs.map((org) => org.mspId),
      }),
    ),
  );
  const api = await startE2eApi(network, { PORT: String(apiPort), GIGLEDGER_SETTLEMENT_CONFIG: configFile }).catch(
    (error: unknown) => {
      removeConfigDir();
      throw error;
    },
  );
  return {
    api,
    sandbox,
    callbackSecret,
    async close() {
      try {
        await api.close();
        await sandbox.close();
      } finally {
        removeConfigDir();
      }
    },
  };
}
