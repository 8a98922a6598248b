import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { repoRoot } from '@gigledger/network';
import type { SandboxProvider } from '@gigledger/settlement/sandbox';
import { webhookSigner } from '@gigledger/settlement/webhook';
import { e2eConfig } from './support/e2e-environment.js';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox, type E2ePerson } from './support/api-server.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The money loop on the real network with the sandbox provider: nobody confirms a
 * payment by hand; the settlement service inside the API sends each instruction, the
 * provider calls back, and the service records the outcome on the ledger.
 */
describe('settlement: escrow to paid on its own, compliance at payout, signed callbacks', () => {
  let api: E2eApi;
  let sandbox: SandboxProvider;
  let moneyLoop: E2eApiWithSandbox;
  let inboundSecret: string;
  let admin: string;
  // Other suites settle on the same ledger through services of their own; reconcile only this suite's period.
  const suiteStarted = new Date();

  beforeAll(async () => {
    moneyLoop = await startE2eApiWithSandbox(e2eConfig(), {
      duplicateEvery: 3,
      // A bank account the provider refuses, as a closed account would be.
      failPayees: ['GB33BUKB20201555555555'],
    });
    ({ api, sandbox } = moneyLoop);
    inboundSecret = moneyLoop.callbackSecret;
    admin = await api.adminToken();
  });

  afterAll(async () => {
    await moneyLoop.close();
  });

  const suffix = randomBytes(3).toString('hex');

  async function milestoneOf(as: string, agreementId: string, milestoneId: string): Promise<MilestoneRecord> {
    const response = await api.call('GET', `/v1/agreements/${agreementId}`, as);
    const milestones = (response.body as { milestones: MilestoneRecord[] }).milestones;
    const milestone = milestones.find((candidate) => candidate.milestoneId === milestoneId);
    if (milestone === undefined) throw new Error(`no milestone ${milestoneId}`);
    return milestone;
  }

  /** Polls until the milestone reaches `status`; no sleep decides the outcome, only the deadline. */
  async function until(as: string, agreementId: string, milestoneId: string, status: string): Promise<MilestoneRecord> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const milestone = await milestoneOf(as, agreementId, milestoneId);
      if (milestone.status === status) return milestone;
      if (Date.now() > deadline)
        throw new Error(`${agreementId}/${milestoneId} stayed ${milestone.status}, not ${status}`);
      await delay(250);
    }
  }

  async function activeAgreement(client: E2ePerson, freelancer: E2ePerson, agreementId: string, amount: string) {
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Churn model',
      scope: 'Train a churn model.',
      milestone: { title: 'Model', amount, criteria: 'AUC of at least 0.8' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    expect((await api.call('POST', `${milestone}/fund`, client.token, {})).status).toBe(200);
    await until(client.token, agreementId, 'm1', 'funded');
    const delivered = await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
      artifactSha256: 'ab'.repeat(32),
      uri: 'https://artifacts.example.com/churn/model.onnx',
      claimedMetrics: { auc: 0.84 },
    });
    expect(delivered.status).toBe(200);
    return milestone;
  }

  it('funds, releases and pays a milestone with no hand-made confirmation; payout accounts stay off the ledger', async () => {
    const client = await api.person(`carol-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`tara-${suffix}`, 'TalentOrg', 'freelancer');
    const masked = await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    expect(masked.masked).toBe('DE89 **** 3000');
    const payee = await api.payoutAccount(freelancer, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.grantKyc([freelancer.party]);

    const agreementId = `SET-${suffix}`;
    const milestone = await activeAgreement(client, freelancer, agreementId, '250000');
    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);
    expect((await api.call('POST', `${milestone}/release`, client.token, {})).status).toBe(200);
    const paid = await until(freelancer.token, agreementId, 'm1', 'paid');

    const release = paid.instructions.find((instruction) => instruction.kind === 'release')!;
    expect(release).toMatchObject({ status: 'paid', amount: '243750', platformFee: '6250', currency: 'EUR' });
    expect(release.compliance).toMatchObject({ outcome: 'cleared', credentialType: 'KYC' });
    expect(release.confirmation?.by.role).toBe('settlement');
    // The ledger names the account paid by its id only.
    expect(release.confirmation?.payoutAccountId).toBe(payee.accountId);
    // Each instruction was executed once at the provider, though every third callback was delivered twice.
    const executed = sandbox.payments().filter((payment) => payment.instructionId.startsWith(`${agreementId}/`));
    expect(executed.map((payment) => [payment.instructionId, payment.executedCount])).toEqual(
      expect.arrayContaining([
        [`${agreementId}/m1/fund-escrow-1`, 1],
        [`${agreementId}/m1/release-1`, 1],
      ]),
    );
    // The ledger never saw the account numbers.
    expect(JSON.stringify(await api.call('GET', `/v1/agreements/${agreementId}`, client.token))).not.toMatch(
      /DE89370400440532013000|FR1420041010050500013M02606/,
    );
  });

  it('holds a payout to a freelancer without KYC, then pays it once a credential is issued', async () => {
    const client = await api.person(`dora-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`tom-${suffix}`, 'TalentOrg', 'freelancer');
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'NL91ABNA0417164300', 'ABNANL2AXXX');
    const agreementId = `HOLD-${suffix}`;
    const milestone = await activeAgreement(client, freelancer, agreementId, '80000');
    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);
    const released = await api.call('POST', `${milestone}/release`, client.token, {});
    const held = (released.body as { result: MilestoneRecord }).result.instructions.at(-1)!;
    expect(held).toMatchObject({
      status: 'held',
      compliance: { outcome: 'held', reason: 'the payee holds no KYC credential' },
    });
    const retried = await api.call('POST', `${milestone}/held-payouts/retry`, freelancer.token, {
      instructionId: held.instructionId,
    });
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ code: 'COMPLIANCE_HOLD', field: 'body.instructionId' });
    expect(sandbox.payments().some((payment) => payment.instructionId === held.instructionId)).toBe(false);
    // Either party sees where it stands, though it never reached the outbox; anyone else sees nothing.
    const progressPath = `/v1/settlement/instructions/${encodeURIComponent(held.instructionId)}`;
    for (const token of [client.token, freelancer.token]) {
      const progress = await api.call('GET', progressPath, token);
      expect(progress.status).toBe(200);
      expect(progress.body).toMatchObject({
        instructionId: held.instructionId,
        state: 'held',
        kind: 'release',
        direction: 'payout',
        amount: held.amount,
        currency: 'EUR',
        attempts: 0,
        outcome: null,
        waitingFor: expect.stringContaining(
          'the compliance check held it (the payee holds no KYC credential)',
        ) as unknown,
      });
    }
    const stranger = await api.person(`stan-${suffix}`, 'ClientOrg', 'client');
    expect((await api.call('GET', progressPath, stranger.token)).status).toBe(404);

    // The service retries the held payout by itself when the credential commits.
    await api.grantKyc([freelancer.party]);
    const paid = await until(client.token, agreementId, 'm1', 'paid');
    expect(paid.instructions.at(-1)).toMatchObject({ status: 'paid', compliance: { outcome: 'cleared' } });
  });

  it('records a refused payout as failed, and pays its reissue after the payee fixes the account', async () => {
    const client = await api.person(`ivan-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`hana-${suffix}`, 'TalentOrg', 'freelancer');
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'GB33BUKB20201555555555', 'BUKBGB22XXX');
    await api.grantKyc([freelancer.party]);
    const agreementId = `FAIL-${suffix}`;
    const milestone = await activeAgreement(client, freelancer, agreementId, '30000');
    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);
    expect((await api.call('POST', `${milestone}/release`, client.token, {})).status).toBe(200);
    const deadline = Date.now() + 60_000;
    let failed: MilestoneRecord['instructions'][number] | undefined;
    while (failed?.status !== 'failed' && Date.now() < deadline) {
      await delay(250);
      failed = (await milestoneOf(client.token, agreementId, 'm1')).instructions.find((i) => i.kind === 'release');
    }
    expect(failed).toMatchObject({ status: 'failed', confirmation: { outcome: 'failed' } });
    // The provider's code first, then why, in words.
    expect(failed?.confirmation?.reason).toMatch(/^PAYEE_REFUSED_BY_SANDBOX: the sandbox provider refuses /);
    expect((await milestoneOf(client.token, agreementId, 'm1')).status).toBe('released');

    await api.payoutAccount(freelancer, 'NL91ABNA0417164300', 'ABNANL2AXXX');
    const reissued = await api.call('POST', `${milestone}/failed-payouts/reissue`, freelancer.token, {
      instructionId: failed!.instructionId,
    });
    expect(reissued.status).toBe(200);
    const paid = await until(client.token, agreementId, 'm1', 'paid');
    expect(paid.instructions.filter((i) => i.kind === 'release').map((i) => [i.instructionId, i.status])).toEqual([
      [`${agreementId}/m1/release-1`, 'failed'],
      [`${agreementId}/m1/release-2`, 'paid'],
    ]);
  });

  it('pays both sides of a dispute split', async () => {
    const client = await api.person(`erin-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`finn-${suffix}`, 'TalentOrg', 'freelancer');
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'NL91ABNA0417164300', 'ABNANL2AXXX');
    await api.grantKyc([freelancer.party]);
    const arbitrators = [
      await api.person(`arb1-${suffix}`, 'AuditOrg', 'arbitrator'),
      await api.person(`arb2-${suffix}`, 'AuditOrg', 'arbitrator'),
    ];
    // Panels are drawn from the governed arbitrators: these two, and no one else.
    await api.governArbitrators(arbitrators.map((arbitrator) => arbitrator.party));
    const agreementId = `DSP-${suffix}`;
    const milestone = await activeAgreement(client, freelancer, agreementId, '100000');
    expect(
      (await api.call('POST', `${milestone}/disputes`, client.token, { reason: 'Model misses the AUC' })).status,
    ).toBe(200);
    // Each member finds the dispute in their own list, open and then decided.
    const panelDisputes = async (arbitrator: E2ePerson, decided: boolean) => {
      const listed = await api.call('GET', `/v1/disputes?decided=${String(decided)}`, arbitrator.token);
      expect(listed.status).toBe(200);
      return (listed.body as { agreement: { agreementId: string }; milestone: MilestoneRecord }[]).map(
        ({ agreement, milestone: disputed }) => `${agreement.agreementId}/${disputed.milestoneId}:${disputed.status}`,
      );
    };
    for (const arbitrator of arbitrators) {
      expect(await panelDisputes(arbitrator, false)).toEqual([`${agreementId}/m1:disputed`]);
      expect(await panelDisputes(arbitrator, true)).toEqual([]);
    }
    for (const arbitrator of arbitrators) {
      const voted = await api.call('POST', `${milestone}/dispute/votes`, arbitrator.token, {
        escrowAmount: '100000',
        clientShare: '40000',
        freelancerShare: '60000',
        reason: 'Partly delivered',
      });
      expect(voted.status).toBe(200);
    }
    for (const arbitrator of arbitrators) {
      expect(await panelDisputes(arbitrator, false)).toEqual([]);
      expect((await panelDisputes(arbitrator, true))[0]).toMatch(new RegExp(`^${agreementId}/m1:`));
    }
    const settled = await until(client.token, agreementId, 'm1', 'settled');
    const payouts = settled.instructions.filter((instruction) => instruction.kind !== 'fund-escrow');
    expect(payouts.map((instruction) => [instruction.kind, instruction.amount, instruction.status])).toEqual([
      ['refund', '40000', 'paid'],
      ['release', '58500', 'paid'],
    ]);
  });

  it('refuses forged, altered, stale and unsigned callbacks and changes nothing; a replay is a no-op', async () => {
    const real = sandbox.payments().find((payment) => payment.instructionId.startsWith(`SET-${suffix}/m1/release`))!;
    const body = JSON.stringify({
      type: 'payment_order.failed',
      timestamp: new Date().toISOString(),
      data: {
        instructionId: real.instructionId,
        providerReference: 'forged-1',
        amount: real.amount,
        currency: real.currency,
        reason: 'forged',
      },
    });
    const send = (headers: Record<string, string>, payload = body) =>
      fetch(`${api.url}/v1/settlement/callbacks/sandbox`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
      });
    const signed = (signingSecret: string, at: Date, id = `msg_${randomBytes(8).toString('hex')}`) => {
      const signature = webhookSigner(signingSecret).sign(id, at, body);
      return {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      };
    };
    const before = await api.call('GET', `/v1/agreements/SET-${suffix}`, admin);

    const attempts = [
      { name: 'unsigned', response: await send({}), code: 'WEBHOOK_SIGNATURE_MISSING' },
      { name: 'wrong secret', response: await send(signed(secret(), new Date())), code: 'WEBHOOK_SIGNATURE_INVALID' },
      {
        name: 'tampered body',
        response: await send(signed(inboundSecret, new Date()), body.replace('forged-1', 'forged-2')),
        code: 'WEBHOOK_SIGNATURE_INVALID',
      },
      {
        name: '10 minutes old',
        response: await send(signed(inboundSecret, new Date(Date.now() - 10 * 60_000))),
        code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
      },
    ];
    for (const attempt of attempts) {
      expect([attempt.name, attempt.response.status]).toEqual([attempt.name, 401]);
      expect(((await attempt.response.json()) as { code: string }).code).toBe(attempt.code);
    }
    // Correctly signed, but for an instruction already answered: taken as a duplicate, the ledger keeps "paid".
    const replay = await send(signed(inboundSecret, new Date()));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: 'conflict' });
    expect(await api.call('GET', `/v1/agreements/SET-${suffix}`, admin)).toMatchObject({ body: before.body });

    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(
      /gigledger_settlement_callback_refusals_total\{provider="sandbox",code="WEBHOOK_SIGNATURE_INVALID"\} 2/,
    );
    expect(metrics).toMatch(/gigledger_settlement_outbox_instructions\{state="confirmed"\} [1-9]/);
    // The settlement service's own confirmations are counted with every other ledger call.
    expect(metrics).toMatch(
      /gigledger_ledger_transaction_duration_seconds_count\{[^}]*transaction="confirmSettlement"[^}]*outcome="ok"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(
      /gigledger_settlement_callback_refusals_total\{provider="sandbox",code="CONFIRMATION_CONFLICT"\} 1/,
    );

    // A settlement identity of an organisation the consortium does not list cannot speak for the provider.
    const rogue = await api.person(`rogue-psp-${suffix}`, 'AuditOrg', 'settlement');
    const forged = await api.call(
      'POST',
      `/v1/agreements/SET-${suffix}/milestones/m1/settlement-confirmations`,
      rogue.token,
      {
        instructionId: real.instructionId,
        outcome: 'failed',
        providerReference: 'forged-3',
        reason: 'forged',
      },
    );
    expect([forged.status, (forged.body as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
    expect(await api.call('GET', `/v1/agreements/SET-${suffix}`, admin)).toMatchObject({ body: before.body });

    // A person with role settlement of the settlement organisation itself answers only dead
    // letters: "failed" on a payout its provider paid would let it be reissued and paid twice.
    const desk = await api.person(`desk-psp-${suffix}`, 'ClientOrg', 'settlement');
    for (const outcome of ['failed', 'paid'] as const) {
      const byHand = await api.call(
        'POST',
        `/v1/agreements/SET-${suffix}/milestones/m1/settlement-confirmations`,
        desk.token,
        {
          instructionId: real.instructionId,
          outcome,
          providerReference: `by-hand-${outcome}`,
          ...(outcome === 'failed' ? { reason: 'closed account' } : {}),
        },
      );
      expect([byHand.status, byHand.body]).toEqual([
        409,
        expect.objectContaining({
          code: 'INVALID_STATE',
          field: 'body.instructionId',
          message: expect.stringContaining('only a dead letter is answered by hand') as unknown,
        }),
      ]);
    }
    expect(await api.call('GET', `/v1/agreements/SET-${suffix}`, admin)).toMatchObject({ body: before.body });
  });

  it('reconciles ledger, outbox and provider statement with no discrepancy', async () => {
    const from = suiteStarted.toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const report = await api.call('GET', `/v1/settlement/reconciliation?from=${from}&to=${to}`, admin);
    expect(report.status).toBe(200);
    const body = report.body as { counts: { outbox: number }; discrepancies: unknown[] };
    expect(body.counts.outbox).toBe(10);
    expect(body.discrepancies).toEqual([]);
  });

  it('gives operators the same reconciliation from the command line, as the organisation operator', async () => {
    const { config } = api.running.deps;
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'api', 'dist', 'cli', 'settlement-reconcile.js'),
        '--json',
        '--from',
        suiteStarted.toISOString(),
      ],
      {
        env: {
          ...process.env,
          GIGLEDGER_CONNECTION_PROFILE: config.connectionProfile,
          GIGLEDGER_DATA_DIR: config.dataDir,
          GIGLEDGER_SETTLEMENT_CONFIG: config.settlementConfigFile,
        },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const report = JSON.parse(output) as { counts: { outbox: number; provider: number }; discrepancies: unknown[] };
    expect(report.counts.outbox).toBe(10);
    expect(report.counts.provider).toBe(10);
    expect(report.discrepancies).toEqual([]);
  });

  it('refuses payout accounts with bad check digits or BIC, naming the field', async () => {
    const person = await api.person(`gail-${suffix}`, 'TalentOrg', 'freelancer');
    for (const [field, iban, bic] of [
      ['body.iban', 'DE89370400440532013001', 'COBADEFFXXX'],
      ['body.bic', 'DE89370400440532013000', 'NOT-A-BIC'],
    ] as const) {
      const refused = await api.call('PUT', '/v1/settlement/payout-accounts/me', person.token, {
        kind: 'iban',
        currency: 'EUR',
        holderName: 'Gail',
        iban,
        bic,
      });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });
});
