import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { decodeBlockContents, type LedgerSession } from '@gigledger/gateway';
import { signers } from '@hyperledger/fabric-gateway';
import { common, gateway, msp, peer } from '@hyperledger/fabric-protos';
import { networkRestarts, peerHeight, Supervisor } from '@gigledger/network';
import { SseSubscription } from '@gigledger/api/test-support/sse-subscription';
import { e2eConfig } from './support/e2e-environment.js';
import { startE2eApi, type E2eApi } from './support/api-server.js';
import { openE2eContext, partyOf, type E2eContext } from './support/ledger.js';

const requestId = () => `req-${randomBytes(8).toString('hex')}`;

/** A single EUR 10.00 deliverable due in a day: the agreements here only need to exist and move. */
function oneMilestone() {
  return [
    {
      kind: 'deliverable' as const,
      milestoneId: 'm1',
      title: 'M',
      amount: '1000',
      currency: 'EUR',
      dueDate: new Date(Date.now() + 86_400_000).toISOString(),
      acceptanceCriteria: { description: 'done' },
    },
  ];
}

function draft(agreementId: string, client: LedgerSession, freelancer: LedgerSession) {
  return client.agreements.draftAgreement(
    {
      requestId: requestId(),
      agreementId,
      title: 'Resilience',
      client: partyOf(client),
      freelancer: partyOf(freelancer),
      milestones: oneMilestone(),
    },
    { transient: { terms: { scope: `work ${agreementId}`, salt: randomBytes(16).toString('hex') } } },
  );
}

/** A fresh nonce of `session`'s identity, and the transaction id Fabric derives from it (SHA-256 of nonce and creator). */
function newTransactionIdentity(session: LedgerSession): {
  transactionId: string;
  signatureHeader: common.SignatureHeader;
} {
  const creator = new msp.SerializedIdentity();
  creator.setMspid(session.identity.mspId);
  creator.setIdBytes(Buffer.from(session.identity.certificatePem));
  const nonce = randomBytes(24);
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator.serializeBinary());
  signatureHeader.setNonce(nonce);
  const transactionId = createHash('sha256')
    .update(Buffer.concat([nonce, creator.serializeBinary()]))
    .digest('hex');
  return { transactionId, signatureHeader };
}

/** `payload` signed by `session`'s identity, as its creator. */
async function signedEnvelope(session: LedgerSession, payload: common.Payload): Promise<common.Envelope> {
  const payloadBytes = payload.serializeBinary();
  const sign = signers.newPrivateKeySigner(createPrivateKey(session.identity.privateKeyPem));
  const envelope = new common.Envelope();
  envelope.setPayload(payloadBytes);
  envelope.setSignature(await sign(createHash('sha256').update(payloadBytes).digest()));
  return envelope;
}

/**
 * Sends through `session`'s organisation's peer (its Gateway service's Submit, as any
 * client of a member organisation can) a malformed endorser transaction: one whose one
 * action carries no endorsed action, one with no action at all, or one whose transaction
 * does not decode. It is signed by the
 * session's identity with a proper id and nonce, so that the peers get as far as its
 * actions when they validate it. Returns its id.
 */
const malformedShapes = ['no endorsed action', 'no action', 'undecodable'] as const;

type MalformedShape = (typeof malformedShapes)[number];

