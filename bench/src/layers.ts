/**
 * Every layer of the product in one run on one network, each driven until its
 * throughput stops rising:
 *
 * - L1: submits of a transaction that writes nothing (`system:version`) through the
 *   project's gateway package, the client of L2: the network's own ceiling on this machine;
 * - L2: business commands through the project's gateway package (read-your-writes on):
 *   one agreement's life (draft, read terms, accept, fund, confirm funding, deliver,
 *   accept, release, confirm payment: eight commits) and one credential issuance;
 * - L3: the same commands through the REST API, L4: through GraphQL (the API runs as its
 *   own process, as in production);
 * - R: reads of an agreement through the gateway package, REST and GraphQL.
 *
 * It prints each level (throughput, p50/p99 per call, failures by kind), each layer's
 * knee, and the ratios L2/L1, L3/L2, L4/L2. Nothing is asserted. A level's figures are
 * those of its steady state: `--seconds` long, from when every worker has had its first
 * answer; failures are counted over the whole level, warm-up and drain included (see
 * `runLevel`).
 *
 * With every level it also prints the CPU time each process spent per committed
 * transaction (per read for R): peers, orderers, chaincode server, CAs, the API and the
 * load generator itself, from /proc.
 *
 * At the end it prints a table of CPU milliseconds per transaction (per read for R) by
 * process at each layer's knee.
 *
 * Usage: npm run bench [-- --seconds 15 --levels 8,16,32,64,128,256 --layers L1,L2,L3,L4,R]
 * (--levers native-signer,commit-from-blocks,logs,batch1s,batch500ms,gogc,chaincode-logs,validators,baseline-chaincode,pgo
 * [--lever-level 128] [--lever-layer L1|L2] tries each setting against the product's own on L1
 * no-op submits (or with L2 the business workload) at one level, alternating off, on, off, on
 * in the same run, and prints CPU per transaction by process for each; baseline-chaincode runs the chaincode server of the checkout
 * BENCH_BASELINE_CHAINCODE names; pgo restarts the peers and orderers with the binaries in
 * BENCH_PGO_BIN_DIR;
 * (BENCH_API_PROFILE_DIR=dir also writes a V8 CPU profile of the API process there;
 * BENCH_CHAINCODE_PROFILE_DIR=dir writes one of the chaincode server for the whole run, on
 * a fresh network; BENCH_FABRIC_PROFILE_DIR=dir runs the peers and orderers with Go's profiler, writes a
 * CPU profile of each per level there and prints the busiest functions at each knee;
 * BENCH_BASELINE_API=path/to/api/dist/main.js runs a second build of the API beside this
 * one and alternates L3 (and with R the freelancer's reads of terms) between the two.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  credentialClaimsTransientKey,
  systemTransactions,
  type MilestoneRecord,
  type Party,
} from '@gigledger/chaincode/model';
import type { LedgerSession } from '@gigledger/gateway';
import { repoRoot } from '@gigledger/network';
import { log, machineDescription, openBenchNetwork, option, type BenchNetwork } from './bench-network.js';
import { benchRequestId, milestoneDraft } from './bench-agreements.js';
import { apiPeople, callApi as http } from './bench-api.js';
import { FabricProfiles } from './fabric-profiles.js';
import { formatCpuPerUnit, networkProcesses, windowCpuWatch, type CpuSpent } from './process-cpu.js';
import { compareLever, javascriptSignerContract, loadAverage, networkLevers } from './levers.js';
import { accumulate, formatWaste, LedgerWaste } from './ledger-waste.js';
import {
  findKnee,
  formatCurve,
  formatFailures,
  type CallTimer,
  type LayerFigures,
  type LevelProbe,
  type Workload,
} from './saturation.js';

/** The business steps one layer offers, whichever way it reaches the ledger. */
interface BusinessPath {
  draft(agreementId: string): Promise<void>;
  termsSha256(agreementId: string): Promise<string>;
  accept(agreementId: string, termsSha256: string): Promise<void>;
  fund(agreementId: string): Promise<MilestoneRecord>;
  confirm(agreementId: string, instructionId: string): Promise<void>;
  deliver(agreementId: string): Promise<void>;
  acceptMilestone(agreementId: string): Promise<void>;
  release(agreementId: string): Promise<MilestoneRecord>;
  issueCredential(): Promise<void>;
  read(agreementId: string): Promise<void>;
}

interface Cast {
  readonly client: Party;
  readonly freelancer: Party;
  readonly holder: Party;
}

