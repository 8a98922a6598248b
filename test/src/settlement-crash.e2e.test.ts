import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { freeLoopbackPort, repoRoot } from '@gigledger/network';
import { crashPoints, type CrashPoint } from '@gigledger/settlement';
import {
  startSandboxProvider,
  webhookSettlementConfiguration,
  type SandboxProvider,
} from '@gigledger/settlement/sandbox';
import { oneMilestoneDraft } from './support/agreement-drafts.js';
import { e2eConfig } from './support/e2e-environment.js';
import { openE2eContext } from './support/ledger.js';

/*
 * P1: the API (and the settlement service inside it) is killed with SIGKILL at each of
 * the four points where a crash could lose or repeat a payment, several times while
 * a batch of releases is settling. After every crash it is started again on the same
 * database. Whatever the timing, every release must reach the provider's books once
 * and be confirmed on the ledger once.
 */
const releasesPerPoint = Number(process.env.GIGLEDGER_P1_RELEASES ?? '50');
/** Kill at these passes of the point: early, in the middle and late in the batch. */
const killAt = [3, 11, 23];

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The API as an operator runs it: `node api/dist/main.js`, restarted on the same data after each kill. */
class SupervisedApi {
  readonly url: string;
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #crashes: string[] = [];
  kills = 0;
  #stopping = false;

  constructor(port: number, env: NodeJS.ProcessEnv) {
    this.url = `http://127.0.0.1:${port}`;
    this.#env = {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      NODE_ENV: 'test',
      // The test polls 50 milestones a second as one client; the per-principal limit is not under test here.
      RATE_LIMIT_PER_MINUTE: '100000',
    };
  }

  /**
   * (Re)starts the API. With a point, it is killed at each of `passes` of that point in
   * turn and restarted after each; then it runs without faults.
   */
  async restart(crashes?: { point: CrashPoint; passes: readonly number[] }): Promise<void> {
    this.#crashes = crashes === undefined ? [] : crashes.passes.map((pass) => `${crashes.point}:${pass}`);
    await this.stop();
    await this.#start();
  }

  async #start(): Promise<void> {
    const crash = this.#crashes.shift();
    const child = spawn(process.execPath, [path.join(repoRoot, 'api', 'dist', 'main.js')], {
      env: { ...this.#env, GIGLEDGER_SETTLEMENT_CRASH_AT: crash ?? '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#child = child;
    child.once('exit', (_code, signal) => {
      if (this.#stopping || this.#child !== child) return;
      if (signal === 'SIGKILL') this.kills += 1;
      this.#start().catch((error: unknown) => {
        process.stderr.write(`restarting the API failed: ${String(error)}\n`);
      });
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // Not listening yet.
      }
      await delay(200);
    }
    throw new Error('the API did not come up');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.#stopping = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#stopping = false;
  }

  /** JSON over HTTP, retried while the API is down (a kill drops requests in flight). */
  async call(
    method: string,
    pathname: string,
    token?: string,
    body?: unknown,
    key?: string,
  ): Promise<{ status: number; body: unknown }> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const response = await fetch(`${this.url}${pathname}`, {
          method,
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(key === undefined ? {} : { 'idempotency-key': key }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if ((response.status >= 500 || response.status === 429) && Date.now() < deadline) {
          await delay(500);
          continue;
        }
        const text = await response.text();
        return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await delay(300);
      }
    }
  }
}