async function submitMalformed(
  context: E2eContext,
  session: LedgerSession,
  channel: string,
  shape: MalformedShape,
): Promise<string> {
  const { transactionId, signatureHeader } = newTransactionIdentity(session);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(channel);
  channelHeader.setTxId(transactionId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(Buffer.from('no endorsed action follows'));
  const action = new peer.TransactionAction();
  action.setHeader(signatureHeader.serializeBinary());
  action.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList(shape === 'no action' ? [] : [action]);
  const payload = new common.Payload();
  payload.setHeader(header);
  // A transaction whose bytes end inside its first field: no Transaction decodes from them.
  payload.setData(shape === 'undecodable' ? Uint8Array.from([0x0a, 0xff, 0x01]) : transaction.serializeBinary());
  const envelope = await signedEnvelope(session, payload);
  await submitEnvelope(context, session, channel, transactionId, envelope);
  return transactionId;
}

/**
 * Sends a signed transaction for ordering through the Gateway service of `session`'s
 * organisation's peer, as any client of the organisation can; resolves once the peer
 * answers that an orderer took it.
 */
async function submitEnvelope(
  context: E2eContext,
  session: LedgerSession,
  channel: string,
  transactionId: string,
  envelope: common.Envelope,
): Promise<void> {
  const request = new gateway.SubmitRequest();
  request.setTransactionId(transactionId);
  request.setChannelId(channel);
  request.setPreparedTransaction(envelope);
  const { client } = context.ledger.connections.forMsp(session.identity.mspId);
  await new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      '/gateway.Gateway/Submit',
      (message: gateway.SubmitRequest) => Buffer.from(message.serializeBinary()),
      (bytes: Buffer) => gateway.SubmitResponse.deserializeBinary(bytes),
      request,
      (error) => {
        if (error) reject(error);
        else resolve();
      },
    );
  });
}

/**
 * The committed transaction `original` rebuilt as a new one of `session`'s identity (a new
 * nonce and id, the proposal hash the peers recompute, signed), with the same writes and
 * key-level policies but a chaincode event naming another chaincode, which the peers'
 * plugin dispatcher refuses before any validation plugin runs. Its endorsements are the
 * original's, no longer over what it carries: nothing checks them before the refusal.
 */
async function withEventOfAnotherChaincode(
  original: common.Envelope,
  session: LedgerSession,
): Promise<{ envelope: common.Envelope; transactionId: string }> {
  const payload = common.Payload.deserializeBinary(original.getPayload_asU8());
  const header = payload.getHeader()!;
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = transaction.getActionsList()[0]!;
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const endorsed = actionPayload.getAction()!;
  const responsePayload = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
  const chaincodeAction = peer.ChaincodeAction.deserializeBinary(responsePayload.getExtension_asU8());

  const { transactionId, signatureHeader } = newTransactionIdentity(session);
  channelHeader.setTxId(transactionId);
  const channelHeaderBytes = channelHeader.serializeBinary();
  const signatureHeaderBytes = signatureHeader.serializeBinary();

  const event = new peer.ChaincodeEvent();
  event.setChaincodeId('another-chaincode');
  event.setTxId(transactionId);
  event.setEventName('agreement.Drafted');
  chaincodeAction.setEvents(event.serializeBinary());
  responsePayload.setExtension$(chaincodeAction.serializeBinary());
  // What the peers recompute: SHA-256 over the channel header, the signature header and the proposal payload.
  responsePayload.setProposalHash(
    createHash('sha256')
      .update(channelHeaderBytes)
      .update(signatureHeaderBytes)
      .update(actionPayload.getChaincodeProposalPayload_asU8())
      .digest(),
  );
  endorsed.setProposalResponsePayload(responsePayload.serializeBinary());
  actionPayload.setAction(endorsed);
  action.setHeader(signatureHeaderBytes);
  action.setPayload(actionPayload.serializeBinary());
  transaction.setActionsList([action]);
  header.setChannelHeader(channelHeaderBytes);
  header.setSignatureHeader(signatureHeaderBytes);
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());

  return { envelope: await signedEnvelope(session, payload), transactionId };
}

