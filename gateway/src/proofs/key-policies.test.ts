import { ledger, peer } from '@hyperledger/fabric-protos';
import { endorserTransaction } from '../test-support/prepared-transaction.js';
import { keyPolicyEvent, validationParameterKey, writtenKeys } from './key-policies.js';

const { kvrwset } = ledger.rwset;

/** A `peer.Transaction` (an endorser transaction's payload data) carrying one namespace's read/write set. */
function transactionWith(namespace: string, build: (set: ledger.rwset.kvrwset.KVRWSet) => void): Uint8Array {
  const kv = new kvrwset.KVRWSet();
  build(kv);
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(namespace);
  ns.setRwset(kv.serializeBinary());
  const results = new ledger.rwset.TxReadWriteSet();
  results.setNsRwsetList([ns]);
  const chaincodeAction = new peer.ChaincodeAction();
  chaincodeAction.setResults(results.serializeBinary());
  return endorserTransaction(chaincodeAction).serializeBinary();
}

const write = (key: string, isDelete = false) => {
  const entry = new kvrwset.KVWrite();
  entry.setKey(key);
  entry.setIsDelete(isDelete);
  if (!isDelete) entry.setValue(Buffer.from('{}'));
  return entry;
};

const metadataWrite = (key: string, policy: Uint8Array) => {
  const entry = new kvrwset.KVMetadataEntry();
  entry.setName(validationParameterKey);
  entry.setValue(policy);
  const metadata = new kvrwset.KVMetadataWrite();
  metadata.setKey(key);
  metadata.setEntriesList([entry]);
  return metadata;
};

const read = (key: string, existed: boolean) => {
  const entry = new kvrwset.KVRead();
  entry.setKey(key);
  if (existed) {
    const version = new kvrwset.Version();
    version.setBlockNum(3);
    entry.setVersion(version);
  }
  return entry;
};

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
