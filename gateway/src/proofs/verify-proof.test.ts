import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { p256 } from '@noble/curves/nist';
import { binaryParts, proofCreatorMspId, type ProofBundle } from './proof-bundle.js';
import { evaluateSignaturePolicy } from './policy.js';
import { keepEndorsementsOf, rewriteDefinitionPolicy, rewriteEnvelope } from './tamper.js';
import { verifyProof } from './verify-proof.js';
import { anchorRefused } from './export-proof.js';
import { readChannelConfig } from './channel-config.js';
import { checkIdentity } from './identities.js';

/*
 * The fixture is the bundle of an agreement acceptance exported from the real network by
 * the proofs end-to-end suite (GIGLEDGER_PROOF_FIXTURE), so the verifier is checked here
 * against Fabric's own bytes and signatures, without a network.
 */
const fixture = JSON.parse(
  readFileSync(new URL('../../test-fixtures/proof-bundle.json', import.meta.url), 'utf8'),
) as ProofBundle;
const copy = () => structuredClone(fixture);
/** A version 2 bundle, exported by an earlier build from another run of the network: one header chain from block 0 to the newest block. */
const version2 = JSON.parse(
  readFileSync(new URL('../../test-fixtures/proof-bundle-v2.json', import.meta.url), 'utf8'),
) as ProofBundle;

const blockOfHeader = (header: string) =>
  common.BlockHeader.deserializeBinary(Buffer.from(header, 'base64')).getNumber();

/**
 * What a failure may name: a block, a header, an anchor, the signed block's number, the
 * transaction, an orderer signature, the configuration, a key policy, a commit of the
 * chaincode definition.
 */
const namedPart =
  /(block \d+|headers\.\d+|anchors\.\d+|signedBlock\.number|transaction [0-9a-f]{64}|orderer signature \d+ of block \d+|configuration block \d+|keyPolicies\.\d+|chaincode\.definition\.\d+)/;

/** A copy of the fixture with bits `mask` of one byte (`position` modulo its length) of a binary part flipped. */
function flipped(path: string, position: number, mask: number): ProofBundle {
  const bundle = copy();
  const part = binaryParts(bundle).find((candidate) => candidate.path === path)!;
  const bytes = Buffer.from(part.get(), 'base64');
  const at = position % bytes.length;
  bytes[at] = (bytes[at] ?? 0) ^ mask;
  part.set(bytes.toString('base64'));
  return bundle;
}

/** Flips bits of byte `at` of the first orderer signature of the signed block. */
function flipOrdererSignature(bundle: ProofBundle, at: (length: number) => number, mask = 0x01): ProofBundle {
  const metadata = common.Metadata.deserializeBinary(Buffer.from(bundle.signedBlock.signatures, 'base64'));
  const first = metadata.getSignaturesList()[0]!;
  const signature = Buffer.from(first.getSignature_asU8());
  const position = at(signature.length);
  signature[position] = (signature[position] ?? 0) ^ mask;
  first.setSignature(signature);
  bundle.signedBlock.signatures = Buffer.from(metadata.serializeBinary()).toString('base64');
  return bundle;
}

