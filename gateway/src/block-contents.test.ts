import { createHash } from 'node:crypto';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';
import { decodeBlockContents, validationCodeName } from './block-contents.js';
import { committedBlock } from './test-support/ledger-blocks.js';
import { endorserTransaction } from './test-support/prepared-transaction.js';

/*
 * Blocks are assembled here from the same protobuf messages a peer delivers, so the
 * decoder is checked field by field; the audit-index end-to-end suite checks it on the
 * real network (hash chain included).
 */

// google-protobuf ships no types; this is the part of its Timestamp class used here.
interface TimestampMessage {
  setSeconds(value: number): void;
  setNanos(value: number): void;
}
const { Timestamp } = createRequire(import.meta.url)('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => TimestampMessage;
};

const sha = (text: string) => createHash('sha256').update(text).digest();

interface TransactionSpec {
  txId: string;
  mspId: string;
  fn: string;
  reads: string[];
  writes: Record<string, string | null>;
  privateWrite?: { collection: string; key: string; value: string };
  event?: { name: string; payload: string };
}

function endorserEnvelope(spec: TransactionSpec): Uint8Array {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setTxId(spec.txId);
  channelHeader.setChannelId('gigledger');
  const timestamp = new Timestamp();
  timestamp.setSeconds(1_780_000_000);
  timestamp.setNanos(250_000_000);
  channelHeader.setTimestamp(timestamp);
  const creator = new msp.SerializedIdentity();
  creator.setMspid(spec.mspId);
  creator.setIdBytes(Buffer.from('certificate'));
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator.serializeBinary());
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());

  const kv = new ledger.rwset.kvrwset.KVRWSet();
  kv.setReadsList(
    spec.reads.map((key) => {
      const read = new ledger.rwset.kvrwset.KVRead();
      read.setKey(key);
      return read;
    }),
  );
  kv.setWritesList(
    Object.entries(spec.writes).map(([key, value]) => {
      const write = new ledger.rwset.kvrwset.KVWrite();
      write.setKey(key);
      if (value === null) write.setIsDelete(true);
      else write.setValue(Buffer.from(value));
      return write;
    }),
  );
  const namespaceSet = new ledger.rwset.NsReadWriteSet();
  namespaceSet.setNamespace('gigledger');
  namespaceSet.setRwset(kv.serializeBinary());
  if (spec.privateWrite !== undefined) {
    const hashedWrite = new ledger.rwset.kvrwset.KVWriteHash();
    hashedWrite.setKeyHash(sha(spec.privateWrite.key));
    hashedWrite.setValueHash(sha(spec.privateWrite.value));
    const hashed = new ledger.rwset.kvrwset.HashedRWSet();
    hashed.setHashedWritesList([hashedWrite]);
    const collectionSet = new ledger.rwset.CollectionHashedReadWriteSet();
    collectionSet.setCollectionName(spec.privateWrite.collection);
    collectionSet.setHashedRwset(hashed.serializeBinary());
    namespaceSet.setCollectionHashedRwsetList([collectionSet]);
  }
  const readWriteSet = new ledger.rwset.TxReadWriteSet();
  readWriteSet.setNsRwsetList([namespaceSet]);
  const chaincodeAction = new peer.ChaincodeAction();
  chaincodeAction.setResults(readWriteSet.serializeBinary());
  if (spec.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId('gigledger');
    event.setTxId(spec.txId);
    event.setEventName(spec.event.name);
    event.setPayload(Buffer.from(spec.event.payload));
    chaincodeAction.setEvents(event.serializeBinary());
  }

  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName('gigledger');
  const input = new peer.ChaincodeInput();
  input.setArgsList([Buffer.from(spec.fn), Buffer.from('{"secret":"argument"}')]);
  const chaincodeSpec = new peer.ChaincodeSpec();
  chaincodeSpec.setChaincodeId(chaincodeId);
  chaincodeSpec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(chaincodeSpec);
  const proposalPayload = new peer.ChaincodeProposalPayload();
  proposalPayload.setInput(invocation.serializeBinary());
  const transaction = endorserTransaction(chaincodeAction, proposalPayload);

  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}

