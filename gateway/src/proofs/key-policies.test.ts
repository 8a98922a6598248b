import { metadataWrite, read, transactionWith, write } from '../test-support/ledger-blocks.js';
import { keyPolicyEvent, writtenKeys } from './key-policies.js';

const policyBytes = Buffer.from('a signature policy envelope');

describe('key-level policies in a transaction’s write set', () => {
  it('lists every key written, deleted or given metadata, once, and only in the namespace asked', () => {
    const data = transactionWith('gigledger', (kv) => {
      kv.setWritesList([write('a'), write('b', true)]);
      kv.setMetadataWritesList([metadataWrite('a', policyBytes), metadataWrite('c', policyBytes)]);
      kv.setReadsList([read('r', true)]);
    });
    expect(writtenKeys(data, 'gigledger')).toEqual({ keys: ['a', 'b', 'c'], privateWrites: false });
    expect(writtenKeys(data, 'other')).toEqual({ keys: [], privateWrites: false });
  });

  it('tells a set, a cleared, a deleted, a created and an untouched key apart', () => {
    const data = transactionWith('gigledger', (kv) => {
      kv.setReadsList([read('new', false), read('old', true), read('set', true)]);
      kv.setWritesList([write('set'), write('new'), write('old'), write('gone', true)]);
      kv.setMetadataWritesList([metadataWrite('set', policyBytes), metadataWrite('cleared', new Uint8Array())]);
    });
    const event = keyPolicyEvent(data, 'gigledger', 'set');
    expect(event?.kind).toBe('set');
    expect(event?.kind === 'set' && Buffer.from(event.policy).equals(policyBytes)).toBe(true);
    expect(keyPolicyEvent(data, 'gigledger', 'cleared')).toEqual({ kind: 'cleared' });
    expect(keyPolicyEvent(data, 'gigledger', 'gone')).toEqual({ kind: 'cleared' });
    expect(keyPolicyEvent(data, 'gigledger', 'new')).toEqual({ kind: 'created' });
    // Written over an existing value without metadata: the policy it had stays in force.
    expect(keyPolicyEvent(data, 'gigledger', 'old')).toBeUndefined();
    expect(keyPolicyEvent(data, 'other', 'set')).toBeUndefined();
  });

  it('counts a policy set in the transaction that creates the key as set', () => {
    const data = transactionWith('gigledger', (kv) => {
      kv.setReadsList([read('k', false)]);
      kv.setWritesList([write('k')]);
      kv.setMetadataWritesList([metadataWrite('k', policyBytes)]);
    });
    expect(keyPolicyEvent(data, 'gigledger', 'k')?.kind).toBe('set');
  });
});