/** The orderer that leads the channel's Raft cluster now, from its operations metrics. */
async function raftLeader(context: E2eContext): Promise<string> {
  for (const orderer of context.config.ordererOrg.orderers) {
    const metrics = await (await fetch(`http://127.0.0.1:${orderer.operationsPort}/metrics`)).text();
    if (/consensus_etcdraft_is_leader\{channel="[^"]+"\} 1\b/.test(metrics)) return orderer.name;
  }
  throw new Error('no orderer reports itself as the Raft leader');
}

describe('resilience on the real network', () => {
  let context: E2eContext;
  let client: LedgerSession;
  let freelancer: LedgerSession;

  beforeAll(async () => {
    context = openE2eContext();
    client = await context.enroll('ClientOrg', 'client', 'res-client');
    freelancer = await context.enroll('TalentOrg', 'freelancer', 'res-talent');
  });

  afterAll(async () => {
    // Whatever a test stopped is started again for the suites after it.
    for (const name of [...context.config.ordererOrg.orderers.map((orderer) => orderer.name)]) {
      const record = context.network.registry.find(name);
      if (record === undefined || !context.network.registry.running().some((running) => running.name === name)) {
        await context.network.startProcess(name);
      }
    }
    context.close();
  });

  it('R1: commands in flight when the Raft leader is killed complete, none lost and none applied twice', async () => {
    const run = randomBytes(3).toString('hex');
    const ids = Array.from({ length: 200 }, (_, index) => `R1-${run}-${index}`);
    const outcomes = new Map<string, { ok: boolean; finishedAt: number; error?: string }>();
    let next = 0;
    let killedAt = 0;
    const leader = await raftLeader(context);
    const workers = Array.from({ length: 20 }, async () => {
      while (next < ids.length) {
        const agreementId = ids[next]!;
        next += 1;
        if (next === 60) {
          // Kill -9 mid-stream: no goodbye to the cluster, transactions it held are gone.
          const record = context.network.registry.find(leader);
          if (record !== undefined) process.kill(record.pid, 'SIGKILL');
          killedAt = performance.now();
        }
        try {
          await draft(agreementId, client, freelancer);
          outcomes.set(agreementId, { ok: true, finishedAt: performance.now() });
        } catch (error) {
          outcomes.set(agreementId, { ok: false, finishedAt: performance.now(), error: String(error) });
        }
      }
    });
    await Promise.all(workers);
    const failed = [...outcomes].filter(([, outcome]) => !outcome.ok);
    expect(failed.map(([id, outcome]) => `${id}: ${outcome.error ?? ''}`)).toEqual([]);
    // Every agreement exists, once: a draft applied twice would have been refused as ALREADY_EXISTS.
    const stored = await Promise.all(ids.map((agreementId) => client.agreements.getAgreement({ agreementId })));
    expect(stored.map((view) => view.agreement.agreementId)).toEqual(ids);
    const slowest = Math.max(...[...outcomes.values()].map((outcome) => outcome.finishedAt - killedAt));
    process.stdout.write(
      `R1: leader ${leader} killed after 60 of 200 drafts were started; 200 committed, 0 lost, 0 duplicated; last one done ${(slowest / 1000).toFixed(1)} s after the kill\n`,
    );
    await context.network.startProcess(leader);
  });

  it('R2: a peer and the chaincode server killed under npm start’s supervision are started again, and commands endorsed by both parties commit through them', async () => {
    const talentPeer = context.config.peerOrgs.find((org) => org.name === 'TalentOrg')!;
    const peerName = `${talentPeer.peer.name}.${talentPeer.name}`;
    const chaincodeServer = context.network.registry.list().find((record) => record.kind === 'chaincode')!;
    const killed = [context.network.registry.find(peerName)!, chaincodeServer];
    const lines: string[] = [];
    const restarts = networkRestarts(context.network, 0);
    // Only what this test kills: the suites' own API runs in-process and has no record.
    const supervisor = new Supervisor({
      registry: context.network.registry,
      report: (line) => lines.push(line),
      restartOf: (record) => (killed.some((victim) => victim.name === record.name) ? restarts(record) : undefined),
      intervalMs: 500,
    });
    supervisor.start();
    try {
      for (const record of killed) process.kill(record.pid, 'SIGKILL');
      const agreementId = `R2-${randomBytes(3).toString('hex')}`;
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          await draft(agreementId, client, freelancer);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await delay(1000);
        }
      }
      const stored = await freelancer.agreements.getAgreement({ agreementId });
      expect(stored.agreement.agreementId).toBe(agreementId);
      // The draft may commit through the other two peers before TalentOrg's is back.
      while (!killed.every((record) => lines.some((line) => line.startsWith(`${record.name} started again`)))) {
        if (Date.now() > deadline) break;
        await delay(500);
      }
      for (const record of killed) {
        const now = context.network.registry.find(record.name);
        expect(now?.pid).not.toBe(record.pid);
        expect(context.network.registry.running().map((running) => running.name)).toContain(record.name);
        expect(lines).toContain(`${record.name} started again as PID ${String(now?.pid)}`);
      }
      // Commands both parties' organisations endorse need the restarted peer back in the
      // gateway's discovery (gossip), which follows its restart by some seconds.
      const terms = await freelancer.agreements.getTerms({ agreementId });
      const accepted = async () =>
        (await client.agreements.getAgreement({ agreementId })).agreement.status === 'active';
      for (const [command, done] of [
        [() => freelancer.agreements.acceptAgreement({ agreementId, termsSha256: terms.termsSha256 }), accepted],
        // The request id makes a funding sent twice one funding.
        [() => client.agreements.fundMilestone({ requestId: `fund-${agreementId}`, agreementId, milestoneId: 'm1' })],
      ] as const) {
        for (;;) {
          try {
            await command();
            break;
          } catch (error) {
            // An attempt whose commit status was lost may have committed: not sent again then.
            if (done !== undefined && (await done())) break;
            if (Date.now() > deadline) throw error;
            await delay(1000);
          }
        }
      }
      const funded = await client.agreements.getAgreement({ agreementId });
      expect(funded.agreement.status).toBe('active');
      // Requested; collected as well if a settlement service of another suite took it.
      expect(['funding', 'funded']).toContain(funded.milestones[0]?.status);
    } finally {
      await supervisor.stop();
    }
  });

  it('R3: malformed transactions from a member (no endorsed action, no action, undecodable), alone in a block or before a command of theirs, are refused by every peer, which go on committing', async () => {
    const channel = context.config.channel;
    const peers = context.config.peerOrgs.map((org) => context.network.registry.find(`${org.peer.name}.${org.name}`)!);
    const qscc = client.gateway.getNetwork(channel).getContract('qscc');
    /** Once committed: the transaction's block and its validation code, as the peer's ledger records them. */
    const committed = async (transactionId: string) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        try {
          const block = common.Block.deserializeBinary(
            await qscc.evaluateTransaction('GetBlockByTxID', channel, transactionId),
          );
          const processed = peer.ProcessedTransaction.deserializeBinary(
            await qscc.evaluateTransaction('GetTransactionByID', channel, transactionId),
          );
          return { block: block.getHeader()?.getNumber(), code: processed.getValidationcode() };
        } catch {
          await delay(500);
        }
      }
      throw new Error(`transaction ${transactionId} was not committed within a minute`);
    };
    // Alone in its block: its own validation (unpatched Fabric 3.1 panics there).
    for (const shape of malformedShapes) {
      const alone = await committed(await submitMalformed(context, client, channel, shape));
      expect([shape, alone.code === peer.TxValidationCode.VALID]).toEqual([shape, false]);
    }
    // Before a command in the same block, whose key-level policy check reads every earlier
    // transaction of the block (unpatched, it panics on a missing action and waits for ever
    // after one that does not decode). Blocks are cut every 250 ms.
    const sharedBlocks = new Set<string>();
    for (let attempt = 0; attempt < 6 && sharedBlocks.size < malformedShapes.length; attempt += 1) {
      for (const shape of malformedShapes) {
        const malformed = await submitMalformed(context, client, channel, shape);
        const drafted = await draft(`R3-${randomBytes(3).toString('hex')}`, client, freelancer);
        const found = await committed(malformed);
        expect(found.code).not.toBe(peer.TxValidationCode.VALID);
        if (found.block === Number(drafted.blockNumber)) sharedBlocks.add(shape);
      }
    }
    expect([...sharedBlocks].sort()).toEqual([...malformedShapes].sort());
    // No peer stopped on those blocks, and commands go on committing.
    const agreementId = `R3-${randomBytes(3).toString('hex')}`;
    await draft(agreementId, client, freelancer);
    expect((await freelancer.agreements.getAgreement({ agreementId })).agreement.agreementId).toBe(agreementId);
    const running = context.network.registry.running();
    for (const record of peers) expect(running.find((each) => each.name === record.name)?.pid).toBe(record.pid);
  });

  it('R4: a draft that sets key-level policies, ordered again (a duplicate) or under a new id with a chaincode event of another chaincode, before a command on the same agreement in one block, is refused by every peer, which go on committing', async () => {
    const channel = context.config.channel;
    const qscc = client.gateway.getNetwork(channel).getContract('qscc');
    const contract = freelancer.gateway.getNetwork(channel).getContract(context.config.chaincode.name);
    const shapes = {
      // The very envelope the peers committed: what a client, a peer's Gateway or an
      // orderer sends again after a lost answer.
      'a copy of it': (original: common.Envelope) => ({ envelope: original, transactionId: undefined }),
      // Refused by the plugin dispatcher before any validation plugin runs.
      'its writes under a new id, with an event of another chaincode': (original: common.Envelope) =>
        withEventOfAnotherChaincode(original, client),
    } as const;
    const seen: Record<string, { refused: string; acceptance: string }> = {};
    for (const [shape, resend] of Object.entries(shapes)) {
      for (let attempt = 0; attempt < 6 && seen[shape] === undefined; attempt += 1) {
        const agreementId = `R4-${randomBytes(3).toString('hex')}`;
        const drafted = await draft(agreementId, client, freelancer);
        const original = peer.ProcessedTransaction.deserializeBinary(
          await qscc.evaluateTransaction('GetTransactionByID', channel, drafted.transactionId),
        ).getTransactionenvelope()!;
        const resent = await resend(original);
        const resentId = resent.transactionId ?? drafted.transactionId;
        const { termsSha256 } = await freelancer.agreements.getTerms({ agreementId });
        // Endorsed first, so that it reaches the orderers right behind the resent draft; its
        // key-level policy check waits for the validation of every earlier transaction of
        // the block that sets a policy on the agreement's keys (unpatched: for ever, on
        // every peer, for one refused before its validation plugin ran).
        const acceptance = await contract
          .newProposal('agreement:acceptAgreement', { arguments: [JSON.stringify({ agreementId, termsSha256 })] })
          .endorse();
        await submitEnvelope(context, client, channel, resentId, resent.envelope);
        const status = await (await acceptance.submit()).getStatus();
        expect([shape, status.code]).toEqual([shape, peer.TxValidationCode.VALID]);
        const block = decodeBlockContents(
          common.Block.deserializeBinary(
            await qscc.evaluateTransaction('GetBlockByNumber', channel, status.blockNumber.toString()),
          ),
        );
        const refused = block.transactions.find((transaction) => transaction.transactionId === resentId);
        const accepted = block.transactions.find((transaction) => transaction.transactionId === status.transactionId);
        if (refused !== undefined && accepted !== undefined && refused.position < accepted.position) {
          seen[shape] = { refused: refused.validationName, acceptance: accepted.validationName };
        }
        expect((await client.agreements.getAgreement({ agreementId })).agreement.status).toBe('active');
      }
    }
    expect(seen).toEqual({
      'a copy of it': { refused: 'DUPLICATE_TXID', acceptance: 'VALID' },
      'its writes under a new id, with an event of another chaincode': {
        refused: 'INVALID_OTHER_REASON',
        acceptance: 'VALID',
      },
    });
    // Every peer, the third organisation's too, committed those blocks and goes on.
    const next = await draft(`R4-${randomBytes(3).toString('hex')}`, client, freelancer);
    for (const org of context.config.peerOrgs) {
      const deadline = Date.now() + 30_000;
      let height = await peerHeight(context.config, context.network.toolchain, org);
      while (height <= Number(next.blockNumber) && Date.now() < deadline) {
        await delay(500);
        height = await peerHeight(context.config, context.network.toolchain, org);
      }
      expect([org.name, height > Number(next.blockNumber)]).toEqual([org.name, true]);
    }
  });

  it('makes a command committed for one organisation visible to the next command endorsed by both', async () => {
    // Accept, then release at once: the release is endorsed by the freelancer's peer too.
    const failures: string[] = [];
    const run = randomBytes(3).toString('hex');
    await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const agreementId = `RYW-${run}-${index}`;
        const milestone = { agreementId, milestoneId: 'm1' };
        try {
          await draft(agreementId, client, freelancer);
          const terms = await freelancer.agreements.getTerms({ agreementId });
          await freelancer.agreements.acceptAgreement({ agreementId, termsSha256: terms.termsSha256 });
          await client.agreements.fundMilestone({ requestId: requestId(), ...milestone });
        } catch (error) {
          failures.push(`${agreementId}: ${String(error)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  it('reports not ready while a peer is frozen (its connections open, nothing answered), and ready once it answers again', async () => {
    const api: E2eApi = await startE2eApi(e2eConfig());
    const peer = context.config.peerOrgs.find((org) => org.name === 'ClientOrg')!;
    const frozen = context.network.registry.find(`${peer.peer.name}.${peer.name}`)!;
    const readiness = async () => {
      const response = await fetch(`${api.url}/readyz`);
      return { status: response.status, body: (await response.json()) as { checks: { peers: boolean } } };
    };
    const until = async (status: number) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answer = await readiness();
        if (answer.status === status || Date.now() > deadline) return answer;
        // Within the probes' rate limit (60 a minute per address).
        await delay(1500);
      }
    };
    try {
      expect((await until(200)).status).toBe(200);
      process.kill(frozen.pid, 'SIGSTOP');
      try {
        const notReady = await until(503);
        expect([notReady.status, notReady.body.checks.peers]).toEqual([503, false]);
      } finally {
        process.kill(frozen.pid, 'SIGCONT');
      }
      const ready = await until(200);
      expect([ready.status, ready.body.checks.peers]).toEqual([200, true]);
    } finally {
      await api.close();
    }
  });

  it('delivers every agreement event exactly once to an open subscription across a restart of the API’s peer', async () => {
    const api: E2eApi = await startE2eApi(e2eConfig());
    try {
      const suffix = randomBytes(3).toString('hex');
      const carol = await api.person(`pr-client-${suffix}`, 'ClientOrg', 'client');
      const tara = await api.person(`pr-talent-${suffix}`, 'TalentOrg', 'freelancer');
      const agreementId = `PR-${suffix}`;
      const drafted = await api.call('POST', '/v1/agreements', carol.token, {
        agreementId,
        title: 'Peer restart',
        client: carol.party,
        freelancer: tara.party,
        milestones: oneMilestone(),
        terms: { scope: 'restart' },
      });
      expect(drafted.status).toBe(201);
      // A subscription sees what commits while it is open, and only agreements its caller may read.
      const subscription = await SseSubscription.open(
        api.url,
        `subscription { agreementEvents(agreementId: "${agreementId}") { name transactionId } }`,
        { authorization: `Bearer ${tara.token}` },
      );

      const peer = context.config.peerOrgs[0]!;
      const peerName = `${peer.peer.name}.${peer.name}`;
      await context.network.stopProcess(peerName);
      await delay(1000);
      await context.network.startProcess(peerName);

      const committed: string[] = [];
      const terms = await api.call('GET', `/v1/agreements/${agreementId}/terms`, tara.token);
      // The API's peer has just come back: retry while its gateway reconnects.
      for (const [as, path, body] of [
        [
          tara.token,
          `/v1/agreements/${agreementId}/accept`,
          { termsSha256: (terms.body as { termsSha256: string }).termsSha256 },
        ],
        [carol.token, `/v1/agreements/${agreementId}/milestones/m1/fund`, {}],
      ] as const) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const answer = await api.call('POST', path, as, body);
          if (answer.status === 200) {
            committed.push((answer.body as { transactionId: string }).transactionId);
            break;
          }
          if (Date.now() > deadline) throw new Error(`${path} kept failing: ${JSON.stringify(answer.body)}`);
          await delay(1000);
        }
      }

      const received: string[] = [];
      while (received.length < committed.length) {
        const message = (await subscription.next(30_000)) as
          { data?: { agreementEvents: { transactionId: string } } } | undefined;
        if (message?.data === undefined) break;
        received.push(message.data.agreementEvents.transactionId);
      }
      // Nothing more arrives: no event is repeated after the restart.
      expect(await subscription.next(3000)).toBeUndefined();
      expect(received).toEqual(committed);
      subscription.close();
    } finally {
      await api.close();
    }
  });
});
