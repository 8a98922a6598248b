import { status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  GatewayError,
  type Network,
  type ProposalOptions,
} from '@hyperledger/fabric-gateway';
import { agreementTransactions, parameterTransactions } from '@gigledger/chaincode/model';
import { ContractClient } from './contract-client.js';
import { CommitFailedError, RefusedError, SubmissionError } from './errors.js';

/*
 * ContractClient against a stand-in for the few fabric-gateway calls it makes
 * (newProposal → endorse → submit → getStatus). The stand-in records what was asked
 * and answers from a script, so the client's decisions can be checked one by one; the
 * end-to-end suites prove the same paths on the real network.
 */

function serviceError(code: grpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

type StatusAnswer = { successful: boolean; code: number; blockNumber: bigint } | 'timeout';

class ScriptedNetwork {
  readonly proposals: { name: string; options: ProposalOptions; transactionId: string }[] = [];
  submissions = 0;
  statusAnswers: StatusAnswer[] = [];
  endorseFailure: Error | undefined;
  /** How many of the first submits find no orderer. */
  unreachableSubmits = 0;
  result = new TextEncoder().encode(
    JSON.stringify({ name: 'maxRevisions', value: 3, updatedAt: 'x', updatedBy: 'y', txId: 'z' }),
  );

  asNetwork(): Network {
    const network = {
      getContract: () => ({
        newProposal: (name: string, options: ProposalOptions = {}) => {
          const transactionId = `tx-${this.proposals.length + 1}`;
          this.proposals.push({ name, options, transactionId });
          return {
            getTransactionId: () => transactionId,
            endorse: () => {
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
      submit: () => {
        this.submissions += 1;
        if (this.submissions <= this.unreachableSubmits) {
          return Promise.reject(
            new GatewayError({
              code: grpcStatus.UNAVAILABLE,
              details: [],
              cause: serviceError(grpcStatus.UNAVAILABLE, 'no orderers could successfully process transaction'),
            }),
          );
        }
        return Promise.resolve({
          getStatus: () => {
            const answer = this.statusAnswers.shift() ?? { successful: true, code: 11, blockNumber: 7n };
            if (answer === 'timeout') {
              return Promise.reject(
                new CommitStatusError({
                  code: grpcStatus.DEADLINE_EXCEEDED,
                  details: [],
                  cause: serviceError(grpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded'),
                  transactionId,
                }),
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

describe('ContractClient', () => {
  it('sends the same signed transaction again when its commit status does not come, and returns once it commits', async () => {
    const scripted = new ScriptedNetwork();
    scripted.statusAnswers = ['timeout', 'timeout', valid];
    const resent: string[] = [];
    const client = new ContractClient(scripted.asNetwork(), 'gigledger', {
      commitStatusPollMs: 10,
      onResubmit: (transactionId) => resent.push(transactionId),
    });
    const submitted = await client.submit(setParameter, { name: 'maxRevisions', value: 3 });
    expect(submitted).toMatchObject({ transactionId: 'tx-1', blockNumber: 9n });
    // One proposal, one transaction id: the copies are the same transaction, never a new one.
    expect(scripted.proposals).toHaveLength(1);
    expect(scripted.submissions).toBe(3);
    expect(resent).toEqual(['tx-1', 'tx-1']);
  });

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
    scripted.statusAnswers = [1, 2, 3].map(() => ({ successful: false, code: 11, blockNumber: 5n }));
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    await expect(client.submit(setParameter, { name: 'maxRevisions', value: 3 })).rejects.toThrow(CommitFailedError);
    expect(scripted.proposals).toHaveLength(3);
  });

  it('turns a refusal in the endorsement details into a RefusedError with its code and field', async () => {
    const scripted = new ScriptedNetwork();
    scripted.endorseFailure = new EndorseError({
      code: grpcStatus.ABORTED,
      details: [
        {
          address: '127.0.0.1:7051',
          mspId: 'ClientOrgMSP',
          message:
            'chaincode response 500, INVALID_STATE[milestoneId]: milestone m1 of agreement A-1 is funded, not submitted',
        },
      ],
      cause: serviceError(grpcStatus.ABORTED, 'failed to endorse transaction'),
      transactionId: 'tx-1',
    });
    const client = new ContractClient(scripted.asNetwork(), 'gigledger');
    const refusal = await client
      .submit(setParameter, { name: 'maxRevisions', value: 3 })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RefusedError);
    expect(refusal).toMatchObject({ code: 'INVALID_STATE', field: 'milestoneId', transactionId: 'tx-1' });
    expect(scripted.submissions).toBe(0);
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
});