const block = (number: number, envelopes: Uint8Array[], codes: number[]) =>
  committedBlock(number, envelopes, codes, {
    previousHash: sha(`block ${String(number - 1)}`),
    dataHash: sha(`data ${String(number)}`),
  });

describe('block contents', () => {
  const decoded = decodeBlockContents(
    block(
      7,
      [
        endorserEnvelope({
          txId: 'tx-a',
          mspId: 'ClientOrgMSP',
          fn: 'agreement:draftAgreement',
          reads: ['\u0000agreement\u0000A-1\u0000'],
          writes: { '\u0000agreement\u0000A-1\u0000': '{"agreementId":"A-1"}', stale: null },
          privateWrite: { collection: 'agreementTerms', key: 'terms A-1', value: 'rate 100 EUR' },
          event: { name: 'agreement.drafted', payload: '{"agreementId":"A-1"}' },
        }),
        endorserEnvelope({
          txId: 'tx-b',
          mspId: 'TalentOrgMSP',
          fn: 'agreement:acceptAgreement',
          reads: [],
          writes: {},
        }),
      ],
      [peer.TxValidationCode.VALID, peer.TxValidationCode.MVCC_READ_CONFLICT],
    ),
  );

  it('gives the header fields and each transaction with its creator, code, time and invocation', () => {
    expect(decoded.blockNumber).toBe(7n);
    expect(decoded.previousHash).toBe(sha('block 6').toString('hex'));
    expect(decoded.dataHash).toBe(sha('data 7').toString('hex'));
    expect(
      decoded.transactions.map((tx) => [tx.transactionId, tx.position, tx.creatorMspId, tx.validationName]),
    ).toEqual([
      ['tx-a', 0, 'ClientOrgMSP', 'VALID'],
      ['tx-b', 1, 'TalentOrgMSP', 'MVCC_READ_CONFLICT'],
    ]);
    const [first] = decoded.transactions;
    expect(first).toMatchObject({
      headerType: 'ENDORSER_TRANSACTION',
      chaincode: 'gigledger',
      function: 'agreement:draftAgreement',
      timestamp: '2026-05-28T20:26:40.250Z',
      validationCode: 0,
    });
  });

  it('lists public keys read, written and deleted, and private keys only as hashes', () => {
    const [first] = decoded.transactions;
    expect(first?.keys).toEqual([
      { namespace: 'gigledger', key: '\u0000agreement\u0000A-1\u0000', access: 'read' },
      { namespace: 'gigledger', key: '\u0000agreement\u0000A-1\u0000', access: 'write' },
      { namespace: 'gigledger', key: 'stale', access: 'delete' },
      {
        namespace: 'gigledger',
        collection: 'agreementTerms',
        keyHash: sha('terms A-1').toString('hex'),
        valueHash: sha('rate 100 EUR').toString('hex'),
        access: 'write',
      },
    ]);
    expect(first?.writes.map((write) => Buffer.from(write.value).toString())).toEqual(['{"agreementId":"A-1"}']);
    expect(JSON.stringify(first?.keys)).not.toContain('rate 100 EUR');
  });

  it('gives the chaincode event a transaction set, and none for one that set none', () => {
    const [first, second] = decoded.transactions;
    expect(first?.event?.chaincode).toBe('gigledger');
    expect(first?.event?.name).toBe('agreement.drafted');
    expect(Buffer.from(first?.event?.payload ?? []).toString()).toBe('{"agreementId":"A-1"}');
    expect(second?.event).toBeUndefined();
  });

  it('hashes the header as ASN.1 DER (number, previous hash, data hash), as Fabric chains blocks', () => {
    const hashOf = (number: number) => {
      const header = new common.BlockHeader();
      header.setNumber(number);
      header.setPreviousHash(Buffer.alloc(32, 1));
      header.setDataHash(Buffer.alloc(32, 2));
      const wrapped = new common.Block();
      wrapped.setHeader(header);
      return decodeBlockContents(wrapped).hash;
    };
    const der = (numberBytes: number[]) =>
      createHash('sha256')
        .update(
          Buffer.concat([
            // SEQUENCE of the INTEGER and two 32-byte OCTET STRINGs.
            Buffer.from([0x30, 2 + numberBytes.length + 68, 0x02, numberBytes.length, ...numberBytes, 0x04, 0x20]),
            Buffer.alloc(32, 1),
            Buffer.from([0x04, 0x20]),
            Buffer.alloc(32, 2),
          ]),
        )
        .digest('hex');
    expect(hashOf(1)).toBe(der([0x01]));
    // 200 has its top bit set, so DER puts a zero byte before it.
    expect(hashOf(200)).toBe(der([0x00, 0xc8]));
  });

  it('names validation codes as Fabric does', () => {
    expect(validationCodeName(11)).toBe('MVCC_READ_CONFLICT');
    expect(validationCodeName(10)).toBe('ENDORSEMENT_POLICY_FAILURE');
    expect(validationCodeName(0)).toBe('VALID');
  });
});

