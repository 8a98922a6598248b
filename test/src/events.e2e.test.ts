import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BlockEventFollower,
  ChaincodeEventFollower,
  FileCheckpointer,
  type LedgerBlock,
  type LedgerEvent,
  type LedgerSession,
} from '@gigledger/gateway';
import { openE2eContext, openProposal, type E2eContext } from './support/ledger.js';

describe('following chaincode events from a durable checkpoint', () => {
  let context: E2eContext;
  let governor: LedgerSession;
  let proposalId: string;

  beforeAll(async () => {
    context = openE2eContext();
    governor = await context.enroll('TalentOrg', 'governor');
    // An open proposal: each vote (or change of vote) is a transaction with an event.
    proposalId = await openProposal(governor, 'Event check');
  });

  afterAll(() => {
    context.close();
  });

  /** The folders of this suite's checkpoints, each removed after its test. */
  const checkpointDirs: string[] = [];
  afterEach(() => {
    for (const dir of checkpointDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function checkpointIn(prefix: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    checkpointDirs.push(dir);
    return path.join(dir, 'checkpoint.json');
  }

  async function castVotes(count: number): Promise<string[]> {
    const choices = ['yes', 'no', 'abstain'] as const;
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const choice = choices[index % choices.length]!;
      ids.push((await governor.governance.vote({ proposalId, choice })).transactionId);
    }
    return ids;
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('resumes after a restart without losing or repeating an event', async () => {
    const checkpointFile = checkpointIn('gl-follow-');
    const network = governor.gateway.getNetwork(context.config.channel);
    const seen: LedgerEvent[] = [];
    const follow = () =>
      new ChaincodeEventFollower(
        network,
        context.config.chaincode.name,
        new FileCheckpointer(checkpointFile),
        (event) => {
          seen.push(event);
          return Promise.resolve();
        },
      );

    const first = follow();
    await first.start();
    const before = await castVotes(3);
    await until(() => before.every((id) => seen.some((event) => event.transactionId === id)), 'the first three events');
    await first.stop();

    const whileStopped = await castVotes(3);
    const seenBeforeRestart = seen.length;

    const second = follow();
    await second.start();
    await until(
      () => whileStopped.every((id) => seen.some((event) => event.transactionId === id)),
      'the events committed while stopped',
    );
    const after = await castVotes(1);
    await until(
      () => after.every((id) => seen.some((event) => event.transactionId === id)),
      'a live event after restart',
    );
    await second.stop();

    const mine = [...before, ...whileStopped, ...after];
    const delivered = seen.map((event) => event.transactionId).filter((id) => mine.includes(id));
    expect(delivered).toEqual(mine);
    expect(seen.slice(seenBeforeRestart).some((event) => before.includes(event.transactionId))).toBe(false);
    expect(
      seen.filter((event) => mine.includes(event.transactionId)).every((event) => event.name === 'governance.VoteCast'),
    ).toBe(true);
  });

  it('follows blocks the same way: consecutive numbers across a restart, each transaction with its validation code', async () => {
    const checkpointFile = checkpointIn('gl-blocks-');
    const network = governor.gateway.getNetwork(context.config.channel);
    const blocks: LedgerBlock[] = [];
    const follow = () =>
      new BlockEventFollower(network, new FileCheckpointer(checkpointFile), (block) => {
        blocks.push(block);
        return Promise.resolve();
      });
    const contains = (ids: string[]) => () =>
      ids.every((id) =>
        blocks.some((block) => block.transactions.some((transaction) => transaction.transactionId === id)),
      );

    const first = follow();
    await first.start();
    const before = await castVotes(1);
    await until(contains(before), 'the block of the first transaction');
    await first.stop();
    const whileStopped = await castVotes(2);
    const second = follow();
    await second.start();
    await until(contains(whileStopped), 'the blocks committed while stopped');
    await second.stop();

    const numbers = blocks.map((block) => block.blockNumber);
    const [firstNumber] = numbers;
    expect(numbers).toEqual(numbers.map((_, index) => firstNumber! + BigInt(index)));
    const mine = blocks
      .flatMap((block) => block.transactions)
      .filter((transaction) => [...before, ...whileStopped].includes(transaction.transactionId));
    expect(mine.map((transaction) => transaction.validationCode)).toEqual([0, 0, 0]);
  });
});