/** The draft of a one-milestone agreement as REST and GraphQL take it, terms included. */
const draftInput = (agreementId: string, cast: Cast) => ({
  agreementId,
  title: 'Annotate 5k clips',
  client: cast.client,
  freelancer: cast.freelancer,
  milestones: [milestoneDraft()],
  terms: { scope: `annotation work ${agreementId}` },
});

function pendingInstruction(agreementId: string, record: MilestoneRecord): string {
  const pending = record.instructions.find((instruction) => instruction.status === 'pending');
  if (pending === undefined) throw new Error(`no pending instruction on ${agreementId}`);
  return pending.instructionId;
}

const artifact = (agreementId: string) => ({
  artifactSha256: randomBytes(32).toString('hex'),
  uri: `https://data.example.com/${agreementId}.zip`,
});

const claims = () => [
  { name: 'course', value: 'Applied ML' },
  { name: 'grade', value: 'A' },
];

/**
 * One agreement's whole life and one credential issuance: ten calls, nine commits. Each
 * agreement drafted is added to `drafted`, for the reads that follow.
 */
/** Calls in one unit of {@link businessWorkload}: levels spread their workers' starts over a unit's duration. */
const businessUnitCalls = 10;

function businessWorkload(layer: BusinessPath, prefix: string, drafted: string[]): Workload {
  let next = 0;
  return async (timer: CallTimer) => {
    const agreementId = `${prefix}-${next}`;
    next += 1;
    await timer.call(1, () => layer.draft(agreementId), 'draft');
    drafted.push(agreementId);
    const terms = await timer.call(0, () => layer.termsSha256(agreementId), 'terms');
    await timer.call(1, () => layer.accept(agreementId, terms), 'accept');
    const funded = await timer.call(1, () => layer.fund(agreementId), 'fund');
    await timer.call(1, () => layer.confirm(agreementId, pendingInstruction(agreementId, funded)), 'confirm-funding');
    await timer.call(1, () => layer.deliver(agreementId), 'deliver');
    await timer.call(1, () => layer.acceptMilestone(agreementId), 'accept-milestone');
    const released = await timer.call(1, () => layer.release(agreementId), 'release');
    await timer.call(1, () => layer.confirm(agreementId, pendingInstruction(agreementId, released)), 'confirm-release');
    await timer.call(1, () => layer.issueCredential(), 'issue-credential');
  };
}

function readWorkload(layer: BusinessPath, agreementIds: readonly string[]): Workload {
  return async (timer, worker, round) => {
    const agreementId = agreementIds[(worker * 7919 + round) % agreementIds.length] ?? '';
    await timer.call(0, () => layer.read(agreementId));
  };
}

function termsWorkload(layer: BusinessPath, agreementIds: readonly string[]): Workload {
  return async (timer, worker, round) => {
    const agreementId = agreementIds[(worker * 7919 + round) % agreementIds.length] ?? '';
    await timer.call(0, () => layer.termsSha256(agreementId));
  };
}

function gatewayPath(
  sessions: { client: LedgerSession; freelancer: LedgerSession; settlement: LedgerSession; issuer: LedgerSession },
  cast: Cast,
): BusinessPath {
  const { client, freelancer, settlement, issuer } = sessions;
  const ref = (agreementId: string) => ({ agreementId, milestoneId: 'm1' });
  return {
    async draft(agreementId) {
      await client.agreements.draftAgreement(
        {
          requestId: benchRequestId(),
          agreementId,
          title: 'Annotate 5k clips',
          client: cast.client,
          freelancer: cast.freelancer,
          milestones: [milestoneDraft()],
        },
        { transient: { terms: { scope: `annotation work ${agreementId}`, salt: randomBytes(16).toString('hex') } } },
      );
    },
    async termsSha256(agreementId) {
      return (await freelancer.agreements.getTerms({ agreementId })).termsSha256;
    },
    async accept(agreementId, termsSha256) {
      await freelancer.agreements.acceptAgreement({ agreementId, termsSha256 });
    },
    async fund(agreementId) {
      return (await client.agreements.fundMilestone({ requestId: benchRequestId(), ...ref(agreementId) })).result;
    },
    async confirm(agreementId, instructionId) {
      await settlement.agreements.confirmSettlement({
        requestId: benchRequestId(),
        ...ref(agreementId),
        instructionId,
        outcome: 'paid',
        providerReference: `ref-${instructionId.replaceAll('/', '-')}`,
      });
    },
    async deliver(agreementId) {
      await freelancer.agreements.submitDeliverable({
        requestId: benchRequestId(),
        ...ref(agreementId),
        ...artifact(agreementId),
      });
    },
    async acceptMilestone(agreementId) {
      await client.agreements.acceptMilestone(ref(agreementId));
    },
    async release(agreementId) {
      return (await client.agreements.releaseMilestone({ requestId: benchRequestId(), ...ref(agreementId) })).result;
    },
    async issueCredential() {
      await issuer.credentials.issueCredential(
        { requestId: benchRequestId(), credentialId: `urn:uuid:${randomUUID()}`, subject: cast.holder, type: 'Course' },
        {
          transient: {
            [credentialClaimsTransientKey]: claims().map((claim) => ({
              ...claim,
              salt: randomBytes(32).toString('hex'),
            })),
          },
        },
      );
    },
    async read(agreementId) {
      await client.agreements.getAgreement({ agreementId });
    },
  };
}

