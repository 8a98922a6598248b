import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { repoRoot } from '@gigledger/network';
import { keepEndorsementsOf, recordKey, rewriteEnvelope, verifyProof, type ProofBundle } from '@gigledger/gateway';
import { startE2eApi, type E2eApi } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';

const run = promisify(execFile);

/** Runs one of the API's command-line tools; resolves to its exit code and output. */
async function cli(script: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(repoRoot, 'api', 'dist', 'cli', script), ...args],
      {
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const copy = (bundle: ProofBundle): ProofBundle => structuredClone(bundle);

/** The API's configuration for the operator CLIs, against the suite's network. */
const operatorEnv = (workDir: string) => ({
  GIGLEDGER_CONNECTION_PROFILE: e2eConfig().paths.connectionProfile,
  GIGLEDGER_DATA_DIR: workDir,
});

function flipByte(base64: string, at: number): string {
  const bytes = Buffer.from(base64, 'base64');
  const position = at % bytes.length;
  bytes[position] = (bytes[position] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

/** Flips a bit of the first endorsement's signature. */
function forgeEndorsement(envelope: common.Envelope): void {
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = transaction.getActionsList()[0]!;
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const endorsement = actionPayload.getAction()!.getEndorsementsList()[0]!;
  const signature = Buffer.from(endorsement.getSignature_asU8());
  signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0x01;
  endorsement.setSignature(signature);
  action.setPayload(actionPayload.serializeBinary());
  payload.setData(transaction.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
}

/** Replaces the root CA certificates of one MSP in the configuration with another MSP's. */
function substituteCa(bundle: ProofBundle, victim: string, impostor: string): ProofBundle {
  const tampered = copy(bundle);
  const data = common.BlockData.deserializeBinary(Buffer.from(tampered.config.data, 'base64'));
  const envelope = common.Envelope.deserializeBinary(data.getDataList_asU8()[0]!);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const configEnvelope = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8());
  type Groups = {
    get(key: string): common.ConfigGroup | undefined;
    forEach(f: (group: common.ConfigGroup) => void): void;
  };
  const channelGroups = configEnvelope.getConfig()!.getChannelGroup()!.getGroupsMap() as unknown as Groups;
  const application = channelGroups.get('Application')!;
  const groups = application.getGroupsMap() as unknown as {
    get(key: string): common.ConfigGroup | undefined;
    forEach(f: (group: common.ConfigGroup) => void): void;
  };
  const fabricConfigOf = (group: common.ConfigGroup) => {
    const value = (group.getValuesMap() as unknown as { get(key: string): common.ConfigValue }).get('MSP');
    const mspConfig = msp.MSPConfig.deserializeBinary(value.getValue_asU8());
    return { value, mspConfig, fabric: msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8()) };
  };
  let impostorRoots: Uint8Array[] = [];
  groups.forEach((group) => {
    const { fabric } = fabricConfigOf(group);
    if (fabric.getName() === impostor) impostorRoots = fabric.getRootCertsList_asU8();
  });
  groups.forEach((group) => {
    const { value, mspConfig, fabric } = fabricConfigOf(group);
    if (fabric.getName() !== victim) return;
    fabric.setRootCertsList(impostorRoots);
    mspConfig.setConfig(fabric.serializeBinary());
    value.setValue(mspConfig.serializeBinary());
  });
  payload.setData(configEnvelope.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
  data.setDataList([envelope.serializeBinary()]);
  tampered.config.data = Buffer.from(data.serializeBinary()).toString('base64');
  return tampered;
}

describe('offline-verifiable proofs of transactions on the real network', () => {
  let api: E2eApi;
  const suffix = randomBytes(3).toString('hex');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'gl-proofs-'));

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
  });

  afterAll(async () => {
    try {
      await api.close();
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('exports the proof of an agreement transaction over REST and the CLI, verifies it offline and refuses every tampered copy', async () => {
    const client = await api.person(`proof-client-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`proof-talent-${suffix}`, 'TalentOrg', 'freelancer');
    const auditor = await api.person(`proof-auditor-${suffix}`, 'AuditOrg', 'auditor');
    await api.grantAuditEverywhere(auditor.party);
    const agreementId = `PROOF-${suffix}`;
    const drafted = await api.call('POST', '/v1/agreements', client.token, {
      agreementId,
      title: 'Proof of a labelling agreement',
      client: client.party,
      freelancer: freelancer.party,
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Labelled set',
          amount: '50000',
          currency: 'EUR',
          dueDate: new Date(Date.now() + 7 * 86_400_000).toISOString(),
          acceptanceCriteria: { description: 'inter-annotator agreement of at least 0.8' },
        },
      ],
      terms: { scope: 'Label 10,000 images.' },
    });
    expect(drafted.status).toBe(201);
    const draftTransactionId = (drafted.body as { transactionId: string }).transactionId;
    const terms = (await api.call('GET', `/v1/agreements/${agreementId}/terms`, freelancer.token)).body as {
      termsSha256: string;
    };
    const accepted = await api.call('POST', `/v1/agreements/${agreementId}/accept`, freelancer.token, {
      termsSha256: terms.termsSha256,
    });
    expect(accepted.status).toBe(200);
    const { transactionId, blockNumber } = accepted.body as { transactionId: string; blockNumber: string };

    // Auditors may export any proof.
    const started = Date.now();
    const exported = await api.call('GET', `/v1/proofs/${transactionId}`, auditor.token);
    const exportMs = Date.now() - started;
    expect(exported.status).toBe(200);
    const bundle = exported.body as ProofBundle;
    expect(bundle).toMatchObject({ transactionId, block: { number: Number(blockNumber), validationCode: 'VALID' } });

    const verifyStarted = Date.now();
    const verdict = verifyProof(bundle);
    const verifyMs = Date.now() - verifyStarted;
    expect(verdict.failures).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.transaction).toMatchObject({
      id: transactionId,
      creatorMspId: 'TalentOrgMSP',
      chaincode: bundle.chaincode.name,
    });
    // The agreement's key-level policy asks both parties' organisations to endorse; the
    // draft set it, so the bundle carries the draft's signed envelope as its source.
    expect(verdict.transaction?.endorsers).toEqual(expect.arrayContaining(['ClientOrgMSP', 'TalentOrgMSP']));
    const agreementPolicy = bundle.keyPolicies?.find((entry) => entry.key.includes(agreementId));
    expect(agreementPolicy?.setBy.transactionId).toBe(draftTransactionId);
    expect(verdict.endorsementPolicy).toContain('2 of (ClientOrgMSP.member, TalentOrgMSP.member)');
    expect(verdict.signedBlock?.number).toBeGreaterThanOrEqual(Number(blockNumber));
    // The chaincode policy comes from the _lifecycle commit the transaction read, inside the chain.
    const [commit] = bundle.chaincode.definition;
    expect(commit?.block).toBeLessThan(Number(blockNumber));
    expect(verdict.chaincodeDefinition).toMatchObject({
      name: bundle.chaincode.name,
      sequence: bundle.chaincode.sequence,
    });
    expect(verdict.chaincodeDefinition?.committedBy).toContain(`_lifecycle transaction ${commit?.transactionId ?? ''}`);
    expect(verdict.endorsementPolicy).not.toContain('/Channel/Application/Endorsement');
    process.stdout.write(
      `[proofs] export ${exportMs} ms (${JSON.stringify(bundle).length} bytes, ${bundle.headers.length} headers), offline verification ${verifyMs} ms\n`,
    );

    // The proof of the agreement record is the proof of the last transaction that wrote it.
    const recordProof = await api.call('GET', `/v1/proofs/records/agreement/${agreementId}`, auditor.token);
    expect(recordProof.status).toBe(200);
    expect((recordProof.body as ProofBundle).transactionId).toBe(transactionId);
    expect((recordProof.body as ProofBundle).record?.key).toBe(recordKey('agreement', agreementId));
    expect(verifyProof(recordProof.body).valid).toBe(true);
    expect((await api.call('GET', '/v1/proofs/records/agreement/A-missing', auditor.token)).status).toBe(404);

    // A payout lives in its milestone's record: funding writes the instruction, and the
    // proofs of the milestone and of the payout are that write, naming the milestone's key.
    const funded = await api.call('POST', `/v1/agreements/${agreementId}/milestones/m1/fund`, client.token, {});
    expect(funded.status).toBe(200);
    const fundedMilestone = (funded.body as { result: { instructions: { instructionId: string }[] } }).result;
    const [instruction] = fundedMilestone.instructions;
    if (instruction === undefined) throw new Error('funding wrote no settlement instruction');
    const milestoneRecord = (await api.call('GET', `/v1/agreements/${agreementId}`, auditor.token)).body as {
      milestones: { milestoneId: string; updatedTxId: string }[];
    };
    const lastMilestoneWrite = milestoneRecord.milestones.find((each) => each.milestoneId === 'm1')?.updatedTxId;
    for (const [kind, id] of [
      ['milestone', `${agreementId}/m1`],
      ['payout', instruction.instructionId],
    ] as const) {
      const proved = await api.call('GET', `/v1/proofs/records/${kind}/${encodeURIComponent(id)}`, auditor.token);
      expect([kind, proved.status]).toEqual([kind, 200]);
      const provedBundle = proved.body as ProofBundle;
      expect(provedBundle.transactionId).toBe(lastMilestoneWrite);
      expect(provedBundle.record).toMatchObject({ kind, id });
      expect(provedBundle.record?.key).toBe(recordKey(kind, id));
      expect(verifyProof(provedBundle).failures).toEqual([]);
    }
    const unknownPayout = `${agreementId}/m1/refund-9`;
    expect(
      (await api.call('GET', `/v1/proofs/records/payout/${encodeURIComponent(unknownPayout)}`, auditor.token)).status,
    ).toBe(404);
    // The operator's CLI says unknown with exit 1, as for any record.
    const unknownPayoutCli = await cli('export-proof.js', ['payout', unknownPayout], operatorEnv(workDir));
    expect([unknownPayoutCli.code, unknownPayoutCli.stderr]).toEqual([1, expect.stringContaining(unknownPayout)]);

    // The auditor's own grant and a governed parameter are records too.
    const grantId = `AG-proof-${suffix}`;
    const granted = await api.call('POST', '/v1/audit/grants', await api.adminToken('ClientOrg'), {
      grantId,
      auditor: auditor.party,
      kinds: ['agreement'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      purpose: 'proof of a grant',
    });
    expect(granted.status).toBe(201);
    const grantProof = await api.call('GET', `/v1/proofs/records/audit-grant/${grantId}`, auditor.token);
    expect(grantProof.status).toBe(200);
    expect((grantProof.body as ProofBundle).transactionId).toBe(
      (granted.body as { transactionId: string }).transactionId,
    );
    expect((grantProof.body as ProofBundle).record?.key).toBe(recordKey('audit-grant', grantId));
    expect(verifyProof(grantProof.body).failures).toEqual([]);
    const parameterProof = await api.call('GET', '/v1/proofs/records/parameter/platformFeeBps', auditor.token);
    expect(parameterProof.status).toBe(200);
    expect((parameterProof.body as ProofBundle).record).toMatchObject({
      kind: 'parameter',
      id: 'platformFeeBps',
      key: recordKey('parameter', 'platformFeeBps'),
    });
    expect(verifyProof(parameterProof.body).failures).toEqual([]);

    // The creating organisation's admin may export it too; other organisations' admins see no such transaction.
    expect((await api.call('GET', `/v1/proofs/${transactionId}`, await api.adminToken('TalentOrg'))).status).toBe(200);
    const otherAdmin = await api.call('GET', `/v1/proofs/${transactionId}`, await api.adminToken('ClientOrg'));
    expect(otherAdmin.status).toBe(404);
    // Parties have no proofs:read scope; nobody without a token gets in.
    expect((await api.call('GET', `/v1/proofs/${transactionId}`, freelancer.token)).status).toBe(403);
    expect((await api.call('GET', `/v1/proofs/${transactionId}`)).status).toBe(401);
    const unknown = await api.call('GET', `/v1/proofs/${'0'.repeat(64)}`, auditor.token);
    expect(unknown.status).toBe(404);
    const malformed = await api.call('GET', '/v1/proofs/not-a-transaction', auditor.token);
    expect(malformed.status).toBe(422);
    expect(malformed.body).toMatchObject({ field: 'path.transactionId' });

    // The CLIs: export through the same code, verify offline, refuse a tampered file.
    const exportedFile = path.join(workDir, 'proof.json');
    const exportRun = await cli('export-proof.js', [transactionId, '--out', exportedFile], operatorEnv(workDir));
    expect(exportRun.code).toBe(0);
    const fromCli = JSON.parse(readFileSync(exportedFile, 'utf8')) as ProofBundle;
    expect(fromCli.transaction).toEqual(bundle.transaction);
    // Each part is proven by its own block's header and orderer signatures (the unsigned
    // genesis block by block 1): the headers of those blocks and the newest, however long
    // the chain, the same from the API and the CLI.
    const headerByBlock = (proof: ProofBundle) =>
      new Map(
        proof.headers.map((header) => [
          common.BlockHeader.deserializeBinary(Buffer.from(header, 'base64')).getNumber(),
          header,
        ]),
      );
    for (const proof of [bundle, fromCli]) {
      const parts = new Set([
        proof.block.number,
        proof.config.blockNumber,
        ...(proof.transactionConfig === undefined ? [] : [proof.transactionConfig.blockNumber]),
        ...proof.chaincode.definition.map((entry) => entry.block),
        proof.signedBlock.number,
      ]);
      const carried = [...headerByBlock(proof).keys()];
      expect(carried).toEqual(expect.arrayContaining([...parts]));
      expect(carried.filter((number) => !parts.has(number) && !parts.has(number - 1))).toEqual([]);
      expect(proof.anchors?.map((anchor) => anchor.number)).toContain(commit?.block);
    }
    const cliHeaders = headerByBlock(fromCli);
    for (const [number, header] of headerByBlock(bundle))
      if (cliHeaders.has(number)) expect([number, cliHeaders.get(number)]).toEqual([number, header]);
    // A draft writes keys it never read (its milestone, the parties' index entries): the API
    // looks for their policies only where its index saw them change, the CLI in every block
    // below the draft; both find the same.
    const draftProof = await api.call('GET', `/v1/proofs/${draftTransactionId}`, auditor.token);
    expect(draftProof.status).toBe(200);
    const draftFile = path.join(workDir, 'draft.json');
    expect((await cli('export-proof.js', [draftTransactionId, '--out', draftFile], operatorEnv(workDir))).code).toBe(0);
    const draftFromCli = JSON.parse(readFileSync(draftFile, 'utf8')) as ProofBundle;
    expect((draftProof.body as ProofBundle).keyPolicies).toEqual(draftFromCli.keyPolicies);
    expect(verifyProof(draftProof.body).valid).toBe(true);
    // A peer that does not answer is named, with what the proof needed of it.
    const profile = JSON.parse(readFileSync(e2eConfig().paths.connectionProfile, 'utf8')) as {
      organizations: { name: string; peer: { endpoint: string } }[];
    };
    const [operatorOrg] = profile.organizations;
    if (operatorOrg === undefined) throw new Error('the connection profile lists no organisation');
    operatorOrg.peer.endpoint = '127.0.0.1:9';
    const deadPeerProfile = path.join(workDir, 'dead-peer-profile.json');
    writeFileSync(deadPeerProfile, JSON.stringify(profile));
    // By transaction (block reads) and by record (first the chaincode's read of its writer).
    for (const args of [[transactionId], ['agreement', agreementId]]) {
      const deadPeer = await cli('export-proof.js', args, {
        ...operatorEnv(workDir),
        GIGLEDGER_CONNECTION_PROFILE: deadPeerProfile,
      });
      expect([args, deadPeer.code]).toEqual([args, 2]);
      expect(deadPeer.stderr).toContain(
        `the peer of ${operatorOrg.name} at 127.0.0.1:9 did not answer the reads the proof needs (`,
      );
    }
    const valid = await cli('verify-proof.js', [exportedFile]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('VALID transaction proof');
    expect(valid.stdout).toContain(transactionId);
    expect(valid.stdout).toContain(`definition   ${bundle.chaincode.name} ${bundle.chaincode.version}, sequence`);

    // A policy changed inside the definition commit's block is refused, naming that commit.
    const definitionTampered = copy(bundle);
    definitionTampered.chaincode.definition[0]!.data = flipByte(definitionTampered.chaincode.definition[0]!.data, 200);
    const definitionFile = path.join(workDir, 'definition.json');
    writeFileSync(definitionFile, JSON.stringify(definitionTampered));
    const definitionRun = await cli('verify-proof.js', [definitionFile]);
    expect(definitionRun.code).toBe(1);
    expect(definitionRun.stdout).toMatch(/(DATA_HASH|ENCODING) +chaincode\.definition\.0/);

    const tamperedFile = path.join(workDir, 'tampered.json');
    // The configuration block's header, whose own orderer signatures prove it, changed.
    const headerTampered = copy(bundle);
    const configHeader = headerTampered.headers.findIndex(
      (header) =>
        common.BlockHeader.deserializeBinary(Buffer.from(header, 'base64')).getNumber() === bundle.config.blockNumber,
    );
    headerTampered.headers[configHeader] = flipByte(headerTampered.headers[configHeader]!, 40);
    writeFileSync(tamperedFile, JSON.stringify(headerTampered));
    const refused = await cli('verify-proof.js', [tamperedFile]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('INVALID transaction proof');
    expect(refused.stdout).toMatch(/HEADER_CHAIN|ORDERER_SIGNATURE|ENCODING/);
    // Without the definition commit's block's orderer signatures nothing proves its header.
    const unanchored = copy(bundle);
    unanchored.anchors = unanchored.anchors?.filter((anchor) => anchor.number !== commit?.block);
    const unanchoredFailure = verifyProof(unanchored).failures[0];
    expect(unanchoredFailure?.code).toBe('HEADER_CHAIN');
    expect(unanchoredFailure?.message).toContain(`block ${String(commit?.block)} ends a run of headers`);

    // Each kind of tampering is refused with its reason and place.
    const failureOf = (tampered: ProofBundle) => {
      const outcome = verifyProof(tampered);
      expect(outcome.valid).toBe(false);
      return outcome.failures[0]!;
    };
    const lastHeader = copy(bundle);
    const signedIndex = lastHeader.headers.length - 1;
    const signedHeader = common.BlockHeader.deserializeBinary(Buffer.from(lastHeader.headers[signedIndex]!, 'base64'));
    const dataHash = Buffer.from(signedHeader.getDataHash_asU8());
    dataHash[0] = (dataHash[0] ?? 0) ^ 0x01;
    signedHeader.setDataHash(dataHash);
    lastHeader.headers[signedIndex] = Buffer.from(signedHeader.serializeBinary()).toString('base64');
    if (lastHeader.signedBlock.number === lastHeader.block.number)
      lastHeader.block.header = lastHeader.headers[signedIndex]!;
    // The newest header is the signed one: changing it breaks the orderers' signature (or, if it is the transaction's, its data hash).
    expect(failureOf(lastHeader).code).toMatch(/ORDERER_SIGNATURE|DATA_HASH/);

    // Another signed envelope added to the block's data: the data no longer hashes to its header.
    const dataTampered = copy(bundle);
    const data = common.BlockData.deserializeBinary(Buffer.from(dataTampered.block.data, 'base64'));
    const entryCount = data.getDataList().length;
    data.addData(Buffer.from(bundle.transaction.envelope, 'base64'));
    dataTampered.block.data = Buffer.from(data.serializeBinary()).toString('base64');
    expect(failureOf(dataTampered)).toMatchObject({
      code: 'DATA_HASH',
      where: `block ${bundle.block.number} data`,
    });
    // Bytes that are no envelope, as an entry of their own: refused before any hash.
    const notEnvelope = copy(bundle);
    const withJunk = common.BlockData.deserializeBinary(Buffer.from(notEnvelope.block.data, 'base64'));
    withJunk.addData(Buffer.from('an extra transaction'));
    notEnvelope.block.data = Buffer.from(withJunk.serializeBinary()).toString('base64');
    expect(failureOf(notEnvelope)).toMatchObject({
      code: 'ENCODING',
      where: `block ${bundle.block.number} data entry ${String(entryCount)}`,
    });

    // Without TalentOrg's endorsement the agreement key's own policy is not met.
    const unendorsed = failureOf(rewriteEnvelope(bundle, keepEndorsementsOf(['ClientOrgMSP'])));
    expect(unendorsed.code).toBe('ENDORSEMENT_POLICY');
    expect(unendorsed.message).toContain(`the key-level policy of key ${JSON.stringify(agreementPolicy?.key)}`);
    expect(unendorsed.message).toContain(draftTransactionId);

    expect(failureOf(rewriteEnvelope(bundle, forgeEndorsement))).toMatchObject({
      code: 'ENDORSEMENT_SIGNATURE',
      where: `transaction ${transactionId} endorsement 0`,
    });
    expect(
      failureOf(
        rewriteEnvelope(bundle, (envelope) => {
          const signature = Buffer.from(envelope.getSignature_asU8());
          signature[10] = (signature[10] ?? 0) ^ 0x01;
          envelope.setSignature(signature);
        }),
      ),
    ).toMatchObject({ code: 'CLIENT_SIGNATURE' });

    const ordererSignature = copy(bundle);
    const metadata = common.Metadata.deserializeBinary(Buffer.from(ordererSignature.signedBlock.signatures, 'base64'));
    const first = metadata.getSignaturesList()[0]!;
    const signatureBytes = Buffer.from(first.getSignature_asU8());
    signatureBytes[signatureBytes.length - 1] = (signatureBytes[signatureBytes.length - 1] ?? 0) ^ 0x01;
    first.setSignature(signatureBytes);
    ordererSignature.signedBlock.signatures = Buffer.from(metadata.serializeBinary()).toString('base64');
    expect(failureOf(ordererSignature)).toMatchObject({
      code: 'ORDERER_SIGNATURE',
      where: `orderer signature 1 of block ${bundle.signedBlock.number}`,
    });
    // A byte of the signature's DER structure (the SEQUENCE tag) is named as such.
    const derBroken = copy(bundle);
    const derMetadata = common.Metadata.deserializeBinary(Buffer.from(derBroken.signedBlock.signatures, 'base64'));
    const derFirst = derMetadata.getSignaturesList()[0]!;
    const derBytes = Buffer.from(derFirst.getSignature_asU8());
    derBytes[0] = (derBytes[0] ?? 0) ^ 0x01;
    derFirst.setSignature(derBytes);
    derBroken.signedBlock.signatures = Buffer.from(derMetadata.serializeBinary()).toString('base64');
    expect(failureOf(derBroken).message).toBe(
      `orderer signature 1 of block ${bundle.signedBlock.number}: not a DER-encoded ECDSA signature (no SEQUENCE)`,
    );
    const derFile = path.join(workDir, 'der.json');
    writeFileSync(derFile, JSON.stringify(derBroken));
    const derRun = await cli('verify-proof.js', [derFile]);
    expect(derRun.code).toBe(1);
    expect(derRun.stdout).toContain(
      `ORDERER_SIGNATURE  orderer signature 1 of block ${bundle.signedBlock.number}: not a DER-encoded ECDSA signature`,
    );

    // A file that is not a bundle: one line, exit code 2.
    const notBundle = path.join(workDir, 'not-a-bundle.json');
    writeFileSync(notBundle, JSON.stringify({ hello: 'world' }));
    const notBundleRun = await cli('verify-proof.js', [notBundle]);
    expect(notBundleRun.code).toBe(2);
    expect(notBundleRun.stdout).toBe('');
    expect(notBundleRun.stderr.trim().split('\n')).toHaveLength(1);
    expect(notBundleRun.stderr).toContain('is not a proof bundle');

    const substituted = failureOf(substituteCa(bundle, 'TalentOrgMSP', 'ClientOrgMSP'));
    expect(substituted.code).toBe('CERTIFICATE');
    expect(substituted.message).toContain('does not chain to a CA of MSP TalentOrgMSP');

    const notValid = copy(bundle);
    notValid.block.validationCode = 'MVCC_READ_CONFLICT';
    expect(failureOf(notValid)).toMatchObject({ code: 'NOT_VALID' });

    // A saved copy of this bundle lets the unit suite check the verifier without a network.
    if (process.env.GIGLEDGER_PROOF_FIXTURE !== undefined)
      writeFileSync(process.env.GIGLEDGER_PROOF_FIXTURE, `${JSON.stringify(bundle, null, 2)}\n`);
  });
  it('proves the last write of a credential and of a work to an auditor under a grant of that kind, offline and through the CLI', async () => {
    const university = await api.person(`proof-uni-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`proof-holder-${suffix}`, 'TalentOrg', 'freelancer');
    await api.enact([
      {
        type: 'registerIssuer',
        issuer: university.party,
        displayName: 'University of Proofs',
        credentialTypes: ['Certification'],
      },
    ]);
    const issued = await api.call('POST', '/v1/credentials', university.token, {
      subject: holder.party,
      type: 'Certification',
      claims: [{ name: 'title', value: 'Proof Specialist' }],
    });
    expect(issued.status).toBe(201);
    const issuedBody = issued.body as { transactionId: string; result: { credential: { credentialId: string } } };
    const credentialId = issuedBody.result.credential.credentialId;
    const workId = `W-PROOF-${suffix}`;
    const registered = await api.call('POST', '/v1/ip/works', holder.token, {
      workId,
      kind: 'model',
      contentHash: randomBytes(32).toString('hex'),
      title: `Model ${workId}`,
      uri: `https://models.example.com/${workId}`,
      creators: [holder.party],
      requestId: `register-proof-${suffix}`,
    });
    expect(registered.status).toBe(201);
    const workTransaction = (registered.body as { transactionId: string }).transactionId;

    // A bundle carries its whole block, so an auditor needs grants naming `transaction` for
    // the organisations whose transactions are in it (the issuer's AuditOrg, the holder's
    // TalentOrg), besides a grant covering the record itself (TalentOrg's credentials).
    const auditor = await api.person(`proof-record-auditor-${suffix}`, 'AuditOrg', 'auditor');
    const grants = [
      ['TalentOrg', `AG-proof-credential-${suffix}`, ['credential', 'transaction']],
      ['AuditOrg', `AG-proof-issuer-${suffix}`, ['transaction']],
    ] as const;
    for (const [org, grantId, kinds] of grants) {
      const granted = await api.call('POST', '/v1/audit/grants', await api.adminToken(org), {
        grantId,
        auditor: auditor.party,
        kinds,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        purpose: 'record proofs',
      });
      expect([org, granted.status]).toEqual([org, 201]);
    }
    const credentialProof = await api.call('GET', `/v1/proofs/records/credential/${credentialId}`, auditor.token);
    expect(credentialProof.status).toBe(200);
    const credentialBundle = credentialProof.body as ProofBundle;
    expect(credentialBundle.transactionId).toBe(issuedBody.transactionId);
    expect(credentialBundle.record).toMatchObject({ kind: 'credential', id: credentialId });
    expect(credentialBundle.record?.key).toBe(recordKey('credential', credentialId));
    const credentialVerdict = verifyProof(credentialBundle);
    expect(credentialVerdict.failures).toEqual([]);
    expect(credentialVerdict.record?.key).toBe(credentialBundle.record?.key);
    // Without a credential grant the credential's proof is 404, as an unknown one. Works the
    // chaincode shows any member of the channel, but the bundle would show the block's
    // transactions too, so without a transaction grant it is refused.
    const ungranted = await api.person(`proof-ungranted-${suffix}`, 'AuditOrg', 'auditor');
    const hidden = await api.call('GET', `/v1/proofs/records/credential/${credentialId}`, ungranted.token);
    const unknown = await api.call('GET', `/v1/proofs/records/credential/C-none-${suffix}`, ungranted.token);
    expect([hidden.status, unknown.status]).toEqual([404, 404]);
    const uncovered = await api.call('GET', `/v1/proofs/records/work/${workId}`, ungranted.token);
    expect(uncovered.body).toMatchObject({ status: 403, code: 'BLOCK_NOT_COVERED', field: 'path.id' });
    // An admin of another organisation holds no transaction of TalentOrg's, so no bundle of one either.
    const otherAdmin = await api.call('GET', `/v1/proofs/records/work/${workId}`, await api.adminToken('ClientOrg'));
    expect(otherAdmin.status).toBe(403);
    // Naming another key than the one the transaction wrote is refused offline.
    const wrongKey = copy(credentialBundle);
    wrongKey.record = { ...wrongKey.record!, key: `${wrongKey.record!.key}x` };
    expect(verifyProof(wrongKey).failures[0]).toMatchObject({ code: 'RECORD_KEY', where: 'record' });

    // The read log of the credential's organisations names the proof read, under the grant;
    // TalentOrg's admins see their own organisation and grant, AuditOrg's withheld.
    const log = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('TalentOrg'))).body as {
      entries: { principal: { id: string }; operation: string; organisations: string[]; grants: string[] }[];
    };
    const read = log.entries.filter(
      (row) => row.principal.id === `proof-record-auditor-${suffix}` && row.operation.includes('/v1/proofs/records'),
    );
    expect(read[0]?.organisations).toEqual(['TalentOrgMSP']);
    expect(read[0]?.grants).toEqual([`AG-proof-credential-${suffix}`]);

    const workProof = await api.call('GET', `/v1/proofs/records/work/${workId}`, auditor.token);
    expect(workProof.status).toBe(200);
    const workBundle = workProof.body as ProofBundle;
    expect(workBundle.transactionId).toBe(workTransaction);
    expect(workBundle.record).toMatchObject({ kind: 'work', id: workId, namespace: workBundle.chaincode.name });
    // The work's own key, as the chaincode wrote it, not an index entry naming the work beside it.
    expect(workBundle.record?.key).toBe(recordKey('work', workId));
    expect(verifyProof(workBundle).valid).toBe(true);

    // The CLI exports the same record proof as the operator and verifies it offline.
    const file = path.join(workDir, 'work-proof.json');
    const exported = await cli('export-proof.js', ['work', workId, '--out', file], operatorEnv(workDir));
    expect(exported.code).toBe(0);
    const fromCli = JSON.parse(readFileSync(file, 'utf8')) as ProofBundle;
    expect(fromCli.record).toEqual(workBundle.record);
    const verified = await cli('verify-proof.js', [file]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`record       work ${workId}`);
    const unknownCli = await cli('export-proof.js', ['work', `W-none-${suffix}`], operatorEnv(workDir));
    expect(unknownCli.code).toBe(1);
  });
});
