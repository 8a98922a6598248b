import { RequestIdTurns } from './request-id-turns.js';

/** Claims `key` for `process`, noting in `began` when its turn begins. */
function claimNoting(turns: RequestIdTurns, began: string[], key: string, process: number, label: string) {
  return turns.claim(key, process).then((token) => {
    began.push(label);
    return token;
  });
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('RequestIdTurns', () => {
  it('gives each key one turn at a time, in the order claimed, and other keys theirs at once', async () => {
    const turns = new RequestIdTurns();
    const began: string[] = [];
    const first = claimNoting(turns, began, 'alice cancel r-1', 1, 'worker 1');
    const second = claimNoting(turns, began, 'alice cancel r-1', 2, 'worker 2');
    const third = claimNoting(turns, began, 'alice cancel r-1', 1, 'worker 1 again');
    void claimNoting(turns, began, 'bob cancel r-1', 2, 'bob');
    await settled();
    expect(began).toEqual(['worker 1', 'bob']);

    turns.end(await first);
    await settled();
    expect(began).toEqual(['worker 1', 'bob', 'worker 2']);
    turns.end(await second);
    turns.end(await third);
    await settled();
    expect(began).toEqual(['worker 1', 'bob', 'worker 2', 'worker 1 again']);
    expect(turns.size).toBe(1);
  });

  it('ends the turns of a process that exits and drops its waiting claims; an unknown or ended token changes nothing', async () => {
    const turns = new RequestIdTurns();
    const began: string[] = [];
    const held = await claimNoting(turns, began, 'k', 1, 'worker 1');
    void claimNoting(turns, began, 'k', 1, 'worker 1 waiting');
    const next = claimNoting(turns, began, 'k', 2, 'worker 2');
    turns.end(9999);
    await settled();
    expect(began).toEqual(['worker 1']);

    turns.forget(1);
    await settled();
    expect(began).toEqual(['worker 1', 'worker 2']);
    turns.end(held);
    turns.end(await next);
    expect(turns.size).toBe(0);
  });

  it('hands the primary its own turns, which workers wait for', async () => {
    const turns = new RequestIdTurns();
    const began: string[] = [];
    const endPrimaryTurn = await turns.forPrimary().claim('k');
    void claimNoting(turns, began, 'k', 1, 'worker 1');
    await settled();
    expect(began).toEqual([]);
    endPrimaryTurn();
    await settled();
    expect(began).toEqual(['worker 1']);
  });
});