interface Tokens {
  readonly client: string;
  readonly freelancer: string;
  readonly settlement: string;
  readonly issuer: string;
}

function restPath(url: string, tokens: Tokens, cast: Cast): BusinessPath {
  const milestone = (agreementId: string) => `/v1/agreements/${agreementId}/milestones/m1`;
  return {
    async draft(agreementId) {
      await http(url, tokens.client, 'POST', '/v1/agreements', draftInput(agreementId, cast));
    },
    async termsSha256(agreementId) {
      return (await http<{ termsSha256: string }>(url, tokens.freelancer, 'GET', `/v1/agreements/${agreementId}/terms`))
        .termsSha256;
    },
    async accept(agreementId, termsSha256) {
      await http(url, tokens.freelancer, 'POST', `/v1/agreements/${agreementId}/accept`, { termsSha256 });
    },
    async fund(agreementId) {
      return (await http<{ result: MilestoneRecord }>(url, tokens.client, 'POST', `${milestone(agreementId)}/fund`, {}))
        .result;
    },
    async confirm(agreementId, instructionId) {
      await http(url, tokens.settlement, 'POST', `${milestone(agreementId)}/settlement-confirmations`, {
        instructionId,
        outcome: 'paid',
        providerReference: `ref-${instructionId.replaceAll('/', '-')}`,
      });
    },
    async deliver(agreementId) {
      await http(url, tokens.freelancer, 'POST', `${milestone(agreementId)}/deliverables`, artifact(agreementId));
    },
    async acceptMilestone(agreementId) {
      await http(url, tokens.client, 'POST', `${milestone(agreementId)}/accept`, {});
    },
    async release(agreementId) {
      return (
        await http<{ result: MilestoneRecord }>(url, tokens.client, 'POST', `${milestone(agreementId)}/release`, {})
      ).result;
    },
    async issueCredential() {
      await http(url, tokens.issuer, 'POST', '/v1/credentials', {
        subject: cast.holder,
        type: 'Course',
        claims: claims(),
      });
    },
    async read(agreementId) {
      await http(url, tokens.client, 'GET', `/v1/agreements/${agreementId}`);
    },
  };
}

