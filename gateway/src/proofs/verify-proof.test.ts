import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { common, msp } from '@hyperledger/fabric-protos';
import { binaryParts, proofCreatorMspId, type ProofBundle } from './proof-bundle.js';
import { evaluateSignaturePolicy } from './policy.js';
import { verifyProof } from './verify-proof.js';
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
    expect(verdict.endorsementPolicy).toContain('/Channel/Application/Endorsement');
    expect(verdict.ordererPolicy).toContain('/Channel/Orderer/BlockValidation');
    expect(verdict.trustAnchors?.map((anchor) => anchor.mspId)).toEqual(
      expect.arrayContaining(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP', 'OrdererMSP']),
    );
  });

  it('refuses a one-byte change anywhere in any binary part', () => {
    const parts = binaryParts(copy()).map((part) => part.path);
    fc.assert(
      fc.property(fc.constantFrom(...parts), fc.nat(), fc.integer({ min: 1, max: 255 }), (path, position, mask) => {
        const bundle = copy();
        const part = binaryParts(bundle).find((candidate) => candidate.path === path)!;
        const bytes = Buffer.from(part.get(), 'base64');
        const at = position % bytes.length;
        bytes[at] = (bytes[at] ?? 0) ^ mask;
        part.set(bytes.toString('base64'));
        const verdict = verifyProof(bundle);
        expect(verdict.valid).toBe(false);
        expect(verdict.failures[0]?.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
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

    expect(verifyProof({ ...copy(), version: 2 }).failures[0]).toMatchObject({
      code: 'BUNDLE_FORMAT',
      where: 'version',
    });
    expect(verifyProof('not a bundle').failures[0]).toMatchObject({ code: 'BUNDLE_FORMAT' });
  });

  it('refuses endorsements that do not satisfy a stricter signature policy', () => {
    const bundle = copy();
    const role = (mspId: string) => {
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      const mspRole = new msp.MSPRole();
      mspRole.setMspIdentifier(mspId);
      mspRole.setRole(msp.MSPRole.MSPRoleType.PEER);
      principal.setPrincipal(mspRole.serializeBinary());
      return principal;
    };
    const all = new common.SignaturePolicy.NOutOf();
    all.setN(3);
    all.setRulesList(
      [0, 1, 2].map((index) => {
        const rule = new common.SignaturePolicy();
        rule.setSignedBy(index);
        return rule;
      }),
    );
    const rule = new common.SignaturePolicy();
    rule.setNOutOf(all);
    const envelope = new common.SignaturePolicyEnvelope();
    envelope.setRule(rule);
    envelope.setIdentitiesList([role('ClientOrgMSP'), role('TalentOrgMSP'), role('AuditOrgMSP')]);
    bundle.chaincode.endorsementPolicy = {
      signaturePolicy: Buffer.from(envelope.serializeBinary()).toString('base64'),
    };
    // The fixture's agreement was endorsed by its parties' organisations only (ClientOrg, TalentOrg).
    expect(verifyProof(copy()).transaction?.endorsers).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    const failure = verifyProof(bundle).failures[0];
    expect(failure?.code).toBe('ENDORSEMENT_POLICY');
    expect(failure?.message).toContain('3 of (ClientOrgMSP.peer, TalentOrgMSP.peer, AuditOrgMSP.peer)');
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
