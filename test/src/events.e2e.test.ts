import { mkdtempSync } from 'node:fs';
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
import { openE2eContext, type E2eContext } from './support/ledger.js';

describe('following chaincode events from a durable checkpoint', () => {
  let context: E2eContext;
  let admin: LedgerSession;

  beforeAll(async () => {
    context = openE2eContext();
    admin = await context.enroll('TalentOrg', 'admin');
  });

  afterAll(() => {
    context.close();
  });

  async function setParameters(values: number[]): Promise<string[]> {
    const ids: string[] = [];
    for (const value of values) {
      ids.push((await admin.parameters.setParameter({ name: 'maxRevisions', value })).transactionId);
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
    const checkpointFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'gl-follow-')), 'checkpoint.json');
    const network = admin.gateway.getNetwork(context.config.channel);
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
    const before = await setParameters([1, 2, 3]);
    await until(() => before.every((id) => seen.some((event) => event.transactionId === id)), 'the first three events');
    await first.stop();

    const whileStopped = await setParameters([4, 5, 6]);
    const seenBeforeRestart = seen.length;

    const second = follow();
    await second.start();
    await until(
      () => whileStopped.every((id) => seen.some((event) => event.transactionId === id)),
      'the events committed while stopped',
    );
    const after = await setParameters([7]);
    await until(
      () => after.every((id) => seen.some((event) => event.transactionId === id)),
      'a live event after restart',
    );
    await second.stop();

    const mine = [...before, ...whileStopped, ...after];
    const delivered = seen.map((event) => event.transactionId).filter((id) => mine.includes(id));
    expect(delivered).toEqual(mine);
    expect(seen.slice(seenBeforeRestart).some((event) => before.includes(event.transactionId))).toBe(false);
    expect(seen.every((event) => event.name === 'parameter.ParameterSet')).toBe(true);
  });

  it('follows blocks the same way: consecutive numbers across a restart, each transaction with its validation code', async () => {
    const checkpointFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'gl-blocks-')), 'checkpoint.json');
    const network = admin.gateway.getNetwork(context.config.channel);
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
    const before = await setParameters([2]);
    await until(contains(before), 'the block of the first transaction');
    await first.stop();
    const whileStopped = await setParameters([3, 4]);
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