function graphqlPath(url: string, tokens: Tokens, cast: Cast): BusinessPath {
  const run = async <T>(token: string, query: string, variables: Record<string, unknown>): Promise<T> => {
    const answer = await http<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }>(
      url,
      token,
      'POST',
      '/graphql',
      { query, variables },
    );
    const [error] = answer.errors ?? [];
    if (error !== undefined || answer.data === undefined) {
      throw new Error(
        `GraphQL answered 200: {"code":"${error?.extensions?.code ?? 'NO_DATA'}"} ${error?.message ?? ''}`,
      );
    }
    return answer.data;
  };
  const milestoneCommand = (name: string, input: string) =>
    `mutation ($input: ${input}!) { ${name}(input: $input) { transactionId milestone { instructions { instructionId status kind } } } }`;
  type MilestoneAnswer = Record<string, { milestone: MilestoneRecord }>;
  const ref = (agreementId: string) => ({ agreementId, milestoneId: 'm1' });
  return {
    async draft(agreementId) {
      await run(
        tokens.client,
        'mutation ($input: DraftAgreementInput!) { draftAgreement(input: $input) { transactionId } }',
        { input: draftInput(agreementId, cast) },
      );
    },
    async termsSha256(agreementId) {
      const data = await run<{ agreementTerms: { termsSha256: string } }>(
        tokens.freelancer,
        'query ($id: ID!) { agreementTerms(agreementId: $id) { termsSha256 } }',
        { id: agreementId },
      );
      return data.agreementTerms.termsSha256;
    },
    async accept(agreementId, termsSha256) {
      await run(
        tokens.freelancer,
        'mutation ($input: AcceptAgreementInput!) { acceptAgreement(input: $input) { transactionId } }',
        { input: { agreementId, termsSha256 } },
      );
    },
    async fund(agreementId) {
      const data = await run<MilestoneAnswer>(
        tokens.client,
        milestoneCommand('fundMilestone', 'CreatingMilestoneInput'),
        {
          input: ref(agreementId),
        },
      );
      return data.fundMilestone?.milestone as MilestoneRecord;
    },
    async confirm(agreementId, instructionId) {
      await run(tokens.settlement, milestoneCommand('confirmSettlement', 'ConfirmSettlementInput'), {
        input: {
          ...ref(agreementId),
          instructionId,
          outcome: 'paid',
          providerReference: `ref-${instructionId.replaceAll('/', '-')}`,
        },
      });
    },
    async deliver(agreementId) {
      await run(tokens.freelancer, milestoneCommand('submitDeliverable', 'SubmitDeliverableInput'), {
        input: { ...ref(agreementId), ...artifact(agreementId) },
      });
    },
    async acceptMilestone(agreementId) {
      await run(tokens.client, milestoneCommand('acceptMilestone', 'MilestoneRefInput'), { input: ref(agreementId) });
    },
    async release(agreementId) {
      const data = await run<MilestoneAnswer>(
        tokens.client,
        milestoneCommand('releaseMilestone', 'CreatingMilestoneInput'),
        { input: ref(agreementId) },
      );
      return data.releaseMilestone?.milestone as MilestoneRecord;
    },
    async issueCredential() {
      await run(
        tokens.issuer,
        'mutation ($input: IssueCredentialInput!) { issueCredential(input: $input) { transactionId } }',
        { input: { subject: cast.holder, type: 'Course', claims: claims() } },
      );
    },
    async read(agreementId) {
      await run(tokens.client, 'query ($id: ID!) { agreement(id: $id) { agreementId status milestones { status } } }', {
        id: agreementId,
      });
    },
  };
}

/** A port the kernel says is free on the loopback address. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

/**
 * The API as its own process (as `npm start` runs it), so it does not share the load
 * generator's event loop. Its data folder is the caller's to remove once the process has
 * stopped; a start that fails removes it.
 */