describe('verifyProof on a bundle exported from a Fabric 3.1 network', () => {
  it('accepts the untouched bundle and says what it proves', () => {
    const verdict = verifyProof(copy());
    expect(verdict.failures).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.transaction).toMatchObject({
      id: fixture.transactionId,
      block: fixture.block.number,
      creatorMspId: proofCreatorMspId(fixture),
    });
    // The acceptance wrote the agreement's key, whose own policy replaces the chaincode's for
    // it (as in Fabric's validator), and its request's key, under the chaincode's policy.
    expect(verdict.endorsementPolicy).toMatch(/^2 of \(ClientOrgMSP\.peer, TalentOrgMSP\.peer, AuditOrgMSP\.peer\); /);
    expect(verdict.endorsementPolicy).toMatch(/; key "\\u0000agreement\\u0000PROOF-[0-9a-f]+\\u0000": 2 of \(/);
    expect(verdict.ordererPolicy).toContain('/Channel/Orderer/BlockValidation');
    expect(verdict.trustAnchors?.map((anchor) => anchor.mspId)).toEqual(
      expect.arrayContaining(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP', 'OrdererMSP']),
    );
  });

  it('refuses a one-byte change anywhere in any binary part', () => {
    const parts = binaryParts(copy()).map((part) => part.path);
    fc.assert(
      fc.property(fc.constantFrom(...parts), fc.nat(), fc.integer({ min: 1, max: 255 }), (path, position, mask) => {
        const verdict = verifyProof(flipped(path, position, mask));
        expect(verdict.valid).toBe(false);
        const failure = verdict.failures[0];
        // Every refusal names the part it is about, in words (never a decoder's "Assertion failed").
        expect(failure?.message).toMatch(namedPart);
        expect(failure?.where).toMatch(namedPart);
        expect(failure?.message).not.toMatch(/Assertion failed|routines::|Failure:/);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses a one-byte change in a commit of the chaincode definition, naming that commit', () => {
    const parts = binaryParts(copy())
      .map((part) => part.path)
      .filter((path) => path.startsWith('chaincode.definition.'));
    expect(parts.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.constantFrom(...parts), fc.nat(), fc.integer({ min: 1, max: 255 }), (path, position, mask) => {
        const verdict = verifyProof(flipped(path, position, mask));
        expect(verdict.valid).toBe(false);
        const entry = path.slice(0, path.lastIndexOf('.'));
        expect(verdict.failures[0]?.where).toContain(entry);
        expect(verdict.failures[0]?.message).toContain(entry);
      }),
      { numRuns: 200 },
    );
  });

  it('names the block whose previous_hash breaks the chain', () => {
    const bundle = copy();
    if (bundle.headers.length < 2) return;
    const header = common.BlockHeader.deserializeBinary(Buffer.from(bundle.headers[1]!, 'base64'));
    const previous = Buffer.from(header.getPreviousHash_asU8());
    previous[0] = (previous[0] ?? 0) ^ 0xff;
    header.setPreviousHash(previous);
    bundle.headers[1] = Buffer.from(header.serializeBinary()).toString('base64');
    if (bundle.block.number === header.getNumber()) bundle.block.header = bundle.headers[1];
    const failure = verifyProof(bundle).failures[0];
    expect(failure?.code).toMatch(/HEADER_CHAIN|DATA_HASH/);
    if (failure?.code === 'HEADER_CHAIN')
      expect(failure.message).toBe(
        `block ${header.getNumber()} header: previous_hash does not match the hash of block ${header.getNumber() - 1}`,
      );
  });

  it('refuses a transaction the peer did not mark VALID, a missing header and a foreign format', () => {
    const invalid = copy();
    invalid.block.validationCode = 'ENDORSEMENT_POLICY_FAILURE';
    expect(verifyProof(invalid).failures[0]).toMatchObject({ code: 'NOT_VALID' });

    const short = copy();
    short.headers = short.headers.slice(0, -1);
    short.signedBlock.number -= 1;
    expect(verifyProof(short).valid).toBe(false);

    expect(verifyProof({ ...copy(), version: 4 }).failures[0]).toMatchObject({
      code: 'BUNDLE_FORMAT',
      where: 'version',
    });
    expect(verifyProof('not a bundle').failures[0]).toMatchObject({ code: 'BUNDLE_FORMAT' });
  });

  it('refuses a version 1 bundle, whose chaincode policy no hash binds, saying to export it again', () => {
    const failure = verifyProof({ ...copy(), version: 1 }).failures[0];
    expect(failure).toMatchObject({ code: 'BUNDLE_FORMAT', where: 'version' });
    expect(failure?.message).toContain('bound to no ledger transaction; export the proof again');
  });
});

describe("verifyProof cuts a block's data only into the entries the orderers wrote", () => {
  /** The bundle with its block's data replaced by `entries`, the transaction at `index`. */
  const withEntries = (entries: Uint8Array[], index: number) => {
    const bundle = copy();
    const data = new common.BlockData();
    data.setDataList(entries);
    bundle.block.data = Buffer.from(data.serializeBinary()).toString('base64');
    bundle.transaction.index = index;
    return bundle;
  };
  const envelope = Buffer.from(fixture.transaction.envelope, 'base64');
  const entriesOf = (bundle: ProofBundle) =>
    common.BlockData.deserializeBinary(Buffer.from(bundle.block.data, 'base64')).getDataList_asU8();
  const where = `block ${fixture.block.number} data`;

  it('refuses an empty entry put before the transaction (the joined bytes, and so the data hash, unchanged)', () => {
    const entries = entriesOf(fixture);
    const shifted = withEntries([new Uint8Array(), ...entries], fixture.transaction.index + 1);
    expect(Buffer.concat(entriesOf(shifted))).toEqual(Buffer.concat(entries));
    expect(verifyProof(shifted).failures[0]).toMatchObject({ code: 'ENCODING', where: `${where} entry 0` });
  });

  it('refuses an envelope cut into its payload and its signature as two entries', () => {
    const parsed = common.Envelope.deserializeBinary(envelope);
    const payloadOnly = new common.Envelope();
    payloadOnly.setPayload(parsed.getPayload_asU8());
    const signatureOnly = new common.Envelope();
    signatureOnly.setSignature(parsed.getSignature_asU8());
    const cut = [payloadOnly.serializeBinary(), signatureOnly.serializeBinary()];
    expect(Buffer.concat(cut)).toEqual(envelope);
    const failure = verifyProof(withEntries(cut, 0)).failures[0];
    expect(failure).toMatchObject({ code: 'ENCODING', where: `${where} entry 0` });
    expect(failure?.message).toContain('not an envelope as the orderers write each entry');
  });

  it('refuses an envelope carried inside another entry presented as an entry of its own', () => {
    // Another transaction whose payload holds the envelope's bytes, cut around them.
    const carrier = new common.Envelope();
    carrier.setPayload(Buffer.concat([Buffer.from('before'), envelope, Buffer.from('after')]));
    carrier.setSignature(Buffer.from('a signature'));
    const bytes = Buffer.from(carrier.serializeBinary());
    const at = bytes.indexOf(envelope);
    const cut = [bytes.subarray(0, at), envelope, bytes.subarray(at + envelope.length)];
    expect(verifyProof(withEntries(cut, 1)).failures[0]).toMatchObject({ code: 'ENCODING', where: `${where} entry 0` });
  });

  it('accepts other entries carrying fields Fabric does not know, as its orderers keep them, and refuses an envelope cut out of one', () => {
    const parsed = common.Envelope.deserializeBinary(envelope);
    // Another client's envelope with an extra field 3 holding a whole envelope's bytes.
    const unknownField = (bytes: Uint8Array) => Buffer.concat([Buffer.from([0x1a, bytes.length]), bytes]);
    const small = new common.Envelope();
    small.setPayload(Buffer.from('p'));
    small.setSignature(Buffer.from('s'));
    const other = Buffer.concat([Buffer.from(parsed.serializeBinary()), unknownField(small.serializeBinary())]);
    // Read as the orderers wrote it: past the layout check, stopped only by the hash (this block holds no such entry).
    expect(verifyProof(withEntries([envelope, other], 0)).failures[0]).toMatchObject({
      code: 'DATA_HASH',
      where,
    });
    // The extra field's bytes as an entry of their own, or the envelope inside it: refused.
    const base = Buffer.from(parsed.serializeBinary());
    const asOwnEntry = [envelope, base, unknownField(small.serializeBinary())];
    expect(verifyProof(withEntries(asOwnEntry, 0)).failures[0]).toMatchObject({
      code: 'ENCODING',
      where: `${where} entry 2`,
    });
    const inside = [
      envelope,
      Buffer.concat([base, Buffer.from([0x1a, small.serializeBinary().length])]),
      small.serializeBinary(),
    ];
    expect(verifyProof(withEntries(inside, 0)).failures[0]).toMatchObject({
      code: 'ENCODING',
      where: `${where} entry 1`,
    });
  });

  it('refuses a configuration block cut into two entries', () => {
    const bundle = copy();
    const data = common.BlockData.deserializeBinary(Buffer.from(bundle.config.data, 'base64'));
    const [entry] = data.getDataList_asU8();
    data.setDataList([entry!.subarray(0, 10), entry!.subarray(10)]);
    bundle.config.data = Buffer.from(data.serializeBinary()).toString('base64');
    expect(verifyProof(bundle).failures[0]?.message).toContain('a configuration block holds one entry, not 2');
  });
});

describe('verifyProof on a bundle whose parts are proven by their own blocks', () => {
  const parts = new Set([
    fixture.block.number,
    fixture.config.blockNumber,
    ...fixture.chaincode.definition.map((entry) => entry.block),
    fixture.signedBlock.number,
  ]);

  it("carries the header of each part's block (and of the block after the unsigned genesis), and orderer signatures for each block ending a run", () => {
    expect(fixture.version).toBe(3);
    const carried = fixture.headers.map(blockOfHeader);
    expect(carried).toEqual(expect.arrayContaining([...parts]));
    expect(carried.filter((number) => !parts.has(number) && !parts.has(number - 1))).toEqual([]);
    const anchored = fixture.anchors?.map((anchor) => anchor.number) ?? [];
    expect(anchored).toEqual(expect.arrayContaining(fixture.chaincode.definition.map((entry) => entry.block)));
    expect(anchored).not.toContain(fixture.block.number);
    expect(anchored).not.toContain(fixture.signedBlock.number);
    // The verdict names who signed each of them, as it does the newest block.
    const verdict = verifyProof(copy());
    expect(verdict.anchoredBlocks?.map((block) => block.number)).toEqual(anchored);
    for (const block of verdict.anchoredBlocks ?? []) expect(block.signers[0]).toMatch(/orderer/i);
    expect(verifyProof(structuredClone(version2)).anchoredBlocks).toBeUndefined();
  });

  it('still accepts a version 2 bundle, whose one header chain runs to the newest block, and refuses one with anchors', () => {
    expect(version2.version).toBe(2);
    expect(version2.headers.length).toBeGreaterThan(parts.size);
    expect(verifyProof(structuredClone(version2)).failures).toEqual([]);
    const anchored = structuredClone(version2);
    anchored.anchors = [{ number: version2.config.blockNumber, signatures: version2.signedBlock.signatures }];
    expect(verifyProof(anchored).failures[0]).toMatchObject({ code: 'BUNDLE_FORMAT', where: 'anchors' });
    // A version 2 bundle promises one unbroken chain: a header left out between two parts is refused.
    const v2Parts = new Set([
      version2.block.number,
      version2.config.blockNumber,
      ...version2.chaincode.definition.map((entry) => entry.block),
      version2.signedBlock.number,
    ]);
    const gap = version2.headers.findIndex((header, index) => index > 0 && !v2Parts.has(blockOfHeader(header)));
    const gapped = structuredClone(version2);
    gapped.headers.splice(gap, 1);
    const failure = verifyProof(gapped).failures[0];
    expect(failure).toMatchObject({ code: 'HEADER_CHAIN', where: `headers.${String(gap)}` });
    expect(failure?.message).toContain('a version 2 bundle carries one unbroken header chain');
  });

  it('refuses a header ending a run whose orderer signatures the bundle does not carry', () => {
    const bundle = copy();
    const [dropped, ...kept] = bundle.anchors ?? [];
    bundle.anchors = kept;
    const failure = verifyProof(bundle).failures[0];
    expect(failure?.code).toBe('HEADER_CHAIN');
    expect(failure?.message).toContain(`block ${String(dropped?.number)} ends a run of headers`);
    expect(failure?.message).toContain('the bundle carries no orderer signatures of it');
  });

  it("refuses one block's orderer signatures given as another's", () => {
    const bundle = copy();
    const anchor = bundle.anchors![0]!;
    anchor.signatures = bundle.signedBlock.signatures;
    expect(verifyProof(bundle).failures[0]).toMatchObject({
      code: 'ORDERER_SIGNATURE',
      where: `orderer signature 1 of block ${anchor.number}`,
    });
  });

  it('tells the exporter when the orderer signatures of an anchor are refused, and only then', () => {
    expect(anchorRefused(copy())).toBe(false);
    const foreign = copy();
    foreign.anchors![0]!.signatures = foreign.signedBlock.signatures;
    expect(anchorRefused(foreign)).toBe(true);
    // Refused for something else: the exporter's long header chain would not help.
    const notValid = copy();
    notValid.block.validationCode = 'MVCC_READ_CONFLICT';
    expect(anchorRefused(notValid)).toBe(false);
    expect(anchorRefused(flipOrdererSignature(copy(), (length) => length - 1))).toBe(false);
  });

  it('refuses headers or anchors out of order or twice, and an anchor of a block without a header', () => {
    const reversed = copy();
    reversed.headers = [...reversed.headers].reverse();
    expect(verifyProof(reversed).failures[0]).toMatchObject({ code: 'HEADER_CHAIN', where: 'headers.1' });
    expect(fixture.anchors!.length).toBeGreaterThan(1);
    const anchorsReversed = copy();
    anchorsReversed.anchors = [...anchorsReversed.anchors!].reverse();
    expect(verifyProof(anchorsReversed).failures[0]).toEqual({
      code: 'HEADER_CHAIN',
      where: 'anchors.1',
      message: `anchors.1: block ${String(anchorsReversed.anchors[1]!.number)} after block ${String(anchorsReversed.anchors[0]!.number)}; anchors are in ascending block order`,
    });
    const twice = copy();
    twice.headers = [twice.headers[0]!, ...twice.headers];
    expect(verifyProof(twice).failures[0]?.message).toContain('headers are in ascending block order, each block once');
    const anchorTwice = copy();
    anchorTwice.anchors = [...anchorTwice.anchors!, anchorTwice.anchors![0]!];
    expect(verifyProof(anchorTwice).failures[0]).toMatchObject({
      code: 'HEADER_CHAIN',
      where: `anchors.${String(anchorTwice.anchors.length - 1)}`,
    });
    const signedAgain = copy();
    signedAgain.anchors = [...signedAgain.anchors!, { ...signedAgain.signedBlock }];
    expect(verifyProof(signedAgain).failures[0]?.message).toContain('are in the bundle already');
    const headerless = copy();
    headerless.anchors = [
      ...headerless.anchors!,
      { number: fixture.signedBlock.number - 1, signatures: fixture.signedBlock.signatures },
    ];
    if (!parts.has(fixture.signedBlock.number - 1))
      expect(verifyProof(headerless).failures[0]?.message).toContain("is not among the bundle's headers");
  });
});

/** `OutOf(n, '<msp>.peer', …)` as a `peer.ApplicationPolicy`. */
function outOf(n: number, mspIds: readonly string[]): peer.ApplicationPolicy {
  const rules = new common.SignaturePolicy.NOutOf();
  rules.setN(n);
  rules.setRulesList(
    mspIds.map((_, index) => {
      const rule = new common.SignaturePolicy();
      rule.setSignedBy(index);
      return rule;
    }),
  );
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(rules);
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setRule(rule);
  envelope.setIdentitiesList(
    mspIds.map((mspId) => {
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      const mspRole = new msp.MSPRole();
      mspRole.setMspIdentifier(mspId);
      mspRole.setRole(msp.MSPRole.MSPRoleType.PEER);
      principal.setPrincipal(mspRole.serializeBinary());
      return principal;
    }),
  );
  const policy = new peer.ApplicationPolicy();
  policy.setSignaturePolicy(envelope);
  return policy;
}

describe('verifyProof reads the chaincode policy from the _lifecycle transaction that committed it', () => {
  const founders = ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'];

  it('names the commit the transaction read, its sequence and the policy it wrote', () => {
    const verdict = verifyProof(copy());
    const [commit] = fixture.chaincode.definition;
    expect(verdict.chaincodeDefinition).toMatchObject({
      name: fixture.chaincode.name,
      sequence: fixture.chaincode.sequence,
      committedBy: `_lifecycle transaction ${commit?.transactionId ?? ''} (block ${commit?.block ?? ''}, position ${commit?.index ?? ''})`,
    });
    // The definition commit comes before the transaction, its block among the bundle's headers.
    expect(commit?.block).toBeLessThan(fixture.block.number);
  });

  it('refuses a changed policy in the commit as not hashing into its block, and with a re-hashed header as one the orderers did not sign', () => {
    // A looser policy, which the endorsements would meet: only the hashes and signatures can tell.
    const looser = outOf(1, founders);
    const changed = verifyProof(rewriteDefinitionPolicy(copy(), looser)).failures[0];
    const last = fixture.chaincode.definition.length - 1;
    const commitBlock = fixture.chaincode.definition[last]?.block ?? -1;
    expect(changed).toMatchObject({ code: 'DATA_HASH', where: `chaincode.definition.${last} data` });
    expect(changed?.message).toContain(`does not match the data_hash of block ${commitBlock}`);
    const rehashed = verifyProof(rewriteDefinitionPolicy(copy(), looser, { rehashHeader: true })).failures[0];
    expect(rehashed).toMatchObject({ code: 'ORDERER_SIGNATURE', where: `orderer signature 1 of block ${commitBlock}` });
    // In a version 2 bundle the next header of its one chain no longer links to it.
    const chained = verifyProof(rewriteDefinitionPolicy(structuredClone(version2), looser, { rehashHeader: true }));
    expect(chained.failures[0]?.code).toBe('HEADER_CHAIN');
    expect(chained.failures[0]?.message).toMatch(/previous_hash does not match the hash of block \d+/);
  });

  it('refuses a commit that is not the one the transaction read, or a sequence it did not commit', () => {
    const moved = copy();
    moved.chaincode.definition[0]!.block -= 1;
    const failure = verifyProof(moved).failures[0];
    expect(failure).toMatchObject({ code: 'CHAINCODE_DEFINITION', where: 'chaincode.definition.0' });
    expect(failure?.message).toContain(`read the definition of chaincode ${fixture.chaincode.name} committed at block`);
    const sequence = copy();
    sequence.chaincode.sequence += 1;
    expect(verifyProof(sequence).failures[0]?.message).toContain(`expected ${fixture.chaincode.sequence + 1}`);
    const version = copy();
    version.chaincode.version = `${version.chaincode.version}-other`;
    expect(verifyProof(version).failures[0]).toMatchObject({ code: 'CHAINCODE_DEFINITION' });
  });

  it('evaluates a stricter policy as unmet by the endorsers the fixture has', () => {
    const envelope = common.Envelope.deserializeBinary(Buffer.from(fixture.transaction.envelope, 'base64'));
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0]!;
    const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction()!;
    const config = readChannelConfig(common.BlockData.deserializeBinary(Buffer.from(fixture.config.data, 'base64')));
    const endorsers = endorsed
      .getEndorsementsList()
      .map((endorsement) => checkIdentity(endorsement.getEndorser_asU8(), config.msps, new Date(fixture.exportedAt)));
    // The fixture's agreement was endorsed by its parties' organisations only (ClientOrg, TalentOrg).
    expect(verifyProof(copy()).transaction?.endorsers).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    const outcome = evaluateSignaturePolicy(outOf(3, founders).getSignaturePolicy()!, endorsers);
    expect(outcome.satisfied).toBe(false);
    expect(outcome.description).toContain('3 of (ClientOrgMSP.peer, TalentOrgMSP.peer, AuditOrgMSP.peer)');
    expect(evaluateSignaturePolicy(outOf(2, founders).getSignaturePolicy()!, endorsers).satisfied).toBe(true);
  });
});

describe('verifyProof judges the transaction by the configuration in force at its block', () => {
  it('refuses a second configuration when the block names the latest as in force', () => {
    const bundle = copy();
    bundle.transactionConfig = { ...bundle.config };
    const failure = verifyProof(bundle).failures[0];
    expect(failure).toMatchObject({
      code: 'CONFIG',
      where: `transaction configuration block ${fixture.config.blockNumber} data`,
    });
    expect(failure?.message).toContain('no other belongs');
  });

  it('refuses a configuration the transaction block does not name, and one the signed block does not name as latest', () => {
    const elsewhere = copy();
    elsewhere.config.blockNumber = fixture.config.blockNumber + 1;
    const failure = verifyProof(elsewhere).failures[0];
    expect(failure).toMatchObject({ code: 'CONFIG', where: `block ${fixture.block.number} signatures` });
    expect(failure?.message).toContain(
      `name configuration block ${fixture.config.blockNumber} as in force, which the bundle does not carry`,
    );
    const carried = copy();
    carried.config.blockNumber = fixture.config.blockNumber + 1;
    carried.transactionConfig = { blockNumber: fixture.config.blockNumber, data: fixture.config.data };
    // Block 0's data named as another block does not hash into that block's header.
    expect(verifyProof(carried).failures[0]).toMatchObject({
      code: 'DATA_HASH',
      where: `configuration block ${fixture.config.blockNumber + 1} data`,
    });
  });
});

describe('verifyProof names the part and the reason of a broken signature', () => {
  const signed = fixture.signedBlock.number;

  it('says an orderer signature whose DER structure is broken is not a DER-encoded ECDSA signature', () => {
    const sequence = verifyProof(flipOrdererSignature(copy(), () => 0)).failures[0];
    expect(sequence).toEqual({
      code: 'ORDERER_SIGNATURE',
      where: `orderer signature 1 of block ${signed}`,
      message: `orderer signature 1 of block ${signed}: not a DER-encoded ECDSA signature (no SEQUENCE)`,
    });
    const length = verifyProof(flipOrdererSignature(copy(), () => 1)).failures[0];
    expect(length?.message).toBe(
      `orderer signature 1 of block ${signed}: not a DER-encoded ECDSA signature (the SEQUENCE length does not match)`,
    );
    const integer = verifyProof(flipOrdererSignature(copy(), () => 2)).failures[0];
    expect(integer?.message).toBe(
      `orderer signature 1 of block ${signed}: not a DER-encoded ECDSA signature (r is not an INTEGER)`,
    );
  });

  it('says a DER signature with a changed value does not verify', () => {
    const failure = verifyProof(flipOrdererSignature(copy(), (length) => length - 1)).failures[0];
    expect(failure?.message).toBe(
      `orderer signature 1 of block ${signed} does not verify over the metadata value, signature header and block header`,
    );
  });

  it('says an endorsement signature whose DER structure is broken is not a DER-encoded ECDSA signature', () => {
    const bundle = rewriteEnvelope(copy(), (envelope) => {
      const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
      const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
      const action = transaction.getActionsList()[0]!;
      const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      const endorsement = actionPayload.getAction()!.getEndorsementsList()[0]!;
      const signature = Buffer.from(endorsement.getSignature_asU8());
      signature[0] = 0x31;
      endorsement.setSignature(signature);
      action.setPayload(actionPayload.serializeBinary());
      payload.setData(transaction.serializeBinary());
      envelope.setPayload(payload.serializeBinary());
    });
    expect(verifyProof(bundle).failures[0]).toEqual({
      code: 'ENDORSEMENT_SIGNATURE',
      where: `transaction ${fixture.transactionId} endorsement 0`,
      message: `transaction ${fixture.transactionId} endorsement 0: not a DER-encoded ECDSA signature (no SEQUENCE)`,
    });
  });
});

describe('verifyProof refuses ECDSA signatures whose S is above half the curve order, as Fabric does', () => {
  /** Every orderer signature of a `common.Metadata` rewritten as (r, n − s), which verifies wherever (r, s) does. */
  const withHighS = (signatures: string): string => {
    const metadata = common.Metadata.deserializeBinary(Buffer.from(signatures, 'base64'));
    for (const entry of metadata.getSignaturesList()) {
      const low = p256.Signature.fromBytes(entry.getSignature_asU8(), 'der');
      expect(low.hasHighS()).toBe(false);
      const high = new p256.Signature(low.r, p256.Point.CURVE().n - low.s);
      entry.setSignature(high.toBytes('der'));
    }
    return Buffer.from(metadata.serializeBinary()).toString('base64');
  };
  const highSMessage = 'an ECDSA signature whose S is above half the curve order, which Fabric refuses (low-S rule)';

  it("refuses the signed block's orderer signatures in their high-S form, naming the signature", () => {
    const bundle = copy();
    bundle.signedBlock.signatures = withHighS(bundle.signedBlock.signatures);
    expect(verifyProof(bundle).failures[0]).toEqual({
      code: 'ORDERER_SIGNATURE',
      where: `orderer signature 1 of block ${fixture.signedBlock.number}`,
      message: `orderer signature 1 of block ${fixture.signedBlock.number}: ${highSMessage}`,
    });
  });

  it("refuses each anchor's and the transaction block's orderer signatures in their high-S form", () => {
    for (const anchor of fixture.anchors ?? []) {
      const bundle = copy();
      const changed = bundle.anchors!.find((candidate) => candidate.number === anchor.number)!;
      changed.signatures = withHighS(changed.signatures);
      expect(verifyProof(bundle).failures[0]).toEqual({
        code: 'ORDERER_SIGNATURE',
        where: `orderer signature 1 of block ${anchor.number}`,
        message: `orderer signature 1 of block ${anchor.number}: ${highSMessage}`,
      });
    }
    const bundle = copy();
    bundle.block.signatures = withHighS(bundle.block.signatures);
    const failure = verifyProof(bundle).failures[0];
    expect(failure?.code).toBe('ORDERER_SIGNATURE');
    expect(failure?.message).toContain(highSMessage);
  });
});

describe('verifyProof takes one byte form of a bundle only', () => {
  it("refuses an orderer's signature given twice in a block's signatures, naming the repeat", () => {
    const places: [string, (bundle: ProofBundle) => { get(): string; set(value: string): void }, number][] = [
      [
        'signedBlock',
        (bundle) => ({
          get: () => bundle.signedBlock.signatures,
          set: (value) => (bundle.signedBlock.signatures = value),
        }),
        fixture.signedBlock.number,
      ],
      ...(fixture.anchors ?? []).map(
        (anchor, index) =>
          [
            `anchors.${String(index)}`,
            (bundle: ProofBundle) => ({
              get: () => bundle.anchors![index]!.signatures,
              set: (value: string) => (bundle.anchors![index]!.signatures = value),
            }),
            anchor.number,
          ] as [string, (bundle: ProofBundle) => { get(): string; set(value: string): void }, number],
      ),
    ];
    for (const [name, part, number] of places) {
      const bundle = copy();
      const metadata = common.Metadata.deserializeBinary(Buffer.from(part(bundle).get(), 'base64'));
      const signatures = metadata.getSignaturesList();
      metadata.setSignaturesList([...signatures, signatures[0]!]);
      part(bundle).set(Buffer.from(metadata.serializeBinary()).toString('base64'));
      const repeated = `orderer signature ${String(signatures.length + 1)} of block ${String(number)}`;
      expect([name, verifyProof(bundle).failures[0]]).toEqual([
        name,
        {
          code: 'ORDERER_SIGNATURE',
          where: repeated,
          message: `${repeated} is by the orderer of orderer signature 1; a block carries one signature per orderer`,
        },
      ]);
    }
  });

  it('refuses base64 whose unused last bits are set, which decodes to the same bytes', () => {
    const changedParts: string[] = [];
    for (const path of binaryParts(fixture).map((candidate) => candidate.path)) {
      const bundle = copy();
      const part = binaryParts(bundle).find((candidate) => candidate.path === path);
      expect(part).toBeDefined();
      const text = part!.get();
      const padded = /=+$/.exec(text)?.[0].length ?? 0;
      // With one "=" the last character carries 2 unused bits, with two 4; none, no unused bit.
      if (padded === 0) continue;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const at = text.length - padded - 1;
      const changed = text.slice(0, at) + alphabet[alphabet.indexOf(text[at]!) ^ 1]! + text.slice(at + 1);
      expect(Buffer.from(changed, 'base64')).toEqual(Buffer.from(text, 'base64'));
      part!.set(changed);
      const failure = verifyProof(bundle).failures[0];
      expect([path, failure?.code, failure?.message]).toEqual([
        path,
        'BUNDLE_FORMAT',
        expect.stringContaining('must be canonical base64'),
      ]);
      changedParts.push(path);
    }
    expect(changedParts).toEqual(expect.arrayContaining(['block.header']));
    expect(changedParts.length).toBeGreaterThan(5);
  });
});

describe('verifyProof applies the key-level endorsement policies a bundle carries', () => {
  // The fixture accepts an agreement whose draft set the agreement key's policy (both parties' organisations).
  const entries = fixture.keyPolicies ?? [];

  it('carries the policy of the agreement key, set by an earlier transaction, and reports it', () => {
    expect(entries.length).toBeGreaterThan(0);
    const verdict = verifyProof(copy());
    expect(verdict.valid).toBe(true);
    for (const entry of entries) {
      expect(entry.setBy.block).toBeLessThanOrEqual(fixture.block.number);
      expect(verdict.endorsementPolicy).toContain(
        `key ${JSON.stringify(entry.key)}: 2 of (ClientOrgMSP.member, TalentOrgMSP.member)`,
      );
      expect(verdict.endorsementPolicy).toContain(entry.setBy.transactionId);
    }
  });

  it('refuses endorsements that do not satisfy a key-level policy, naming the key and the transaction that set it', () => {
    const [entry] = entries;
    const failure = verifyProof(rewriteEnvelope(copy(), keepEndorsementsOf(['ClientOrgMSP']))).failures[0];
    expect(failure?.code).toBe('ENDORSEMENT_POLICY');
    expect(failure?.message).toContain(`do not satisfy the key-level policy of key ${JSON.stringify(entry?.key)}`);
    expect(failure?.message).toContain(`set by transaction ${entry?.setBy.transactionId ?? ''}`);
  });

  it('refuses a key policy of a key the transaction did not write, or set after it', () => {
    const unwritten = copy();
    unwritten.keyPolicies![0]!.key = 'a key nobody wrote';
    expect(verifyProof(unwritten).failures[0]).toMatchObject({ code: 'KEY_POLICY', where: 'keyPolicies.0' });
    const later = copy();
    later.keyPolicies![0]!.setBy.block = fixture.block.number + 1;
    const failure = verifyProof(later).failures[0];
    expect(failure).toMatchObject({ code: 'KEY_POLICY', where: 'keyPolicies.0' });
    expect(failure?.message).toContain('does not come before the transaction on the ledger');
    // The proven transaction sets no policy of its own key before itself.
    const itself = copy();
    itself.keyPolicies![0]!.setBy = {
      transactionId: fixture.transactionId,
      block: fixture.block.number - 1,
      index: 0,
      envelope: fixture.transaction.envelope,
    };
    expect(verifyProof(itself).failures[0]).toMatchObject({ code: 'KEY_POLICY', where: 'keyPolicies.0' });
  });

  it('without the key-level policies applies the chaincode policy the definition commit wrote', () => {
    const { keyPolicies: _omitted, ...older } = copy();
    const verdict = verifyProof(older);
    expect(verdict.valid).toBe(true);
    // The network's definition names its three founders: any two of their peers.
    expect(verdict.endorsementPolicy).toContain('2 of (ClientOrgMSP.peer, TalentOrgMSP.peer, AuditOrgMSP.peer)');
  });
});

describe('evaluateSignaturePolicy', () => {
  it('counts each signer once', () => {
    const policy = new common.SignaturePolicyEnvelope();
    const principal = new msp.MSPPrincipal();
    const mspRole = new msp.MSPRole();
    mspRole.setRole(msp.MSPRole.MSPRoleType.MEMBER);
    const twice = new common.SignaturePolicy.NOutOf();
    twice.setN(2);
    twice.setRulesList(
      [0, 0].map(() => {
        const leaf = new common.SignaturePolicy();
        leaf.setSignedBy(0);
        return leaf;
      }),
    );
    const rule = new common.SignaturePolicy();
    rule.setNOutOf(twice);
    policy.setRule(rule);
    const config = readChannelConfig(common.BlockData.deserializeBinary(Buffer.from(fixture.config.data, 'base64')));
    const envelope = common.Envelope.deserializeBinary(Buffer.from(fixture.transaction.envelope, 'base64'));
    const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader()!;
    const creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
    const signer = checkIdentity(creator, config.msps, new Date(fixture.exportedAt));
    mspRole.setMspIdentifier(signer.mspId);
    principal.setPrincipal(mspRole.serializeBinary());
    policy.setIdentitiesList([principal]);
    expect(signer.untrusted).toBeUndefined();
    expect(evaluateSignaturePolicy(policy, [signer]).satisfied).toBe(false);
    expect(evaluateSignaturePolicy(policy, [signer, signer]).satisfied).toBe(true);
  });
});

describe('verifyProof checks that a record proof’s kind and id give the key it names', () => {
  // The fixture's transaction (an agreement acceptance) wrote its agreement's key.
  const [agreementKey = ''] = (fixture.keyPolicies ?? []).map((entry) => entry.key);
  const agreementId = agreementKey.split('\u0000')[2] ?? '';
  const withRecord = (record: Partial<NonNullable<ProofBundle['record']>>): ProofBundle => ({
    ...copy(),
    record: { kind: 'agreement', id: agreementId, namespace: fixture.chaincode.name, key: agreementKey, ...record },
  });

  it('accepts the record the key holds, and a bundle without a record as a transaction proof', () => {
    expect(agreementId).toMatch(/^PROOF-/);
    const verdict = verifyProof(withRecord({}));
    expect(verdict.failures).toEqual([]);
    expect(verdict.record).toMatchObject({ kind: 'agreement', id: agreementId, key: agreementKey });
    expect(verifyProof(copy()).valid).toBe(true);
  });

  it('refuses an id or a kind the key does not encode', () => {
    const otherId = verifyProof(withRecord({ id: 'A-101' })).failures[0];
    expect(otherId).toEqual({
      code: 'RECORD_KEY',
      where: 'record',
      message: `record: agreement A-101 is held under key ${JSON.stringify('\u0000agreement\u0000A-101\u0000')}, not ${JSON.stringify(agreementKey)}`,
    });
    // A work is held under ipWork, whatever its id.
    const otherKind = verifyProof(withRecord({ kind: 'work' })).failures[0];
    expect(otherKind).toMatchObject({ code: 'RECORD_KEY', where: 'record' });
    expect(otherKind?.message).toContain(
      `work ${agreementId} is held under key "\\u0000ipWork\\u0000${agreementId}\\u0000"`,
    );
    // A milestone's id has two parts; a payout is held in its milestone, not its agreement.
    expect(verifyProof(withRecord({ kind: 'milestone' })).failures[0]).toMatchObject({
      code: 'RECORD_KEY',
      message: `record: milestone id ${JSON.stringify(agreementId)} is not <agreementId>/<milestoneId>`,
    });
    expect(verifyProof(withRecord({ kind: 'payout', id: `${agreementId}/m1/release-1` })).failures[0]).toMatchObject({
      code: 'RECORD_KEY',
    });
    expect(verifyProof(withRecord({ kind: 'agreements' })).failures[0]?.message).toMatch(
      /^record: kind agreements is not a kind of record \(agreement, milestone, payout, /,
    );
  });

  it('refuses a key the transaction did not write, even one its kind and id give', () => {
    const unwritten = verifyProof(withRecord({ id: 'A-101', key: '\u0000agreement\u0000A-101\u0000' })).failures[0];
    expect(unwritten).toMatchObject({ code: 'RECORD_KEY', where: 'record' });
    expect(unwritten?.message).toContain('wrote no key');
    expect(verifyProof(withRecord({ namespace: 'other' })).failures[0]).toMatchObject({ code: 'RECORD_KEY' });
  });
});

describe('verifyProof states only what it checked of where a key-level policy was set', () => {
  const [entry] = fixture.keyPolicies ?? [];

  it('says the setting transaction’s place in an earlier block is the exporting peer’s word', () => {
    // The fixture's policy was set in an earlier block, whose data the bundle does not carry.
    expect(entry?.setBy.block).toBeLessThan(fixture.block.number);
    const verdict = verifyProof(copy());
    expect(verdict.endorsementPolicy).toContain(
      `(set by transaction ${entry?.setBy.transactionId ?? ''} (the exporting peer says block ${entry?.setBy.block ?? ''}, position ${entry?.setBy.index ?? ''}))`,
    );
    expect(verdict.notChecked.join('\n')).toContain('where that transaction sits on the ledger');
  });

  it('does not state a place changed in the bundle as a fact', () => {
    const moved = copy();
    moved.keyPolicies![0]!.setBy.block = 3;
    moved.keyPolicies![0]!.setBy.index = 7;
    const verdict = verifyProof(moved);
    expect(verdict.valid).toBe(true);
    expect(verdict.endorsementPolicy).not.toContain('(block 3, position 7)');
    expect(verdict.endorsementPolicy).toContain('the exporting peer says block 3, position 7');
  });

  it('refuses a second entry for the same key, naming both', () => {
    const twice = copy();
    twice.keyPolicies = [entry!, structuredClone(entry!)];
    const failure = verifyProof(twice).failures[0];
    expect(failure).toEqual({
      code: 'KEY_POLICY',
      where: 'keyPolicies.1',
      message: `keyPolicies.1: key ${JSON.stringify(entry?.key)} has its policy in keyPolicies.0 already; a key has one`,
    });
  });
});

describe('verifyProof judges certificates at times the signatures bind, not at exportedAt', () => {
  it('gives the same verdict whatever exportedAt says, which nobody signs', () => {
    for (const exportedAt of ['2100-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z', fixture.exportedAt]) {
      const bundle = { ...copy(), exportedAt };
      expect([exportedAt, verifyProof(bundle).failures]).toEqual([exportedAt, []]);
    }
    expect(verifyProof(copy()).notChecked.join('\n')).toContain('`exportedAt` is the exporter’s statement');
  });

  it('says in the verdict how orderer certificates are judged', () => {
    expect(verifyProof(copy()).notChecked.join('\n')).toContain(
      'an orderer’s certificate counts when it was valid and unrevoked at some moment from the transaction’s time to the verification',
    );
  });
});