describe('settlement P1: kills at every crash point lose and repeat no payment', () => {
  const config = e2eConfig();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-e2e-p1-'));
  let sandbox: SandboxProvider;
  let api: SupervisedApi;
  let tokens: { client: string; freelancer: string; admin: string };
  let parties: { client: { mspId: string; userId: string }; freelancer: { mspId: string; userId: string } };
  const run = randomBytes(3).toString('hex');
  const figures: string[] = [];
  const agreementsOf = (point: CrashPoint): string[] =>
    Array.from({ length: releasesPerPoint }, (_, index) => `P1-${point}-${run}-${index}`);

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    const inboundSecret = secret();
    const outboundSecret = secret();
    sandbox = await startSandboxProvider({
      port: 0,
      outboundSecret,
      callbackSecret: inboundSecret,
      callbackUrl: `http://127.0.0.1:${port}/v1/settlement/callbacks/sandbox`,
      apiKey: 'sandbox-statement-key-p1-0001',
      callbackDelayMs: 50,
      dataDir: path.join(dataDir, 'sandbox'),
    });
    const settlementConfig = path.join(dataDir, 'settlement.json');
    writeFileSync(
      settlementConfig,
      JSON.stringify(
        webhookSettlementConfiguration({
          url: sandbox.url,
          outboundSecret,
          inboundSecret,
          apiKey: 'sandbox-statement-key-p1-0001',
          mspIds: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
        }),
      ),
    );
    api = new SupervisedApi(port, {
      GIGLEDGER_CONNECTION_PROFILE: config.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: path.join(dataDir, 'api'),
      GIGLEDGER_SETTLEMENT_CONFIG: settlementConfig,
    });
    await api.restart();
    const { admins } = JSON.parse(readFileSync(path.join(dataDir, 'api', 'bootstrap-admin.json'), 'utf8')) as {
      admins: Record<string, { userId: string; password: string }>;
    };
    const login = async (userId: string, secretWord: string): Promise<string> => {
      const response = await api.call('POST', '/v1/auth/token', undefined, { userId, password: secretWord });
      return (response.body as { accessToken: string }).accessToken;
    };
    // Each organisation's administrator manages its own people.
    const adminOf = async (org: string) => login(admins[org]!.userId, admins[org]!.password);
    const admin = await adminOf('ClientOrg');
    const person = async (userId: string, org: string, role: string) => {
      await api.call('POST', '/v1/admin/users', await adminOf(org), {
        userId,
        org,
        role,
        password: `p1 password ${userId}`,
      });
      return login(userId, `p1 password ${userId}`);
    };
    tokens = {
      admin,
      client: await person(`p1c-${run}`, 'ClientOrg', 'client'),
      freelancer: await person(`p1f-${run}`, 'TalentOrg', 'freelancer'),
    };
    parties = {
      client: { mspId: 'ClientOrgMSP', userId: `p1c-${run}` },
      freelancer: { mspId: 'TalentOrgMSP', userId: `p1f-${run}` },
    };
    for (const [token, iban, bic] of [
      [tokens.client, 'DE89370400440532013000', 'COBADEFFXXX'],
      [tokens.freelancer, 'NL91ABNA0417164300', 'ABNANL2AXXX'],
    ] as const) {
      const registered = await api.call('PUT', '/v1/settlement/payout-accounts/me', token, {
        kind: 'iban',
        currency: 'EUR',
        holderName: 'P1',
        iban,
        bic,
      });
      expect(registered.status).toBe(200);
    }
    const issuer = await person(`p1kyc-${run}`, 'AuditOrg', 'issuer');
    const governance = openE2eContext();
    try {
      await governance.enact([
        {
          type: 'registerIssuer',
          issuer: { mspId: 'AuditOrgMSP', userId: `p1kyc-${run}` },
          displayName: 'KYC office',
          credentialTypes: ['KYC'],
        },
      ]);
    } finally {
      governance.close();
    }
    const kyc = await api.call('POST', '/v1/credentials', issuer, {
      subject: parties.freelancer,
      type: 'KYC',
      claims: [{ name: 'level', value: 'verified' }],
    });
    expect(kyc.status).toBe(201);
    // Every crash point's agreements are brought to "accepted" together, before any kill:
    // the faults under test are in releasing and paying, and one batch commits in fewer blocks.
    await accepted(crashPoints.flatMap(agreementsOf));
  }, 900_000);

  afterAll(async () => {
    try {
      await api.stop();
      await sandbox.close();
      process.stdout.write(`P1 figures (${releasesPerPoint} releases per point):\n${figures.join('\n')}\n`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  async function statusOf(agreementId: string): Promise<MilestoneRecord> {
    const response = await api.call('GET', `/v1/agreements/${agreementId}`, tokens.client);
    return (response.body as { milestones: MilestoneRecord[] }).milestones[0]!;
  }

  async function untilAll(agreementIds: readonly string[], status: string): Promise<MilestoneRecord[]> {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const milestones = await Promise.all(agreementIds.map(statusOf));
      if (milestones.every((milestone) => milestone.status === status)) return milestones;
      if (Date.now() > deadline) {
        const stuck = milestones.filter((milestone) => milestone.status !== status);
        throw new Error(`${stuck.length} milestones never reached ${status}: ${JSON.stringify(stuck.slice(0, 3))}`);
      }
      await delay(1000);
    }
  }

  /** Drafts, accepts, funds (through the provider), delivers and accepts each agreement. */
  async function accepted(agreementIds: readonly string[]): Promise<void> {
    await Promise.all(
      agreementIds.map(async (agreementId) => {
        const drafted = await api.call(
          'POST',
          '/v1/agreements',
          tokens.client,
          oneMilestoneDraft(parties.client, parties.freelancer, {
            agreementId,
            title: 'Labelled set',
            scope: 'Label the images.',
            milestone: { title: 'Labels', amount: '10000', criteria: 'Inter-annotator agreement at least 0.8' },
          }),
          `draft-${agreementId}`,
        );
        expect([201, 200]).toContain(drafted.status);
        const terms = await api.call('GET', `/v1/agreements/${agreementId}/terms`, tokens.freelancer);
        await api.call('POST', `/v1/agreements/${agreementId}/accept`, tokens.freelancer, {
          termsSha256: (terms.body as { termsSha256: string }).termsSha256,
        });
        await api.call(
          'POST',
          `/v1/agreements/${agreementId}/milestones/m1/fund`,
          tokens.client,
          {},
          `fund-${agreementId}`,
        );
      }),
    );
    await untilAll(agreementIds, 'funded');
    await Promise.all(
      agreementIds.map(async (agreementId) => {
        const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
        await api.call(
          'POST',
          `${milestone}/deliverables`,
          tokens.freelancer,
          { artifactSha256: 'cd'.repeat(32), uri: 'https://artifacts.example.com/labels.parquet', claimedMetrics: {} },
          `deliver-${agreementId}`,
        );
        await api.call('POST', `${milestone}/accept`, tokens.client, {});
      }),
    );
    await untilAll(agreementIds, 'accepted');
  }

  it.each(crashPoints.map((point) => [point]))(
    'pays every release exactly once when killed %s',
    async (point) => {
      const agreementIds = agreementsOf(point);
      const killsBefore = api.kills;
      const started = Date.now();
      await api.restart({ point, passes: killAt });
      await Promise.all(
        agreementIds.map((agreementId) =>
          api.call(
            'POST',
            `/v1/agreements/${agreementId}/milestones/m1/release`,
            tokens.client,
            {},
            `release-${agreementId}`,
          ),
        ),
      );
      const paid = await untilAll(agreementIds, 'paid');
      const kills = api.kills - killsBefore;

      const releases = paid.map((milestone) =>
        milestone.instructions.find((instruction) => instruction.kind === 'release')!,
      );
      expect(releases.every((release) => release.status === 'paid' && release.confirmation !== undefined)).toBe(true);
      const atProvider = sandbox
        .payments()
        .filter((payment) => releases.some((release) => release.instructionId === payment.instructionId));
      // Payouts at the provider = releases, each executed once, however often it was sent.
      expect(atProvider).toHaveLength(releasesPerPoint);
      expect(atProvider.filter((payment) => payment.executedCount !== 1)).toEqual([]);
      expect(kills).toBeGreaterThanOrEqual(1);
      const resent = atProvider.filter((payment) => payment.receivedCount > 1).length;
      figures.push(
        `${point}: ${releasesPerPoint} releases, ${kills} kills, ${atProvider.length} payouts at the provider, 0 executed twice, ${resent} orders received more than once, all paid on the ledger in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    },
    600_000,
  );
});