async function startApiProcess(
  bench: BenchNetwork,
  entry = path.join(repoRoot, 'api', 'dist', 'main.js'),
): Promise<{ url: string; dataDir: string; process: ChildProcess }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bench-layers-'));
  try {
    return await startApiProcessIn(bench, entry, dataDir);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startApiProcessIn(
  bench: BenchNetwork,
  entry: string,
  dataDir: string,
): Promise<{ url: string; dataDir: string; process: ChildProcess }> {
  const port = await freePort();
  const profileDir = process.env.BENCH_API_PROFILE_DIR;
  const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const child = spawn(process.execPath, [...profile, entry], {
    env: {
      ...process.env,
      GIGLEDGER_CONNECTION_PROFILE: bench.config.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Refusals are counted by the load generator; the server's own log would only repeat them.
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      RATE_LIMIT_PER_MINUTE: '100000000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 240; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode} while starting`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, dataDir, process: child };
    } catch {
      // not listening yet
    }
    await delay(500);
  }
  child.kill('SIGTERM');
  throw new Error('the API did not answer /healthz within 120 s');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<boolean>((resolve) =>
    child.once('exit', () => {
      resolve(true);
    }),
  );
  child.kill('SIGTERM');
  // A server that has not closed within 15 s is stopped by force, by its PID.
  if (!(await Promise.race([exited, delay(15_000, false)]))) child.kill('SIGKILL');
}

function levelsOption(): number[] {
  const index = process.argv.indexOf('--levels');
  const text = index >= 0 ? (process.argv[index + 1] ?? '') : '8,16,32,64,128,256';
  const levels = text.split(',').map(Number);
  if (levels.length === 0 || levels.some((level) => !Number.isInteger(level) || level <= 0)) {
    throw new Error('--levels takes comma-separated positive whole numbers, e.g. 8,16,32');
  }
  return levels;
}

/** An API process with its own people, each logged in, and the cast of its agreements. */
async function apiPeopleOf(
  api: { url: string; dataDir: string },
  prefix: string,
): Promise<{ tokens: Tokens; cast: Cast; issuer: Party }> {
  // The API's people are created by each organisation's administrator and log in with passwords.
  const person = apiPeople(api.url, api.dataDir);
  const ids = { client: `${prefix}c`, freelancer: `${prefix}f`, settlement: `${prefix}s`, issuer: `${prefix}i` };
  const tokens: Tokens = {
    client: await person(ids.client, 'ClientOrg', 'client'),
    freelancer: await person(ids.freelancer, 'TalentOrg', 'freelancer'),
    settlement: await person(ids.settlement, 'ClientOrg', 'settlement'),
    issuer: await person(ids.issuer, 'AuditOrg', 'issuer'),
  };
  const holder = { mspId: 'TalentOrgMSP', userId: ids.freelancer };
  return {
    tokens,
    cast: { client: { mspId: 'ClientOrgMSP', userId: ids.client }, freelancer: holder, holder },
    issuer: { mspId: 'AuditOrgMSP', userId: ids.issuer },
  };
}

/**
 * BENCH_BASELINE_API names the `api/dist/main.js` of another build (e.g. a checkout of
 * main) to run beside this one: L3 then alternates between the two, level by level, so a
 * change to the API is compared under the same load on the same network.
 */
function baselineApiOption(): string | undefined {
  const entry = process.env.BENCH_BASELINE_API;
  if (entry === undefined || entry === '') return undefined;
  if (!existsSync(entry)) throw new Error(`BENCH_BASELINE_API: ${entry} does not exist`);
  return entry;
}

/** `--levers a,b`: the levers to compare on L1, in order; none by default. */
function leversOption(): string[] {
  const index = process.argv.indexOf('--levers');
  return index < 0 ? [] : (process.argv[index + 1] ?? '').split(',').filter((name) => name !== '');
}

/** `--lever-layer L1|L2`: the workload levers are compared on, L1 no-op submits by default. */
function leverLayerOption(): 'L1' | 'L2' {
  const index = process.argv.indexOf('--lever-layer');
  const layer = index < 0 ? 'L1' : process.argv[index + 1];
  if (layer !== 'L1' && layer !== 'L2') throw new Error('--lever-layer: L1 or L2');
  return layer;
}

/** Processes as rows, layers (at their knee) as columns, CPU ms per unit in the cells. */
function cpuTable(
  layers: readonly LayerFigures[],
  cpuAtLevel: ReadonlyMap<string, { spent: CpuSpent; units: number }>,
): string {
  const columns = layers.map((layer) => ({ layer, cpu: cpuAtLevel.get(`${layer.name}@${layer.knee.inFlight}`) }));
  const processes = [...new Set(columns.flatMap(({ cpu }) => [...(cpu?.spent.keys() ?? [])]))].sort();
  const cell = (cpu: { spent: CpuSpent; units: number } | undefined, name: string) =>
    cpu === undefined || cpu.units === 0 ? '' : ((cpu.spent.get(name) ?? 0) / cpu.units).toFixed(2);
  const total = (cpu: { spent: CpuSpent; units: number } | undefined) => {
    if (cpu === undefined || cpu.units === 0) return '';
    let ms = 0;
    for (const spent of cpu.spent.values()) ms += spent;
    return (ms / cpu.units).toFixed(2);
  };
  const header = `| process | ${columns.map(({ layer }) => `${layer.name} @${layer.knee.inFlight}`).join(' | ')} |`;
  const rule = `| --- | ${columns.map(() => '---').join(' | ')} |`;
  const rows = processes.map((name) => `| ${name} | ${columns.map(({ cpu }) => cell(cpu, name)).join(' | ')} |`);
  const totals = `| total | ${columns.map(({ cpu }) => total(cpu)).join(' | ')} |`;
  const throughput = `| throughput | ${columns.map(({ layer }) => `${layer.knee.throughput.toFixed(1)} ${layer.unit}`).join(' | ')} |`;
  return [header, rule, ...rows, totals, throughput].join('\n');
}

const layerNames = ['L1', 'L2', 'L3', 'L4', 'R'] as const;
type LayerName = (typeof layerNames)[number];

function layersOption(): Set<LayerName> {
  const index = process.argv.indexOf('--layers');
  if (index < 0) return new Set(layerNames);
  const names = (process.argv[index + 1] ?? '').split(',');
  const known = new Set<string>(layerNames);
  if (names.some((name) => !known.has(name))) throw new Error(`--layers takes some of ${layerNames.join(',')}`);
  return new Set(names as LayerName[]);
}

async function main(): Promise<void> {
  const seconds = option('seconds', 15);
  const levels = levelsOption();
  const wanted = layersOption();
  const machine = machineDescription();
  log(`machine: ${machine}; ${seconds} s per level; levels ${levels.join(', ')} calls in flight`);
  const baselineEntry = baselineApiOption();
  const fabricProfileDir = process.env.BENCH_FABRIC_PROFILE_DIR;
  // Read by the network's node settings as the peers and orderers start.
  if (fabricProfileDir !== undefined) process.env.GIGLEDGER_FABRIC_PROFILING = '1';
  const chaincodeProfileDir = process.env.BENCH_CHAINCODE_PROFILE_DIR;
  // Read by the network as it starts the chaincode server, which writes the profile when
  // the network is stopped at the end (so not with BENCH_REUSE_NETWORK=1).
  if (chaincodeProfileDir !== undefined) {
    process.env.GIGLEDGER_CHAINCODE_PROFILE_DIR = path.resolve(chaincodeProfileDir);
    log(`chaincode server CPU profile: written to ${process.env.GIGLEDGER_CHAINCODE_PROFILE_DIR} as the network stops`);
  }
  const bench = await openBenchNetwork(log);
  const fabricProfiles =
    fabricProfileDir === undefined ? undefined : new FabricProfiles(bench.config, fabricProfileDir);
  // Started inside the try, so that an API which fails to start still leaves no network behind.
  const apis: { process: ChildProcess; dataDir: string }[] = [];
  let closeWaste: () => void = () => undefined;
  try {
    const api = await startApiProcess(bench);
    apis.push(api);
    const baselineApi = baselineEntry === undefined ? undefined : await startApiProcess(bench, baselineEntry);
    if (baselineApi !== undefined) apis.push(baselineApi);
    const run = randomBytes(3).toString('hex');
    const direct = {
      client: await bench.enroll('ClientOrg', 'client', 'lc'),
      freelancer: await bench.enroll('TalentOrg', 'freelancer', 'lf'),
      settlement: await bench.enroll('ClientOrg', 'settlement', 'ls'),
      issuer: await bench.enroll('AuditOrg', 'issuer', 'li'),
    };
    const holder = { mspId: 'TalentOrgMSP', userId: direct.freelancer.userId };
    const directCast: Cast = {
      client: { mspId: 'ClientOrgMSP', userId: direct.client.userId },
      freelancer: holder,
      holder,
    };

    const { tokens, cast: apiCast, issuer: apiIssuer } = await apiPeopleOf(api, `la${run}`);
    const baseline =
      baselineApi === undefined ? undefined : { ...baselineApi, ...(await apiPeopleOf(baselineApi, `lb${run}`)) };
    await bench.grantKyc([holder, apiCast.holder, ...(baseline === undefined ? [] : [baseline.cast.holder])]);
    await bench.accreditIssuers(
      [
        { mspId: 'AuditOrgMSP', userId: direct.issuer.userId },
        apiIssuer,
        ...(baseline === undefined ? [] : [baseline.issuer]),
      ],
      'Course',
    );

    const noOp = direct.client.session.gateway
      .getNetwork(bench.config.channel)
      .getContract(bench.config.chaincode.name);
    const layers: LayerFigures[] = [];
    const watched = () => [
      ...networkProcesses(bench.config.home),
      ...(api.process.pid === undefined ? [] : [{ name: 'api', pid: api.process.pid }]),
      ...(baselineApi?.process.pid === undefined ? [] : [{ name: 'baseline api', pid: baselineApi.process.pid }]),
      { name: 'load generator', pid: process.pid },
    ];
    const waste = new LedgerWaste([
      { name: 'api', url: api.url },
      ...(baselineApi === undefined ? [] : [{ name: 'baseline api', url: baselineApi.url }]),
    ]);
    await waste.start(direct.client.session.gateway.getNetwork(bench.config.channel), bench.ledger);
    closeWaste = () => {
      waste.close();
    };
    /** Invalid transactions and re-sends of every level measured, by layer name. */
    const wasted = new Map<string, Map<string, number>>();
    let level = 0;
    const profiledLevels = new Map<string, string>();
    /** CPU per process and the units it is charged to, of every level, by `layer@inFlight`. */
    const cpuAtLevel = new Map<string, { spent: CpuSpent; units: number }>();
    const cpuProbe =
      (unit: string, layer?: string): LevelProbe =>
      async () => {
        const before = await waste.counts();
        level += 1;
        const profiled = `${(layer ?? unit).split(' ')[0] ?? unit}-level${level}`;
        const cpuWatch = windowCpuWatch(watched);
        return {
          window: {
            opened() {
              fabricProfiles?.during(profiled, Math.max(1, seconds - 1));
              return cpuWatch.window.opened();
            },
            closed: () => cpuWatch.window.closed(),
          },
          async finish(figures) {
            const cpuSpent = cpuWatch.spent();
            const after = await waste.counts();
            if (layer !== undefined) {
              accumulate(wasted.get(layer) ?? new Map<string, number>(), before, after);
              profiledLevels.set(`${layer}@${figures.inFlight}`, profiled);
            }
            const units = figures.commits > 0 ? figures.commits : figures.calls;
            if (layer !== undefined) cpuAtLevel.set(`${layer}@${figures.inFlight}`, { spent: cpuSpent, units });
            const cpu = formatCpuPerUnit(cpuSpent, units, unit);
            return `${cpu}; load average ${loadAverage()}\n${''.padEnd(26)} ${formatWaste(before, after)}`;
          },
        };
      };
    const measure = async (name: string, unit: string, workload: Workload, unitCalls?: number) => {
      wasted.set(name, new Map());
      // A short warm-up, so no layer pays alone for first connections and compilation.
      await findKnee(`${name} (warm-up)`, unit, workload, [2], 2, () => undefined);
      const figures = await findKnee(
        name,
        unit,
        workload,
        levels,
        seconds,
        log,
        cpuProbe(unit === 'tx/s' ? 'tx' : 'read', name),
        { unitCalls },
      );
      log(
        `${name.padEnd(26)} knee at ${figures.knee.inFlight} in flight: ${figures.knee.throughput.toFixed(1)} ${unit}`,
      );
      const kneeProfiles = profiledLevels.get(`${name}@${figures.knee.inFlight}`);
      if (fabricProfiles !== undefined && kneeProfiles !== undefined) {
        log(`Go CPU profiles of the nodes at the knee of ${name}:\n${await fabricProfiles.top(kneeProfiles)}`);
      }
      layers.push(figures);
      return figures;
    };

    const l1 = wanted.has('L1')
      ? await measure('L1 no-op submit (gateway)', 'tx/s', async (timer) => {
          await timer.call(1, () => direct.client.session.contract.submit(systemTransactions.version, {}));
        })
      : undefined;
    const gatewayLayer = gatewayPath(
      {
        client: direct.client.session,
        freelancer: direct.freelancer.session,
        settlement: direct.settlement.session,
        issuer: direct.issuer.session,
      },
      directCast,
    );
    const directAgreements: string[] = [];
    const leverNames = leversOption();
    if (leverNames.length > 0) {
      const leverLevel = option('lever-level', 128);
      const levers = networkLevers(bench, process.env.GIGLEDGER_FABRIC_LOGGING ?? 'grpc=error:info');
      const javascriptSigner = javascriptSignerContract(bench, direct.client.session.identity);
      const leverLayer = leverLayerOption();
      const noOpWith = (contract: typeof noOp) => async (timer: CallTimer) => {
        await timer.call(1, () => contract.submitTransaction('system:version'));
      };
      // The gateway package's submit of the same no-op (L1's): its commit taken from the gateway peer's block stream.
      const noOpThroughPackage = async (timer: CallTimer) => {
        await timer.call(1, () => direct.client.session.contract.submit(systemTransactions.version, {}));
      };
      let leverRound = 0;
      const businessForLever = () => {
        leverRound += 1;
        return businessWorkload(gatewayLayer, `lever-${run}-${leverRound}`, directAgreements);
      };
      for (const name of leverNames) {
        // These two change the load generator, not the network: off is fabric-gateway's own
        // signer, or its own submit (which asks each commit status of the gateway peer).
        const lever =
          name === 'native-signer' || name === 'commit-from-blocks'
            ? { name, apply: () => Promise.resolve(), revert: () => Promise.resolve() }
            : levers.get(name);
        if (lever === undefined) throw new Error(`--levers: no lever ${name}`);
        await compareLever(
          lever,
          (on) =>
            leverLayer === 'L2'
              ? businessForLever()
              : name === 'commit-from-blocks' && on
                ? noOpThroughPackage
                : noOpWith(name === 'native-signer' && !on ? javascriptSigner : noOp),
          leverLevel,
          seconds,
          watched,
          log,
        );
      }
    }
    const apiAgreements: string[] = [];
    const l2 = wanted.has('L2')
      ? await measure(
          'L2 business (gateway)',
          'tx/s',
          businessWorkload(gatewayLayer, `L2-${run}`, directAgreements),
          businessUnitCalls,
        )
      : undefined;
    const restLayer = restPath(api.url, tokens, apiCast);
    const l3 = wanted.has('L3')
      ? await measure(
          'L3 business (REST)',
          'tx/s',
          businessWorkload(restLayer, `L3-${run}`, apiAgreements),
          businessUnitCalls,
        )
      : undefined;
    /**
     * This build and the baseline in turn at each level, twice, so drift in the machine's
     * load hits both; which goes first alternates pair by pair, so a load that rises or
     * falls through the run favours neither. The baseline is first driven through the same
     * levels for as long as this build's own layer ran, so neither is measured while its
     * JIT and per-identity gateway connections are still cold.
     */
    const sideBySide = async (name: string, unit: string, own: Workload, baselines: Workload) => {
      await findKnee(`${name} baseline (warm-up)`, unit, baselines, levels, seconds, () => undefined);
      const sides = [
        { name: `${name}, this build`, workload: own },
        { name: `${name}, baseline`, workload: baselines },
      ];
      for (const [pair, inFlight] of [...levels, ...levels].entries()) {
        for (const side of pair % 2 === 0 ? sides : [...sides].reverse()) {
          await findKnee(
            side.name,
            unit,
            side.workload,
            [inFlight],
            seconds,
            log,
            cpuProbe(unit === 'tx/s' ? 'tx' : 'read', side.name),
          );
        }
      }
    };
    const baselineLayer = baseline === undefined ? undefined : restPath(baseline.url, baseline.tokens, baseline.cast);
    const baselineAgreements: string[] = [];
    if (wanted.has('L3') && baselineLayer !== undefined) {
      await sideBySide(
        'L3 REST',
        'tx/s',
        businessWorkload(restLayer, `L3t-${run}`, apiAgreements),
        businessWorkload(baselineLayer, `L3b-${run}`, baselineAgreements),
      );
    }
    const graphqlLayer = graphqlPath(api.url, tokens, apiCast);
    const l4 = wanted.has('L4')
      ? await measure(
          'L4 business (GraphQL)',
          'tx/s',
          businessWorkload(graphqlLayer, `L4-${run}`, apiAgreements),
          businessUnitCalls,
        )
      : undefined;

    // Reads of agreements the business layers drafted, each by their own client.
    if (wanted.has('R')) {
      if (directAgreements.length > 0) {
        await measure('R read (gateway)', 'reads/s', readWorkload(gatewayLayer, directAgreements));
      }
      if (apiAgreements.length > 0) {
        await measure('R read (REST)', 'reads/s', readWorkload(restLayer, apiAgreements));
        await measure('R read (GraphQL)', 'reads/s', readWorkload(graphqlLayer, apiAgreements));
      }
      if (baselineLayer !== undefined && apiAgreements.length > 0 && baselineAgreements.length > 0) {
        // The freelancer reading an agreement's terms, the one read of the business mix.
        await sideBySide(
          'R terms (REST)',
          'reads/s',
          termsWorkload(restLayer, apiAgreements),
          termsWorkload(baselineLayer, baselineAgreements),
        );
      }
    }

    log('');
    log(`Summary (${machine}; one run, ${new Date().toISOString()}):`);
    log(
      '| layer | knee (in flight) | throughput | p50 / p99 per call | failures, all levels | invalid and re-sent, all levels |',
    );
    log('| --- | --- | --- | --- | --- | --- |');
    for (const layer of layers) {
      const failures = formatFailures(layer);
      const waste = [...(wasted.get(layer.name) ?? [])].map(([kind, count]) => `${count}× ${kind}`).join(', ');
      log(
        `| ${layer.name} | ${layer.knee.inFlight} | ${layer.knee.throughput.toFixed(1)} ${layer.unit} | ` +
          `${layer.knee.p50.toFixed(0)} / ${layer.knee.p99.toFixed(0)} ms | ${failures} | ${waste === '' ? 'none' : waste} |`,
      );
    }
    log('');
    log(
      `CPU milliseconds per transaction (per read for R) by process at each layer's knee; load average ${loadAverage()}:`,
    );
    log(cpuTable(layers, cpuAtLevel));
    const ratio = (a: LayerFigures | undefined, b: LayerFigures | undefined) =>
      a === undefined || b === undefined ? 'not measured' : (a.knee.throughput / b.knee.throughput).toFixed(2);
    log(`L2/L1 ${ratio(l2, l1)}; L3/L2 ${ratio(l3, l2)}; L4/L2 ${ratio(l4, l2)}`);
    log('');
    log('Every level measured (calls in flight: throughput):');
    for (const layer of layers) log(`${layer.name.padEnd(26)} ${formatCurve(layer)}`);
  } finally {
    closeWaste();
    for (const api of apis.reverse()) {
      await stopProcess(api.process);
      rmSync(api.dataDir, { recursive: true, force: true });
    }
    await bench.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
