import { replayedTransactionId } from './replayed-request.js';
import { preparedTransactionBytes } from './test-support/prepared-transaction.js';

const replayed = (txId: unknown) => ({ name: 'request.Replayed', payload: { txId } });

describe('replayedTransactionId', () => {
  it('names the transaction that acted when a repeat answered from storage and writes nothing', () => {
    expect(replayedTransactionId(preparedTransactionBytes('tx-repeat', { event: replayed('tx-acted') }))).toBe(
      'tx-acted',
    );
  });

  it('leaves every other transaction to be ordered', () => {
    expect(replayedTransactionId(preparedTransactionBytes('tx-1'))).toBeUndefined();
    expect(
      replayedTransactionId(
        preparedTransactionBytes('tx-1', { event: { name: 'agreement.Drafted', payload: { txId: 'tx-1' } } }),
      ),
    ).toBeUndefined();
  });

  it('orders a transaction that says it repeats but writes, publicly or privately', () => {
    expect(
      replayedTransactionId(preparedTransactionBytes('tx-1', { event: replayed('tx-0'), writes: ['agreement/A-1'] })),
    ).toBeUndefined();
    expect(
      replayedTransactionId(
        preparedTransactionBytes('tx-1', { event: replayed('tx-0'), privateWrites: ['terms/A-1'] }),
      ),
    ).toBeUndefined();
  });

  it('orders a transaction whose replay event names no transaction', () => {
    expect(replayedTransactionId(preparedTransactionBytes('tx-1', { event: replayed('') }))).toBeUndefined();
    expect(replayedTransactionId(preparedTransactionBytes('tx-1', { event: replayed(7) }))).toBeUndefined();
    expect(
      replayedTransactionId(preparedTransactionBytes('tx-1', { event: { name: 'request.Replayed', payload: 'x' } })),
    ).toBeUndefined();
  });
});