describe('block contents of transactions the peers refused as malformed', () => {
  const good = endorserEnvelope({
    txId: 'tx-good',
    mspId: 'ClientOrgMSP',
    fn: 'agreement:acceptAgreement',
    reads: [],
    writes: {},
  });
  /** `envelope` with its payload's data (the endorser transaction) replaced. */
  const withTransactionData = (envelope: Uint8Array, data: Uint8Array) => {
    const outer = common.Envelope.deserializeBinary(envelope);
    const payload = common.Payload.deserializeBinary(outer.getPayload_asU8());
    payload.setData(data);
    outer.setPayload(payload.serializeBinary());
    return outer.serializeBinary();
  };
  // An action whose payload is a whole other envelope: no endorsed action where one belongs.
  const action = new peer.TransactionAction();
  action.setPayload(good);
  const nested = new peer.Transaction();
  nested.setActionsList([action]);
  const farFuture = common.Envelope.deserializeBinary(good);
  const payload = common.Payload.deserializeBinary(farFuture.getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8());
  const timestamp = new Timestamp();
  timestamp.setSeconds(1e15);
  channelHeader.setTimestamp(timestamp);
  payload.getHeader()!.setChannelHeader(channelHeader.serializeBinary());
  farFuture.setPayload(payload.serializeBinary());
  const invalid = peer.TxValidationCode.BAD_PAYLOAD;

  const decoded = decodeBlockContents(
    block(
      9,
      [
        Uint8Array.from([0xff, 0xff, 0xff, 0x07]),
        withTransactionData(good, nested.serializeBinary()),
        withTransactionData(good, Uint8Array.from([0x0a, 0xff, 0x01])),
        farFuture.serializeBinary(),
        good,
      ],
      [invalid, invalid, invalid, invalid, peer.TxValidationCode.VALID],
    ),
  );

  it('keeps each with what decodes, and goes on to the next', () => {
    expect(decoded.transactions.map((tx) => [tx.position, tx.transactionId, tx.headerType, tx.validationName])).toEqual(
      [
        [0, '', 'MALFORMED', 'BAD_PAYLOAD'],
        [1, 'tx-good', 'ENDORSER_TRANSACTION', 'BAD_PAYLOAD'],
        [2, 'tx-good', 'ENDORSER_TRANSACTION', 'BAD_PAYLOAD'],
        [3, 'tx-good', 'ENDORSER_TRANSACTION', 'BAD_PAYLOAD'],
        [4, 'tx-good', 'ENDORSER_TRANSACTION', 'VALID'],
      ],
    );
    expect(decoded.transactions[2]).toMatchObject({ creatorMspId: 'ClientOrgMSP', chaincode: undefined, keys: [] });
    // Past the last instant a Date can hold: no time rather than a failure.
    expect(decoded.transactions[3]?.timestamp).toBeUndefined();
    expect(decoded.transactions[4]).toMatchObject({ function: 'agreement:acceptAgreement', chaincode: 'gigledger' });
  });
});
