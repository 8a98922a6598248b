import { status as grpcStatus, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  GatewayError,
  type Network,
  type ProposalOptions,
} from '@hyperledger/fabric-gateway';
import { agreementTransactions, governanceTransactions, parameterTransactions } from '@gigledger/chaincode/model';
import { ContractClient } from './contract-client.js';
import { gatewayCallWeight } from './gateway-call-limit.js';
import { callerRequestClaims, type RequestClaims } from './request-claims.js';
import type { CommitSeen, CommitWatch, PeerHeights } from './peer-heights.js';
import { CommitLatencies, type Clock, type ResubmitReason } from './resubmission.js';
import {
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  ResultFormatError,
  SubmissionError,
} from './errors.js';
import { preparedTransactionBytes, type PreparedTransactionParts } from './test-support/prepared-transaction.js';

/*
 * ContractClient against a stand-in for the few fabric-gateway calls it makes
 * (newProposal → endorse → submit → getStatus). The stand-in records what was asked
 * and answers from a script, so the client's decisions can be checked one by one; the
 * end-to-end suites prove the same paths on the real network.
 */

function serviceError(code: grpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

type StatusAnswer = { successful: boolean; code: number; blockNumber: bigint } | 'timeout' | 'unavailable';

/** A clock that moves only when the code under test sleeps or a status request runs out its deadline. */
class FakeClock implements Clock {
  #now = 1_000_000;
  now(): number {
    return this.#now;
  }
  sleep(ms: number): Promise<void> {
    this.#now += ms;
    return Promise.resolve();
  }
  advanceTo(at: number): void {
    this.#now = Math.max(this.#now, at);
  }
}

class ScriptedNetwork {
  readonly proposals: { name: string; options: ProposalOptions; transactionId: string }[] = [];
  submissions = 0;
  statusAnswers: StatusAnswer[] = [];
  /** What the commit status answers once the script has run out. */
  lastStatusAnswer: StatusAnswer = { successful: true, code: 0, blockNumber: 7n };
  /** The transaction id of every commit-status request, in order. */
  readonly statusAsks: string[] = [];
  /** Proposals and commit-status requests in the order they were made, e.g. `proposed tx-1`, `status tx-1`. */
  readonly timeline: string[] = [];
  readonly evaluations: string[] = [];
  /** The options of every evaluation, in order. */
  readonly evaluationOptions: ProposalOptions[] = [];
  /** The gRPC call options of every evaluation, in order. */
  readonly evaluationCallOptions: CallOptions[] = [];
  endorseFailure: Error | undefined;
  /** Failures the first endorsements meet, one each, before `endorseFailure` applies. */
  endorseFailures: Error[] = [];
  evaluateFailure: Error | undefined;
  /** Failures the first evaluations meet, one each, before `evaluateFailure` applies. */
  evaluateFailures: Error[] = [];
  /** How many of the first submits find no orderer. */
  unreachableSubmits = 0;
  /** Which submits (counted from 1) find no orderer, besides the first `unreachableSubmits`. */
  unreachableSubmitNumbers = new Set<number>();
  /** How a submit that finds no orderer fails: UNAVAILABLE, or DEADLINE_EXCEEDED as when an orderer took it and never answered. */
  unreachableCode: grpcStatus = grpcStatus.UNAVAILABLE;
  /** What the gRPC status of a submit that finds no orderer says. */
  unreachableCause = 'no orderers could successfully process transaction';
  /** What the gateway peer says of each orderer it tried, as `details` of that failure. */
  unreachableDetails: string[] = [];
  /** When set, a status request that times out moves this clock to its deadline, as a real one would take that long. */
  clock: FakeClock | undefined;
  /** What the endorsed transactions hold besides the result, e.g. the event of a replayed request. */
  endorsed: PreparedTransactionParts = {};
  result = new TextEncoder().encode(
    JSON.stringify({ name: 'maxRevisions', value: 3, updatedAt: 'x', updatedBy: 'y', txId: 'z' }),
  );

  asNetwork(): Network {
    const network = {
      getContract: () => ({
        newProposal: (name: string, options: ProposalOptions = {}) => {
          const transactionId = `tx-${this.proposals.length + 1}`;
          this.proposals.push({ name, options, transactionId });
          this.timeline.push(`proposed ${transactionId}`);
          return {
            evaluate: (callOptions: CallOptions = {}) => {
              // An evaluation is never ordered: it leaves no proposal on the record.
              this.proposals.pop();
              this.timeline.pop();
              this.evaluations.push(name);
              this.evaluationOptions.push(options);
              this.evaluationCallOptions.push(callOptions);
              const next = this.evaluateFailures.shift();
              if (next !== undefined) return Promise.reject(next);
              if (this.evaluateFailure !== undefined) return Promise.reject(this.evaluateFailure);
              return Promise.resolve(this.result);
            },
            getTransactionId: () => transactionId,
            endorse: () => {
              const next = this.endorseFailures.shift();
              if (next !== undefined) return Promise.reject(next);
              if (this.endorseFailure !== undefined) return Promise.reject(this.endorseFailure);
              return Promise.resolve(this.#transaction(transactionId));
            },
          };
        },
      }),
    };
    return network as unknown as Network;
  }

  #transaction(transactionId: string) {
    return {
      getResult: () => this.result,
      getBytes: () => preparedTransactionBytes(transactionId, this.endorsed),
      submit: () => {
        this.submissions += 1;
        if (this.submissions <= this.unreachableSubmits || this.unreachableSubmitNumbers.has(this.submissions)) {
          const code = this.unreachableCode;
          return Promise.reject(
            new GatewayError({
              code,
              details: this.unreachableDetails.map((message, index) => ({
                address: `127.0.0.1:${7050 + index}`,
                mspId: 'OrdererMSP',
                message,
              })),
              cause: serviceError(code, this.unreachableCause),
            }),
          );
        }
        return Promise.resolve({
          getStatus: (options?: { deadline?: number }) => {
            this.statusAsks.push(transactionId);
            this.timeline.push(`status ${transactionId}`);
            const answer = this.statusAnswers.shift() ?? this.lastStatusAnswer;
            if (answer === 'timeout' && options?.deadline !== undefined) this.clock?.advanceTo(options.deadline);
            if (answer === 'timeout' || answer === 'unavailable') {
              const code = answer === 'timeout' ? grpcStatus.DEADLINE_EXCEEDED : grpcStatus.UNAVAILABLE;
              return Promise.reject(
                new CommitStatusError({ code, details: [], cause: serviceError(code, answer), transactionId }),
              );
            }
            return Promise.resolve(answer);
          },
        });
      },
    };
  }
}

const setParameter = parameterTransactions.setParameter;
const valid = { successful: true, code: 0, blockNumber: 9n };
/** Validation codes of fabric's TxValidationCode. */
const mvccReadConflict = { successful: false, code: 11, blockNumber: 5n };
const phantomReadConflict = { successful: false, code: 12, blockNumber: 5n };
const endorsementPolicyFailure = { successful: false, code: 10, blockNumber: 5n };
const badCreatorSignature = { successful: false, code: 4, blockNumber: 5n };
const request = { name: 'maxRevisions' as const, value: 3 };

/** An endorsement failure as fabric-gateway reports it, each peer's message in `details`. */
function endorseError(messages: readonly string[]): EndorseError {
  return new EndorseError({
    code: grpcStatus.ABORTED,
    details: messages.map((message, index) => ({
      address: `127.0.0.1:${7051 + index}`,
      mspId: 'ClientOrgMSP',
      message,
    })),
    cause: serviceError(grpcStatus.ABORTED, 'failed to endorse transaction'),
    transactionId: 'tx-1',
  });
}

describe('ContractClient', () => {
  it('offers the same transaction again while no orderer is reachable, and gives up with SubmissionError', async () => {
    const scripted = new ScriptedNetwork();
    scripted.unreachableSubmits = 2;
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    expect((await client.submit(setParameter, { name: 'maxRevisions', value: 3 })).transactionId).toBe('tx-1');
    expect([scripted.proposals.length, scripted.submissions]).toEqual([1, 3]);

    const unreachable = new ScriptedNetwork();
    unreachable.unreachableSubmits = 1000;
    const impatient = new ContractClient(unreachable.asNetwork(), 'gigledger', { orderingRetryMs: 300 });
    await expect(impatient.submit(setParameter, { name: 'maxRevisions', value: 3 })).rejects.toThrow(SubmissionError);
  });

  it('offers the same transaction again when the hand-over to ordering timed out, and then says its outcome is unknown', async () => {
    // An orderer that stopped answering (a frozen Raft leader) may still order what it took:
    // the copy carries the same id, so the status of the first occurrence is what comes back.
    const scripted = new ScriptedNetwork();
    scripted.unreachableSubmits = 1;
    scripted.unreachableCode = grpcStatus.DEADLINE_EXCEEDED;
    const resent: string[] = [];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
      onResubmit: (_transactionId, reason) => resent.push(reason),
    });
    expect((await client.submit(setParameter, request)).transactionId).toBe('tx-1');
    expect([scripted.proposals.length, scripted.submissions, resent]).toEqual([1, 2, ['unanswered']]);

    const silent = new ScriptedNetwork();
    silent.unreachableSubmits = 1000;
    silent.unreachableCode = grpcStatus.DEADLINE_EXCEEDED;
    const impatient = new ContractClient(silent.asNetwork(), 'gigledger', { orderingRetryMs: 300 });
    const failure = await impatient.submit(setParameter, request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommitStatusUnknownError);
    expect(failure).not.toBeInstanceOf(SubmissionError);
    expect(failure).toMatchObject({ transactionId: 'tx-1' });
    expect(silent.proposals).toHaveLength(1);

    // The gateway peer gives up on an orderer that does not answer and names it: the
    // transaction may be with it, so the outcome is unknown, not "not ordered".
    const frozen = new ScriptedNetwork();
    frozen.unreachableSubmits = 1000;
    frozen.unreachableDetails = ['rpc error: code = DeadlineExceeded desc = context deadline exceeded', 'EOF'];
    const patient = new ContractClient(frozen.asNetwork(), 'gigledger', { orderingRetryMs: 300 });
    await expect(patient.submit(setParameter, request)).rejects.toThrow(CommitStatusUnknownError);
  });

  it('takes a Submit whose connection to the gateway peer dropped mid-call as a hand-over that may be ordered, unlike one that never reached the peer', async () => {
    // The peer killed after it passed the transaction to an orderer: the copy sent again
    // is counted as unanswered, and a submit that gives up says the outcome is unknown.
    for (const dropped of ['Connection dropped', 'read ECONNRESET', 'Received RST_STREAM with code 2']) {
      const scripted = new ScriptedNetwork();
      scripted.unreachableSubmits = 1;
      scripted.unreachableCause = dropped;
      const resent: string[] = [];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
        onResubmit: (_transactionId, reason) => resent.push(reason),
      });
      expect((await client.submit(setParameter, request)).transactionId).toBe('tx-1');
      expect([dropped, scripted.submissions, resent]).toEqual([dropped, 2, ['unanswered']]);

      const gone = new ScriptedNetwork();
      gone.unreachableSubmits = 1000;
      gone.unreachableCause = dropped;
      const impatient = new ContractClient(gone.asNetwork(), 'gigledger', { orderingRetryMs: 300 });
      const failure = await impatient.submit(setParameter, request).catch((error: unknown) => error);
      expect([dropped, failure instanceof CommitStatusUnknownError]).toEqual([dropped, true]);
    }
    // Never reached the peer, or the peer found no orderer that took it: not ordered.
    for (const notSent of [
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7051',
      'no orderers could successfully process transaction',
      'no orderer nodes available',
    ]) {
      const gone = new ScriptedNetwork();
      gone.unreachableSubmits = 1000;
      gone.unreachableCause = notSent;
      const resent: string[] = [];
      const impatient = new ContractClient(gone.asNetwork(), 'gigledger', {
        orderingRetryMs: 300,
        onResubmit: (_transactionId, reason) => resent.push(reason),
      });
      const failure = await impatient.submit(setParameter, request).catch((error: unknown) => error);
      expect([notSent, failure instanceof SubmissionError, [...new Set(resent)]]).toEqual([
        notSent,
        true,
        ['unreachable'],
      ]);
    }
  });

  it('offers again a hand-over that waited unsent for a gateway slot, and says it was not ordered if it never left', async () => {
    const unsent = 'waited 10000 ms for a free slot to call /gateway.Gateway/Submit';
    const scripted = new ScriptedNetwork();
    scripted.unreachableSubmits = 1;
    scripted.unreachableCode = grpcStatus.DEADLINE_EXCEEDED;
    scripted.unreachableCause = unsent;
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    expect((await client.submit(setParameter, request)).transactionId).toBe('tx-1');
    expect([scripted.proposals.length, scripted.submissions]).toEqual([1, 2]);

    // Never sent, so never ordered: not an outcome to find out later (504) but a busy answer.
    const busy = new ScriptedNetwork();
    busy.unreachableSubmits = 1000;
    busy.unreachableCode = grpcStatus.DEADLINE_EXCEEDED;
    busy.unreachableCause = unsent;
    const impatient = new ContractClient(busy.asNetwork(), 'gigledger', { orderingRetryMs: 300 });
    const failure = await impatient.submit(setParameter, request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PeersBusyError);
    expect(failure).not.toBeInstanceOf(CommitStatusUnknownError);
    expect(failure).toMatchObject({ transactionId: 'tx-1' });
    expect(busy.proposals).toHaveLength(1);
  });

  it('joins a request sent again under the same request id while the first is under way', async () => {
    const scripted = new ScriptedNetwork();
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const once = { ...request, requestId: 'set-max-revisions-1' };

    const [first, second, third] = await Promise.all([
      client.submit(setParameter, once),
      client.submit(setParameter, { ...once }),
      // The same request built in another key order, as REST and GraphQL may build it.
      client.submit(setParameter, { requestId: once.requestId, value: once.value, name: once.name }),
    ]);

    expect([scripted.proposals.length, scripted.submissions]).toEqual([1, 1]);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    // Once it has settled, the same request is sent again (the chaincode answers it from storage).
    await client.submit(setParameter, once);
    expect(scripted.proposals).toHaveLength(2);
  });

  it('sends each of: requests without an id, another id, other private inputs, other endorsers', async () => {
    const scripted = new ScriptedNetwork();
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const once = { ...request, requestId: 'set-max-revisions-1' };
    await Promise.all([
      client.submit(setParameter, request),
      client.submit(setParameter, request),
      client.submit(setParameter, once),
      client.submit(setParameter, { ...once, requestId: 'set-max-revisions-2' }),
      client.submit(setParameter, once, { transient: { terms: 'a' } }),
      client.submit(setParameter, once, { transient: { terms: 'b' } }),
      client.submit(setParameter, once, { endorsingOrganizations: ['ClientOrgMSP'] }),
    ]);
    expect(scripted.proposals).toHaveLength(7);
  });

  it('sends another request under an id in use only once the one under way has settled', async () => {
    // Sent at once, the second would be ordered and invalidated; sent after, the chaincode
    // refuses it at endorsement (REQUEST_ID_REUSED), or lets it act if the first was refused.
    const scripted = new ScriptedNetwork();
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const once = { ...request, requestId: 'set-max-revisions-1' };
    const other = { ...once, value: 4 };
    const anotherTransaction = { ...setParameter, name: 'setParameterAgain' as const };

    await Promise.all([
      client.submit(setParameter, once),
      client.submit(setParameter, other),
      client.submit(setParameter, { ...other }),
      client.submit(setParameter, once, { transient: { terms: 'a' } }),
      // Another transaction keeps its own ids: sent at once.
      client.submit(anotherTransaction, once),
    ]);

    expect(scripted.timeline).toEqual([
      'proposed tx-1',
      'proposed tx-2',
      'status tx-1',
      'status tx-2',
      'proposed tx-3',
      'status tx-3',
      'proposed tx-4',
      'status tx-4',
    ]);
    expect(scripted.proposals.map((proposal) => proposal.name)).toEqual([
      setParameter.name,
      anotherTransaction.name,
      setParameter.name,
      setParameter.name,
    ]);

    const refusedFirst = new ScriptedNetwork();
    refusedFirst.endorseFailures = [endorseError(['chaincode response 500, FORBIDDEN: only governors set parameters'])];
    const retrying = new ContractClient(refusedFirst.asNetwork(), 'gigledger');
    const answers = await Promise.allSettled([
      retrying.submit(setParameter, once),
      retrying.submit(setParameter, other),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'fulfilled']);
    expect(refusedFirst.timeline).toEqual(['proposed tx-1', 'proposed tx-2', 'status tx-2']);
  });

  it('takes its turn with a request id from claims shared with other processes, and ends it once settled', async () => {
    // Two processes sending as one caller: two clients on one set of claims taken in turn.
    const scripted = new ScriptedNetwork();
    const turns = new Map<string, Promise<void>>();
    const claimed: string[] = [];
    const claims: RequestClaims = {
      async claim(key) {
        claimed.push(key);
        const before = turns.get(key) ?? Promise.resolve();
        let end = () => {};
        turns.set(key, new Promise<void>((resolve) => (end = resolve)));
        await before;
        scripted.timeline.push('turn');
        return () => {
          scripted.timeline.push('turn over');
          end();
        };
      },
    };
    const first = new ContractClient(scripted.asNetwork(), 'gigledger', { requestClaims: claims });
    const second = new ContractClient(scripted.asNetwork(), 'gigledger', { requestClaims: claims });
    const once = { ...request, requestId: 'set-max-revisions-1' };

    await Promise.all([
      first.submit(setParameter, once),
      first.submit(setParameter, once),
      second.submit(setParameter, once),
    ]);

    // The first process's two copies join into one turn; the second sends after it.
    expect(scripted.timeline).toEqual([
      'turn',
      'proposed tx-1',
      'status tx-1',
      'turn over',
      'turn',
      'proposed tx-2',
      'status tx-2',
      'turn over',
    ]);
    expect(claimed).toEqual([
      JSON.stringify([setParameter.name, once.requestId]),
      JSON.stringify([setParameter.name, once.requestId]),
    ]);

    // A request without an id takes no turn; a refusal ends its turn; a claim that fails sends unclaimed.
    await first.submit(setParameter, request);
    expect(claimed).toHaveLength(2);
    scripted.endorseFailures = [endorseError(['chaincode response 500, FORBIDDEN: only governors set parameters'])];
    await expect(first.submit(setParameter, { ...once, requestId: 'set-max-revisions-2' })).rejects.toThrow();
    expect(scripted.timeline.slice(-3)).toEqual(['turn', 'proposed tx-4', 'turn over']);
    const unreachable = new ContractClient(scripted.asNetwork(), 'gigledger', {
      requestClaims: { claim: () => Promise.reject(new Error('the cluster primary went away before it answered')) },
    });
    expect((await unreachable.submit(setParameter, { ...once, requestId: 'set-max-revisions-3' })).transactionId).toBe(
      'tx-5',
    );
  });

  it('keys the claims of each caller apart, as the chaincode keeps request ids per client identity', async () => {
    const keys: string[] = [];
    const claims: RequestClaims = {
      claim: (key) => {
        keys.push(key);
        return Promise.resolve(() => {});
      },
    };
    const alice = { mspId: 'ClientOrgMSP', certificatePem: 'alice', privateKeyPem: '' };
    const bob = { mspId: 'ClientOrgMSP', certificatePem: 'bob', privateKeyPem: '' };
    for (const identity of [alice, alice, bob, { ...bob, mspId: 'TalentOrgMSP' }]) {
      await callerRequestClaims(claims, identity).claim('k');
    }
    expect(keys[0]).toBe(keys[1]);
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((key) => key.endsWith(' k'))).toBe(true);
  });

  it('gives every joined caller the first one’s error', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorseFailure = endorseError(['chaincode response 500, FORBIDDEN: only governors set parameters']);
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const once = { ...request, requestId: 'set-max-revisions-1' };
    const answers = await Promise.allSettled([client.submit(setParameter, once), client.submit(setParameter, once)]);
    expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'rejected']);
    expect(scripted.proposals).toHaveLength(1);
  });

  it('answers a repeated request as the transaction that acted, ordering nothing', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorsed = { event: { name: 'request.Replayed', payload: { txId: 'tx-acted' } } };
    const looked: string[] = [];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
      ledgerBlocks: {
        blockNumberOf: (transactionId) => {
          looked.push(transactionId);
          return Promise.resolve(41n);
        },
      },
    });

    const answered = await client.submit(setParameter, request);

    expect(answered).toMatchObject({ transactionId: 'tx-acted', blockNumber: 41n, result: { value: 3 } });
    expect([scripted.proposals.length, scripted.submissions, scripted.statusAsks, looked]).toEqual([
      1,
      0,
      [],
      ['tx-acted'],
    ]);
  });

  it('orders a repeat as before when the block of the transaction that acted cannot be found, or nothing looks blocks up', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorsed = { event: { name: 'request.Replayed', payload: { txId: 'tx-acted' } } };
    const lagging = new ContractClient(scripted.asNetwork(), 'gigledger', {
      ledgerBlocks: { blockNumberOf: () => Promise.reject(new Error('no such transaction ID [tx-acted]')) },
    });
    expect(await lagging.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1', blockNumber: 7n });
    expect(scripted.submissions).toBe(1);

    const unconfigured = new ContractClient(scripted.asNetwork(), 'gigledger');
    expect(await unconfigured.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-2' });
    expect(scripted.submissions).toBe(2);
  });

  it('orders every transaction that is no replay, with block look-ups configured', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorsed = { event: { name: 'request.Replayed', payload: { txId: 'tx-0' } }, writes: ['parameter/x'] };
    const blocks = { blockNumberOf: () => Promise.reject(new Error('not asked')) };
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', { ledgerBlocks: blocks });
    expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1' });
    scripted.endorsed = {};
    expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-2' });
    expect(scripted.submissions).toBe(2);
  });

  it('endorses again after ENDORSEMENT_POLICY_FAILURE, as when the same request was ordered twice in one block', async () => {
    // The first copy created the key and its key-level policy; the second was endorsed before.
    const scripted = new ScriptedNetwork();
    scripted.statusAnswers = [endorsementPolicyFailure, valid];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    expect((await client.submit(setParameter, request)).transactionId).toBe('tx-2');

    // Endorsers the caller named are its choice: a policy they do not meet is not retried.
    const oneSided = new ScriptedNetwork();
    oneSided.statusAnswers = [endorsementPolicyFailure, valid];
    const chosen = new ContractClient(oneSided.asNetwork(), 'gigledger');
    await expect(
      chosen.submit(setParameter, request, { endorsingOrganizations: ['ClientOrgMSP'] }),
    ).rejects.toMatchObject({ validationCode: 'ENDORSEMENT_POLICY_FAILURE' });
    expect(oneSided.proposals).toHaveLength(1);
  });

  it('endorses again with a new transaction id after an MVCC conflict', async () => {
    const scripted = new ScriptedNetwork();
    scripted.statusAnswers = [{ successful: false, code: 11, blockNumber: 5n }, valid];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const submitted = await client.submit(setParameter, { name: 'maxRevisions', value: 3 });
    expect(submitted.transactionId).toBe('tx-2');
    expect(scripted.proposals.map((proposal) => proposal.transactionId)).toEqual(['tx-1', 'tx-2']);
  });

  it('gives up on conflicts after the allowed retries, naming the validation code', async () => {
    const scripted = new ScriptedNetwork();
    scripted.statusAnswers = [1, 2, 3, 4, 5].map(() => ({ successful: false, code: 11, blockNumber: 5n }));
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', { clock: new FakeClock() });
    await expect(client.submit(setParameter, { name: 'maxRevisions', value: 3 })).rejects.toThrow(CommitFailedError);
    expect(scripted.proposals).toHaveLength(5);
  });

  it('waits a random time before endorsing a conflicted command again, up to a bound that doubles each attempt', async () => {
    const scripted = new ScriptedNetwork();
    const sleeps: number[][] = [];
    const clock = new FakeClock();
    let current: number[] = [];
    const recording: Clock = {
      now: () => clock.now(),
      sleep: (ms) => {
        current.push(ms);
        return clock.sleep(ms);
      },
    };
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', { clock: recording });
    for (let run = 0; run < 40; run += 1) {
      current = [];
      scripted.statusAnswers = [mvccReadConflict, phantomReadConflict, mvccReadConflict, valid];
      await client.submit(setParameter, request);
      sleeps.push(current);
    }
    for (const [attempt, bound] of [100, 200, 400].entries()) {
      const waits = sleeps.map((run) => run[attempt] ?? -1);
      expect(waits.every((ms) => ms >= 0 && ms < bound)).toBe(true);
      // Drawn, not fixed: 40 draws below half the bound, or all alike, would be chance of about 1 in 10^12.
      expect(Math.max(...waits)).toBeGreaterThan(bound / 2);
      expect(new Set(waits).size).toBeGreaterThan(1);
    }
    // The bound is an option; 0 endorses again at once.
    current = [];
    scripted.statusAnswers = [mvccReadConflict, valid];
    const immediate = new ContractClient(scripted.asNetwork(), 'gigledger', { clock: recording, conflictBackoffMs: 0 });
    await immediate.submit(setParameter, request);
    expect(current).toEqual([0]);
  });

  it('endorses again with a new transaction id when the endorsing peers answered differently, and gives up after the retries', async () => {
    // As a gateway peer reports an endorser that had not yet committed the block the first one read.
    const mismatch = () =>
      endorseError(['ProposalResponsePayloads do not match', 'ProposalResponsePayloads do not match']);
    const scripted = new ScriptedNetwork();
    scripted.endorseFailures = [mismatch()];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const submitted = await client.submit(setParameter, request);
    expect(submitted.transactionId).toBe('tx-2');
    expect(scripted.submissions).toBe(1);

    const stubborn = new ScriptedNetwork();
    stubborn.endorseFailure = mismatch();
    const failure = await new ContractClient(stubborn.asNetwork(), 'gigledger')
      .submit(setParameter, request)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EndorsementError);
    expect(stubborn.proposals).toHaveLength(5);
    expect(stubborn.submissions).toBe(0);
  });

  it('does not endorse again when a peer is unreachable rather than in disagreement', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorseFailure = endorseError(['failed to connect to 127.0.0.1:7051']);
    const failure = await new ContractClient(scripted.asNetwork(), 'gigledger')
      .submit(setParameter, request)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EndorsementError);
    expect(scripted.proposals).toHaveLength(1);
  });

  it('turns a refusal in the endorsement details into a RefusedError with its code and field', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorseFailure = endorseError([
      'chaincode response 500, INVALID_STATE[milestoneId]: milestone m1 of agreement A-1 is funded, not submitted',
    ]);
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const refusal = await client
      .submit(setParameter, { name: 'maxRevisions', value: 3 })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RefusedError);
    expect(refusal).toMatchObject({ code: 'INVALID_STATE', field: 'milestoneId', transactionId: 'tx-1' });
    expect(scripted.submissions).toBe(0);
  });

  it('endorses a refused command again when a peer was behind as it was sent or is now, waiting for the refusing peer even if lagging, until it has caught up, and lets the refusal stand otherwise', async () => {
    // As after an orderer restart: the client's peer has the block that funded the milestone, the freelancer's not yet.
    const stale = () =>
      endorseError([
        'chaincode response 500, INVALID_STATE[milestoneId]: milestone m1 of agreement A-1 is funding, not funded',
      ]);
    /**
     * `behind` answers in turn: as the proposal is sent, then as its refusal arrives;
     * `lacks` in turn whether the refusing peer, asked itself, lacks the newest block a
     * command was answered in.
     */
    const heights = (behind: readonly boolean[], catchesUp: boolean, lacks: readonly boolean[] = [false]) => {
      const waits: [number, unknown][] = [];
      let asked = 0;
      let askedLacks = 0;
      const fake = {
        behind: () => behind[Math.min((asked += 1) - 1, behind.length - 1)],
        lacksAnsweredBlock: () => Promise.resolve(lacks[Math.min((askedLacks += 1) - 1, lacks.length - 1)]),
        noteAnswered: () => undefined,
        waitForEvenHeights: (timeoutMs: number, options: unknown) => {
          waits.push([timeoutMs, options]);
          return Promise.resolve(catchesUp);
        },
        waitForBlock: () => Promise.resolve(true),
      };
      return { waits, peerHeights: fake as unknown as PeerHeights };
    };
    // The refusing peer (ClientOrg's, named in the refusal's details) is waited for even if lagging.
    const waitedForAll = [[5000, { includeLagging: ['ClientOrgMSP'] }]];

    // Behind as it was sent, caught up (or lagging and not waited for) when refused, or behind at both.
    for (const behind of [
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const lagging = new ScriptedNetwork();
      lagging.endorseFailures = [stale()];
      const caughtUp = heights(behind, true);
      const client = new ContractClient(lagging.asNetwork(), 'gigledger', { peerHeights: caughtUp.peerHeights });
      expect((await client.submit(setParameter, request)).transactionId).toBe('tx-2');
      expect([behind, lagging.proposals.length, lagging.submissions, caughtUp.waits]).toEqual([
        behind,
        2,
        1,
        waitedForAll,
      ]);
    }

    // The wait timed out on the block streams (a busy process reads them late) while the peer caught up: endorsed again.
    const lateStreams = new ScriptedNetwork();
    lateStreams.endorseFailures = [stale()];
    const timedOut = heights([true, true], false);
    const answered = await new ContractClient(lateStreams.asNetwork(), 'gigledger', {
      peerHeights: timedOut.peerHeights,
    }).submit(setParameter, request);
    expect([answered.transactionId, lateStreams.proposals.length, timedOut.waits]).toEqual(['tx-2', 2, waitedForAll]);

    // Every peer level as this process's block streams tell, but the refusing peer, asked,
    // lacks the block the previous command was answered in (the streams are late alike on a
    // saturated host): endorsed again once it has caught up.
    const lateAlike = new ScriptedNetwork();
    lateAlike.endorseFailures = [stale()];
    const askedItself = heights([false, false], true, [true, false]);
    const afterAsking = await new ContractClient(lateAlike.asNetwork(), 'gigledger', {
      peerHeights: askedItself.peerHeights,
    }).submit(setParameter, request);
    expect([afterAsking.transactionId, lateAlike.proposals.length, askedItself.waits]).toEqual([
      'tx-2',
      2,
      waitedForAll,
    ]);

    // Behind for three waits, as at 1,024 commands in flight on two cores: answered after the third.
    const saturated = new ScriptedNetwork();
    saturated.endorseFailures = [stale(), stale(), stale()];
    const trailing = heights([true, true], false);
    const committed = await new ContractClient(saturated.asNetwork(), 'gigledger', {
      peerHeights: trailing.peerHeights,
    }).submit(setParameter, request);
    expect([committed.transactionId, saturated.proposals.length, saturated.submissions, trailing.waits.length]).toEqual(
      ['tx-4', 4, 1, 3],
    );

    // Level peers: the refusal stands at once. A refusing peer that caught up in the wait
    // refuses again, and that stands. One still behind after each wait (a saturated host)
    // is waited for again, six waits in all by default, and then its refusal stands.
    for (const [behind, catchesUp, proposals, waited] of [
      [[false, false], true, 1, []],
      [[true, true], true, 2, waitedForAll],
      [[true, true], false, 7, Array.from({ length: 6 }, () => waitedForAll[0])],
      [[true, false], false, 7, Array.from({ length: 6 }, () => waitedForAll[0])],
    ] as const) {
      const scripted = new ScriptedNetwork();
      scripted.endorseFailure = stale();
      const watched = heights(behind, catchesUp);
      const refusal = await new ContractClient(scripted.asNetwork(), 'gigledger', { peerHeights: watched.peerHeights })
        .submit(setParameter, request)
        .catch((error: unknown) => error);
      expect(refusal).toMatchObject({ code: 'INVALID_STATE', field: 'milestoneId' });
      expect([scripted.proposals.length, scripted.submissions, watched.waits]).toEqual([proposals, 0, waited]);
    }
  });

  it('reads a record again while the peer that answered NOT_FOUND was behind, and lets the answer stand otherwise', async () => {
    // As after a peer hang: the other organisation's peer has the block that wrote the record, this one not yet.
    const notYet = () =>
      new GatewayError({
        code: grpcStatus.UNKNOWN,
        details: [
          {
            address: '127.0.0.1:9051',
            mspId: 'TalentOrgMSP',
            message: 'chaincode response 500, NOT_FOUND[name]: consortium parameter maxRevisions has not been set',
          },
        ],
        cause: serviceError(grpcStatus.UNKNOWN, 'evaluate call to endorser returned error'),
      });
    const heights = (behind: boolean, catchesUp = true) => {
      const waits: [number, unknown][] = [];
      const fake = {
        behind: () => behind,
        lacksAnsweredBlock: () => Promise.resolve(false),
        waitForEvenHeights: (timeoutMs: number, options: unknown) => {
          waits.push([timeoutMs, options]);
          return Promise.resolve(catchesUp);
        },
      };
      return { waits, peerHeights: fake as unknown as PeerHeights };
    };
    const waitedForTalent = [5000, { includeLagging: ['TalentOrgMSP'] }];
    const lagging = new ScriptedNetwork();
    lagging.evaluateFailures = [notYet()];
    const behind = heights(true);
    const read = await new ContractClient(lagging.asNetwork(), 'gigledger', {
      peerHeights: behind.peerHeights,
    }).evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' });
    // The wait is for the peer that refused, as a command's is.
    expect([read.name, lagging.evaluations.length, behind.waits]).toEqual(['maxRevisions', 2, [waitedForTalent]]);
    // Behind for three waits, as on a saturated host: answered after the third.
    const trailing = new ScriptedNetwork();
    trailing.evaluateFailures = [notYet(), notYet(), notYet()];
    const slow = heights(true, false);
    const readLate = await new ContractClient(trailing.asNetwork(), 'gigledger', {
      peerHeights: slow.peerHeights,
    }).evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' });
    expect([readLate.name, trailing.evaluations.length, slow.waits.length]).toEqual(['maxRevisions', 4, 3]);
    // Never catching up: six waits, then the NOT_FOUND stands.
    const never = new ScriptedNetwork();
    never.evaluateFailure = notYet();
    const stalled = heights(true, false);
    const gaveUp = await new ContractClient(never.asNetwork(), 'gigledger', { peerHeights: stalled.peerHeights })
      .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
      .catch((error: unknown) => error);
    expect([(gaveUp as RefusedError).code, never.evaluations.length, stalled.waits.length]).toEqual([
      'NOT_FOUND',
      7,
      6,
    ]);
    // Level peers: a NOT_FOUND is the answer, at once; another refusal is never asked again.
    for (const failure of [notYet(), endorseError(['chaincode response 500, FORBIDDEN: only admin may read this'])]) {
      const level = new ScriptedNetwork();
      level.evaluateFailure = failure;
      const watched = heights(failure instanceof EndorseError);
      const refusal = await new ContractClient(level.asNetwork(), 'gigledger', { peerHeights: watched.peerHeights })
        .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RefusedError);
      expect([level.evaluations.length, watched.waits]).toEqual([1, []]);
    }
    // Behind, and caught up in the wait: the second NOT_FOUND stands (the peer had the state).
    const stuck = new ScriptedNetwork();
    stuck.evaluateFailure = notYet();
    const stillBehind = heights(true);
    const refused = await new ContractClient(stuck.asNetwork(), 'gigledger', { peerHeights: stillBehind.peerHeights })
      .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
      .catch((error: unknown) => error);
    expect([(refused as RefusedError).code, stuck.evaluations.length]).toEqual(['NOT_FOUND', 2]);
  });

  it("answers the peers' refusal of a removed organisation's identity as NotMemberError, endorsing and evaluating alike", async () => {
    // What the peers of the organisations that stay answered after network:remove-org.
    const messages = [
      'access denied: channel [gigledger] creator org unknown, creator is malformed',
      'access denied: channel [gigledger] creator org [LabelOrgMSP]',
    ];
    for (const message of messages) {
      const scripted = new ScriptedNetwork();
      scripted.endorseFailure = endorseError([message]);
      const submitted = await new ContractClient(scripted.asNetwork(), 'gigledger')
        .submit(setParameter, request)
        .catch((error: unknown) => error);
      expect(submitted).toBeInstanceOf(NotMemberError);
      expect(submitted).toMatchObject({ transactionId: 'tx-1' });
      expect(scripted.proposals).toHaveLength(1);
      expect(scripted.submissions).toBe(0);

      scripted.evaluateFailure = new GatewayError({
        code: grpcStatus.ABORTED,
        details: [{ address: '127.0.0.1:7051', mspId: 'ClientOrgMSP', message }],
        cause: serviceError(grpcStatus.ABORTED, 'evaluate call to endorser returned error'),
      });
      const evaluated = await new ContractClient(scripted.asNetwork(), 'gigledger')
        .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
        .catch((error: unknown) => error);
      expect(evaluated).toBeInstanceOf(NotMemberError);
    }
  });

  it("sends a draft's confidential terms only to the terms collection's member organisations", async () => {
    const scripted = new ScriptedNetwork();
    scripted.result = new TextEncoder().encode('{}');
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
      collectionMembers: { agreementTerms: ['ClientOrgMSP', 'TalentOrgMSP'] },
    });
    // The result does not parse as agreement details; only the proposal matters here.
    await client
      .submit(
        agreementTransactions.draftAgreement,
        {
          requestId: 'req-00000001',
          agreementId: 'A-1',
          title: 'T',
          client: { mspId: 'ClientOrgMSP', userId: 'carol' },
          freelancer: { mspId: 'TalentOrgMSP', userId: 'tara' },
          milestones: [
            {
              kind: 'deliverable',
              milestoneId: 'm1',
              title: 'M',
              amount: '100',
              currency: 'EUR',
              dueDate: '2030-01-01T00:00:00.000Z',
              acceptanceCriteria: { description: 'd' },
            },
          ],
        },
        { transient: { terms: { scope: 'secret' } } },
      )
      .catch(() => undefined);
    expect(scripted.proposals[0]?.options.endorsingOrganizations).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
  });

  it('refuses to send private data when the collection members are unknown, before anything leaves', async () => {
    const scripted = new ScriptedNetwork();
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    await expect(
      client.submit(agreementTransactions.draftAgreement, {} as never, { transient: { terms: { scope: 's' } } }),
    ).rejects.toThrow(/no members are known for collection agreementTerms/);
    expect(scripted.proposals).toHaveLength(0);
  });
  describe('commit status', () => {
    /** A client on a fake clock that records every re-send and why. */
    function clientOn(
      scripted: ScriptedNetwork,
      options: { lastBlockAt?: () => number; commitLatencies?: CommitLatencies } = {},
    ) {
      const clock = new FakeClock();
      scripted.clock = clock;
      const resent: [string, ResubmitReason][] = [];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
        clock,
        commitStatusPollMs: 4000,
        ...(options.lastBlockAt === undefined ? {} : { blockProgress: { lastBlockAt: options.lastBlockAt } }),
        ...(options.commitLatencies === undefined ? {} : { commitLatencies: options.commitLatencies }),
        onResubmit: (transactionId, reason) => resent.push([transactionId, reason]),
      });
      return { client, clock, resent };
    }

    /** A watch of the gateway peer's block stream that answers as scripted, recording which transactions were watched and stopped. */
    function scriptedWatch(answer: (transactionId: string) => Promise<CommitSeen | undefined>) {
      const watched: string[] = [];
      const stopped: string[] = [];
      const watchCommit = (transactionId: string): CommitWatch => {
        watched.push(transactionId);
        return { seen: answer(transactionId), stop: () => stopped.push(transactionId) };
      };
      return { watched, stopped, watchCommit };
    }

    it('takes the commit from the gateway peer block stream without asking for its status', async () => {
      const scripted = new ScriptedNetwork();
      const stream = scriptedWatch(() => Promise.resolve({ successful: true, code: 0, blockNumber: 21n }));
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', { watchCommit: stream.watchCommit });
      expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1', blockNumber: 21n });
      expect(scripted.statusAsks).toEqual([]);
      expect(stream.watched).toEqual(['tx-1']);
      expect(stream.stopped).toEqual(['tx-1']);
    });

    it('endorses again with a new id after a read conflict seen on the stream, watching the new one', async () => {
      const scripted = new ScriptedNetwork();
      const stream = scriptedWatch((transactionId) =>
        Promise.resolve(
          transactionId === 'tx-1'
            ? { successful: false, code: 11, blockNumber: 21n }
            : { successful: true, code: 0, blockNumber: 22n },
        ),
      );
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', { watchCommit: stream.watchCommit });
      expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-2', blockNumber: 22n });
      expect(stream.watched).toEqual(['tx-1', 'tx-2']);
      expect(scripted.statusAsks).toEqual([]);
    });

    it('asks for the status at once when the stream cannot tell (it broke, or saw only a duplicate)', async () => {
      const scripted = new ScriptedNetwork();
      const clock = new FakeClock();
      const resent: ResubmitReason[] = [];
      const stream = scriptedWatch(() => Promise.resolve(undefined));
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
        clock,
        commitStatusPollMs: 4000,
        onResubmit: (_transactionId, reason) => resent.push(reason),
        watchCommit: stream.watchCommit,
      });
      expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1', blockNumber: 7n });
      expect(scripted.statusAsks).toEqual(['tx-1']);
      expect(resent).toEqual([]);
    });

    it('after a poll interval with nothing on the stream, judges the wait as a timed-out status request would, then asks', async () => {
      // The ordering service stopped cutting blocks: the copy goes out after the first interval, as without a stream.
      const scripted = new ScriptedNetwork();
      const clock = new FakeClock();
      scripted.clock = clock;
      const resent: [string, ResubmitReason][] = [];
      const quietSince = clock.now();
      const stream = scriptedWatch(() => new Promise<CommitSeen | undefined>(() => undefined));
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
        clock,
        commitStatusPollMs: 4000,
        blockProgress: { lastBlockAt: () => quietSince },
        onResubmit: (transactionId, reason) => resent.push([transactionId, reason]),
        watchCommit: stream.watchCommit,
      });
      scripted.statusAnswers = [valid];
      expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1', blockNumber: 9n });
      expect(resent).toEqual([['tx-1', 'stalled']]);
      expect(scripted.submissions).toBe(2);
      expect(scripted.statusAsks).toEqual(['tx-1']);
      expect(stream.stopped).toEqual(['tx-1']);
    });

    it('waits out a slow commit while blocks keep coming, sending no copy to land as DUPLICATE_TXID', async () => {
      // Commits take 10 s on a busy machine; blocks keep being committed meanwhile.
      const latencies = new CommitLatencies();
      for (let index = 0; index < 50; index += 1) latencies.record(10_000);
      let copies = 0;
      for (let index = 0; index < 20; index += 1) {
        const scripted = new ScriptedNetwork();
        const { client, clock, resent } = clientOn(scripted, {
          lastBlockAt: () => clock.now() - 500,
          commitLatencies: latencies,
        });
        // Five polls of 4 s without a status (20 s, twice the usual latency), then the commit.
        scripted.statusAnswers = ['timeout', 'timeout', 'timeout', 'timeout', 'timeout', valid];
        expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1', blockNumber: 9n });
        copies += scripted.submissions - 1;
        expect(resent).toEqual([]);
      }
      // Each copy past the first of a transaction that was not lost is a DUPLICATE_TXID on every peer.
      expect(copies).toBe(0);
    });

    it('sends the same signed transaction again once no peer has committed a block for a while, and returns once it commits', async () => {
      // An orderer that took the transaction died: the channel goes quiet until Raft elects a new leader.
      const scripted = new ScriptedNetwork();
      const quietSince = 1_000_000;
      const { client, resent } = clientOn(scripted, { lastBlockAt: () => quietSince });
      scripted.statusAnswers = ['timeout', valid];
      const submitted = await client.submit(setParameter, request);
      expect(submitted).toMatchObject({ transactionId: 'tx-1', blockNumber: 9n });
      // One proposal, one transaction id: the copy is the same transaction, never a new one.
      expect(scripted.proposals).toHaveLength(1);
      expect(scripted.submissions).toBe(2);
      expect(resent).toEqual([['tx-1', 'stalled']]);
    });

    it('keeps offering the copy while the quiet channel has no orderer to take it, then waits for the commit', async () => {
      const scripted = new ScriptedNetwork();
      const { client, resent } = clientOn(scripted, { lastBlockAt: () => 1_000_000 });
      // The first submit is taken; the next two copies find no Raft leader yet; the third is taken.
      scripted.unreachableSubmitNumbers = new Set([2, 3]);
      scripted.statusAnswers = ['timeout', 'timeout', 'timeout', valid];
      expect(await client.submit(setParameter, request)).toMatchObject({ transactionId: 'tx-1' });
      expect(scripted.submissions).toBe(4);
      // Only the copy an orderer took is told as sent again.
      expect(resent).toEqual([['tx-1', 'stalled']]);
      expect(new Set(scripted.statusAsks)).toEqual(new Set(['tx-1']));
    });

    it('sends a copy when the status is overdue although blocks keep coming, judged against recent latencies', async () => {
      // Blocks keep coming (other traffic) but this transaction was lost: a copy after three times the p99.
      const latencies = new CommitLatencies();
      for (let index = 0; index < 50; index += 1) latencies.record(5_000);
      const scripted = new ScriptedNetwork();
      const { client, clock, resent } = clientOn(scripted, {
        lastBlockAt: () => clock.now() - 100,
        commitLatencies: latencies,
      });
      const sentAt = clock.now();
      scripted.statusAnswers = ['timeout', 'timeout', 'timeout', 'timeout', valid];
      await client.submit(setParameter, request);
      // Polls end at 4, 8, 12 and 16 s: the first past 15 s (3 × 5 s) sends the copy.
      expect(resent).toEqual([['tx-1', 'overdue']]);
      expect(clock.now() - sentAt).toBe(16_000);
    });

    it('without block progress, sends a copy only when the wait is overdue (12 s at least)', async () => {
      const scripted = new ScriptedNetwork();
      const { client, clock, resent } = clientOn(scripted);
      const sentAt = clock.now();
      scripted.statusAnswers = ['timeout', 'timeout', 'timeout', valid];
      await client.submit(setParameter, request);
      expect(resent).toEqual([['tx-1', 'overdue']]);
      expect(clock.now() - sentAt).toBe(12_000);
      expect(scripted.submissions).toBe(2);
    });

    it('asks again with the same transaction id after a failed status request, without sending or endorsing again', async () => {
      const scripted = new ScriptedNetwork();
      scripted.statusAnswers = ['unavailable', 'unavailable', valid];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const submitted = await client.submit(setParameter, request);
      expect(submitted).toMatchObject({ transactionId: 'tx-1', blockNumber: 9n });
      expect(scripted.statusAsks).toEqual(['tx-1', 'tx-1', 'tx-1']);
      expect([scripted.proposals.length, scripted.submissions]).toEqual([1, 1]);
    });

    it('gives up with CommitStatusUnknownError naming the transaction, never resubmitting it as a new one', async () => {
      const scripted = new ScriptedNetwork();
      scripted.lastStatusAnswer = 'timeout';
      const clock = new FakeClock();
      scripted.clock = clock;
      const started = clock.now();
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
        clock,
        blockProgress: { lastBlockAt: () => started },
        commitStatusTotalMs: 60_000,
      });
      const failure = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CommitStatusUnknownError);
      expect(failure).toMatchObject({ transactionId: 'tx-1' });
      expect(clock.now() - started).toBe(60_000);
      expect(scripted.proposals).toHaveLength(1);
      expect(new Set(scripted.statusAsks)).toEqual(new Set(['tx-1']));
      // A quiet channel: one copy per 4 s of quiet after the last one, the same transaction each time.
      expect(scripted.submissions).toBe(15);
    });
  });

  describe('invalidated transactions', () => {
    it('endorses again with a new transaction id after a phantom read conflict', async () => {
      const scripted = new ScriptedNetwork();
      scripted.statusAnswers = [phantomReadConflict, mvccReadConflict, valid];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      expect((await client.submit(setParameter, request)).transactionId).toBe('tx-3');
      expect(scripted.proposals.map((proposal) => proposal.transactionId)).toEqual(['tx-1', 'tx-2', 'tx-3']);
      expect(scripted.statusAsks).toEqual(['tx-1', 'tx-2', 'tx-3']);
    });

    it('does not resubmit a transaction invalidated for any other reason, and names the code', async () => {
      const scripted = new ScriptedNetwork();
      scripted.statusAnswers = [badCreatorSignature];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const failure = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CommitFailedError);
      expect(failure).toMatchObject({ validationCode: 'BAD_CREATOR_SIGNATURE', transactionId: 'tx-1' });
      expect(scripted.proposals).toHaveLength(1);
    });

    it('resubmits conflicts only as often as conflictRetries allows', async () => {
      const scripted = new ScriptedNetwork();
      scripted.statusAnswers = [mvccReadConflict, valid];
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const failure = await client
        .submit(setParameter, request, { conflictRetries: 0 })
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ validationCode: 'MVCC_READ_CONFLICT', transactionId: 'tx-1' });
      expect(scripted.proposals).toHaveLength(1);
    });
  });

  describe('refusals and other endorsement failures', () => {
    it('finds the refusal in whichever peer detail carries it', async () => {
      const scripted = new ScriptedNetwork();
      scripted.endorseFailure = endorseError([
        'chaincode response 500, some peer-side failure',
        'chaincode response 500, FORBIDDEN: only role admin may set a parameter',
      ]);
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const refusal = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RefusedError);
      expect(refusal).toMatchObject({
        code: 'FORBIDDEN',
        kind: 'forbidden',
        field: undefined,
        refusal: 'only role admin may set a parameter',
        transactionId: 'tx-1',
      });
    });

    it('reports an endorsement failure without a refusal as EndorsementError with the transaction and each peer', async () => {
      const scripted = new ScriptedNetwork();
      scripted.endorseFailure = endorseError(['peer unreachable']);
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const failure = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EndorsementError);
      expect(failure).not.toBeInstanceOf(RefusedError);
      expect(failure).toMatchObject({ transactionId: 'tx-1', organisations: ['ClientOrgMSP'] });
      expect((failure as Error).message).toContain('127.0.0.1:7051: peer unreachable');
      expect(scripted.submissions).toBe(0);
    });

    it('names the organisations the gateway peer found no endorsing peer of (a peer killed), though its details name none', async () => {
      const scripted = new ScriptedNetwork();
      scripted.endorseFailure = new EndorseError({
        code: grpcStatus.UNAVAILABLE,
        details: [],
        cause: serviceError(
          grpcStatus.UNAVAILABLE,
          '14 UNAVAILABLE: failed to find any endorsing peers for org(s): TalentOrgMSP, AuditOrgMSP',
        ),
        transactionId: 'tx-1',
      });
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const failure = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EndorsementError);
      expect(failure).toMatchObject({ organisations: ['TalentOrgMSP', 'AuditOrgMSP'] });
    });

    it("names the gateway peer's organisation when a call never reached that peer (it was down)", async () => {
      const refused = (code: grpcStatus, message: string) =>
        new EndorseError({ code, details: [], cause: serviceError(code, message), transactionId: 'tx-1' });
      const scripted = new ScriptedNetwork();
      const client = new ContractClient(scripted.asNetwork(), 'gigledger', { gatewayMspId: 'TalentOrgMSP' });
      scripted.endorseFailure = refused(
        grpcStatus.UNAVAILABLE,
        'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:8051',
      );
      expect(await client.submit(setParameter, request).catch((error: unknown) => error)).toMatchObject({
        organisations: ['TalentOrgMSP'],
      });
      // A call that reached the peer and failed beyond it names no one it cannot tell.
      scripted.endorseFailure = refused(grpcStatus.UNAVAILABLE, 'Connection dropped');
      expect(await client.submit(setParameter, request).catch((error: unknown) => error)).toMatchObject({
        organisations: [],
      });
    });

    it('tells a query shed unsent at capacity (PeersBusyError) from one the peers failed', async () => {
      const scripted = new ScriptedNetwork();
      const details = 'waited 10000 ms for a free slot to call /gateway.Gateway/Evaluate';
      scripted.evaluateFailure = new GatewayError({
        code: grpcStatus.DEADLINE_EXCEEDED,
        details: [],
        cause: serviceError(grpcStatus.DEADLINE_EXCEEDED, details),
      });
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const shed = await client
        .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
        .catch((error: unknown) => error);
      expect(shed).toBeInstanceOf(PeersBusyError);
      scripted.evaluateFailure = new GatewayError({
        code: grpcStatus.DEADLINE_EXCEEDED,
        details: [],
        cause: serviceError(grpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'),
      });
      const failed = await client
        .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
        .catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(EvaluationError);
      expect(failed).not.toBeInstanceOf(PeersBusyError);
    });

    it('turns a refused query into a RefusedError with no transaction', async () => {
      const scripted = new ScriptedNetwork();
      scripted.evaluateFailure = new GatewayError({
        code: grpcStatus.ABORTED,
        details: [
          {
            address: '127.0.0.1:7051',
            mspId: 'ClientOrgMSP',
            message: 'chaincode response 500, NOT_FOUND[name]: no x',
          },
        ],
        cause: serviceError(grpcStatus.ABORTED, 'evaluate call to endorser returned error'),
      });
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const refusal = await client
        .evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RefusedError);
      expect(refusal).toMatchObject({ code: 'NOT_FOUND', field: 'name', transactionId: undefined });
    });
  });

  it('evaluates on a peer of the organisations asked for, and leaves the choice to the gateway otherwise', async () => {
    const scripted = new ScriptedNetwork();
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    await client.evaluate(
      parameterTransactions.getParameter,
      { name: 'maxRevisions' },
      { organizations: ['TalentOrgMSP'] },
    );
    await client.evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' });
    expect(scripted.evaluationOptions.map((options) => options.endorsingOrganizations)).toEqual([
      ['TalentOrgMSP'],
      undefined,
    ]);
  });

  it('asks the gateway call limit for one slot per 100 records a list evaluation may read, one for anything else', async () => {
    const scripted = new ScriptedNetwork();
    scripted.result = new TextEncoder().encode(JSON.stringify({ items: [], bookmark: '' }));
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    await client.evaluate(governanceTransactions.listProposals, { pageSize: 500 });
    await client.evaluate(governanceTransactions.listProposals, {});
    scripted.result = new TextEncoder().encode(
      JSON.stringify({ name: 'maxRevisions', value: 3, updatedAt: 'x', updatedBy: 'y', txId: 'z' }),
    );
    await client.evaluate(parameterTransactions.getParameter, { name: 'maxRevisions' });
    expect(
      scripted.evaluationCallOptions.map((options) => (options as Record<string, unknown>)[gatewayCallWeight]),
    ).toEqual([10, 2, 1]);
  });

  describe('requests and results', () => {
    it('refuses a request its spec does not accept before anything is sent, naming the field', async () => {
      const scripted = new ScriptedNetwork();
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const refusal = await client
        .submit(setParameter, { name: 'maxRevisions', value: 'three' } as never)
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RefusedError);
      expect(refusal).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((refusal as RefusedError).field).toBeDefined();
      expect(scripted.proposals).toHaveLength(0);
    });

    it('refuses a result its spec does not accept as ResultFormatError with the transaction id', async () => {
      const scripted = new ScriptedNetwork();
      scripted.result = new TextEncoder().encode('{"unexpected":true}');
      const client = new ContractClient(scripted.asNetwork(), 'gigledger');
      const failure = await client.submit(setParameter, request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ResultFormatError);
      expect(failure).toMatchObject({ transactionId: 'tx-1' });
    });
  });
});
