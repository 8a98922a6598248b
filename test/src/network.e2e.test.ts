import { randomBytes } from 'node:crypto';
import { ordererChannelInfo, peerHeight, queryCommitted } from '@gigledger/network';
import { RefusedError } from '@gigledger/gateway';
import { openE2eContext, openProposal, type E2eContext } from './support/ledger.js';

async function eventually<T>(description: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the local Fabric network', () => {
  let context: E2eContext;

  beforeAll(() => {
    context = openE2eContext();
  });

  afterAll(() => {
    context.close();
  });

  async function peerHeights(): Promise<number[]> {
    return Promise.all(
      context.config.peerOrgs.map((org) => peerHeight(context.config, context.network.toolchain, org)),
    );
  }

  async function allPeersAt(minimum: number): Promise<number> {
    return eventually(`all peers at height ${minimum} or more, and equal`, async () => {
      const heights = await peerHeights();
      const [first] = heights;
      return first !== undefined && first >= minimum && heights.every((height) => height === first) ? first : undefined;
    });
  }

  it('lets an identity of each organisation submit and evaluate, and every peer reaches the same height', async () => {
    const governors = await context.governors();
    const proposalId = await openProposal(governors[0]!);
    let lastBlock = 0n;
    for (const [index, governor] of governors.entries()) {
      const submitted = await governor.governance.vote({ proposalId, choice: 'abstain' });
      expect(submitted.result.votes.map((vote) => vote.mspId)).toContain(governor.identity.mspId);
      expect(submitted.transactionId).toMatch(/^[0-9a-f]{64}$/);
      lastBlock = submitted.blockNumber;

      const read = await governor.governance.getProposal({ proposalId });
      expect(read.votes).toHaveLength(index + 1);
      expect(read.proposal).toEqual(submitted.result.proposal);
    }
    const height = await allPeersAt(Number(lastBlock) + 1);
    expect(height).toBe(Number(lastBlock) + 1);
  });

  it('echoes the role and userId of an identity enrolled through the organisation CA', async () => {
    const freelancer = await context.enroll('TalentOrg', 'freelancer', 'tara');

    const caller = await freelancer.system.whoAmI();

    expect(caller.mspId).toBe('TalentOrgMSP');
    expect(caller.role).toBe('freelancer');
    expect(caller.userId).toMatch(/^tara-[0-9a-f]{8}$/);
    expect(caller.id).toContain(`CN=${caller.userId ?? ''}`);
  });

  it('describes what each transaction takes and returns to a stock Fabric client (GetMetadata)', async () => {
    const auditor = await context.enroll('AuditOrg', 'auditor', 'meta');
    const system = auditor.gateway
      .getNetwork(context.config.channel)
      .getContract(context.config.chaincode.name, 'org.hyperledger.fabric');

    const metadata = JSON.parse(Buffer.from(await system.evaluateTransaction('GetMetadata')).toString('utf8')) as {
      contracts: Record<
        string,
        {
          transactions: {
            name: string;
            parameters?: { description?: string }[];
            requestSchema?: { required?: string[] };
            resultSchema?: { title?: string };
          }[];
        }
      >;
    };

    const fund = metadata.contracts.agreement?.transactions.find((transaction) => transaction.name === 'fundMilestone');
    expect(fund?.parameters?.[0]?.description).toContain('agreement.fundMilestone.Request');
    expect(fund?.requestSchema?.required).toEqual(expect.arrayContaining(['agreementId', 'milestoneId']));
    expect(fund?.resultSchema?.title).toBe('agreement.fundMilestone.Result');
    expect(Object.keys(metadata.contracts)).toEqual(expect.arrayContaining(['agreement', 'credential', 'governance']));
  });

  it('lets no admin alone change a rule once genesis is sealed, and no one without the admin role at all', async () => {
    const genesis = await (await context.enroll('ClientOrg', 'client')).governance.getGenesis();
    expect(genesis.sealed).toBe(true);
    for (const org of context.config.peerOrgs) {
      const admin = await context.enroll(org.name, 'admin');
      const before = await admin.parameters.getParameter({ name: 'platformFeeBps' });
      await expect(admin.parameters.setParameter({ name: 'platformFeeBps', value: 999 })).rejects.toMatchObject({
        name: 'RefusedError',
        code: 'GOVERNANCE_REQUIRED',
      });
      await expect(
        admin.credentials.registerIssuer({
          requestId: `net-${randomBytes(6).toString('hex')}`,
          issuer: { mspId: org.mspId, userId: 'self-appointed' },
          displayName: 'Self-appointed issuer',
          credentialTypes: ['KYC'],
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE_REQUIRED' });
      await expect(
        admin.governance.applyGenesisActions({
          actions: [{ type: 'setMemberRights', mspId: org.mspId, voting: true, veto: true }],
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE_REQUIRED' });
      expect(await admin.parameters.getParameter({ name: 'platformFeeBps' })).toEqual(before);
    }
    const client = await context.enroll('ClientOrg', 'client');
    await expect(client.parameters.setParameter({ name: 'platformFeeBps', value: 999 })).rejects.toBeInstanceOf(
      RefusedError,
    );
    await expect(client.parameters.setParameter({ name: 'platformFeeBps', value: 999 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('redeploys the chaincode at the next sequence and keeps the state written before', async () => {
    const admin = await context.enroll('AuditOrg', 'admin');
    const proposalId = await openProposal((await context.governors())[0]!);
    const written = (await admin.governance.getProposal({ proposalId })).proposal;
    const [firstOrg] = context.config.peerOrgs;
    const before = await queryCommitted(context.config, context.network.toolchain, firstOrg!);
    const versionBefore = await admin.system.version();

    const { deployment, changed } = await context.network.deploy({ force: true });

    expect(changed).toBe(true);
    expect(deployment.sequence).toBe((before?.sequence ?? 0) + 1);
    for (const org of context.config.peerOrgs) {
      expect((await queryCommitted(context.config, context.network.toolchain, org))?.sequence).toBe(
        deployment.sequence,
      );
    }
    const versionAfter = await eventually('the new chaincode package to answer', async () => {
      const version = await admin.system.version();
      return version.packageId === deployment.packageId ? version : undefined;
    });
    expect(versionAfter.packageId).not.toBe(versionBefore.packageId);
    expect((await admin.governance.getProposal({ proposalId })).proposal).toEqual(written);
  });
});

describe('with one of three orderers stopped', () => {
  let context: E2eContext;

  beforeAll(() => {
    context = openE2eContext();
  });

  afterAll(async () => {
    // Leave the network whole for the suites that follow, even if a test failed midway.
    const stopped = context.network.registry.find('orderer1');
    if (stopped === undefined) await context.network.startProcess('orderer1');
    context.close();
  });

  it('still commits transactions, and the stopped orderer catches up after it restarts', async () => {
    const { config, network } = context;
    const [governor] = await context.governors();
    const proposalId = await openProposal(governor!, 'Orderer check');
    const [orderer0, orderer1] = config.ordererOrg.orderers;

    await network.stopProcess('orderer1');
    expect(network.registry.find('orderer1')).toBeUndefined();
    await network.waitForRaftLeader();

    const committed: bigint[] = [];
    for (const choice of ['yes', 'no', 'abstain'] as const) {
      committed.push((await governor!.governance.vote({ proposalId, choice })).blockNumber);
    }
    expect((await governor!.governance.getProposal({ proposalId })).votes).toMatchObject([{ choice: 'abstain' }]);
    const liveHeight = (await ordererChannelInfo(config, network.toolchain, orderer0!))?.height ?? 0;
    expect(liveHeight).toBeGreaterThan(Number(committed.at(-1)));

    await network.startProcess('orderer1');
    const caughtUp = await eventually(
      'orderer1 to catch up with the blocks committed while it was down',
      async () => {
        const info = await ordererChannelInfo(config, network.toolchain, orderer1!);
        return info !== undefined && info.height >= liveHeight ? info : undefined;
      },
      60_000,
    );
    expect(caughtUp.height).toBeGreaterThanOrEqual(liveHeight);
    expect(caughtUp.status).toBe('active');
  });
});
