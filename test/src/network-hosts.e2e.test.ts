import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ensureToolchain,
  isRaftLeader,
  LocalNetwork,
  loadNetworkConfig,
  networkConfigFile,
  ordererClientFlags,
  peerAdminEnv,
  peerMaterial,
  repoRoot,
  type NetworkConfig,
  type PeerOrg,
  type Toolchain,
} from '@gigledger/network';
import { e2eConfig } from './support/e2e-environment.js';

// Each organisation's nodes run on their own host: a network namespace this suite
// creates, joined to the others by a veth pair to a bridge in the root namespace. The
// organisations start from the bundles `network:export-org` writes, with the command
// an operator runs on their own machine, so the suite proves the bundles as well.
const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const describeAsRoot = isRoot ? describe : describe.skip;

const offset = e2eConfig().portOffset;
// A private /24 per port offset, so two checkouts running this suite do not collide.
const subnet = `10.231.${Math.floor(offset / 1000) % 256}`;
const tag = `gl${Math.floor(offset / 1000) % 256}`;
const bridge = `${tag}br`;
const orgs = ['ClientOrg', 'TalentOrg', 'AuditOrg'] as const;
type OrgName = (typeof orgs)[number];
const hostOf = (index: number): { ns: string; hostLink: string; nsLink: string; address: string } => ({
  ns: `${tag}-host${index}`,
  hostLink: `${tag}h${index}`,
  nsLink: `${tag}n${index}`,
  address: `${subnet}.${index + 1}`,
});
// AuditOrg is cut off: ClientOrg and TalentOrg still make the MAJORITY of endorsements
// (2 of 3) and their hosts run two of the three Raft orderers.
const cutIndex = orgs.indexOf('AuditOrg');
const root = path.join(repoRoot, '.gigledger', 'e2e-hosts');
const consortiumHome = path.join(root, 'consortium');
const configFile = path.join(root, 'network.config.json');
const homeOf = (org: OrgName): string => path.join(root, org);
const bundleOf = (org: OrgName): string => path.join(root, 'bundles', `${org}.bundle.json`);
const cli = path.join(repoRoot, 'network', 'dist', 'cli', 'main.js');

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The suite's own settings must not leak into a host that reads its bundle.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !['GIGLEDGER_PORT_OFFSET', 'GIGLEDGER_NETWORK_CONFIG', 'GIGLEDGER_HOME'].includes(name),
    ),
  );
  return { ...inherited, ...extra };
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

async function ipQuietly(...args: string[]): Promise<void> {
  await run('ip', args).catch(() => undefined);
}

/** Runs a command on an organisation's host; output and exit code, never throws for a non-zero exit. */
async function onHost(
  index: number,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', hostOf(index).ns, command, ...args], { env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

async function removeHosts(): Promise<void> {
  for (let index = 0; index < orgs.length; index += 1) {
    await ipQuietly('netns', 'del', hostOf(index).ns);
    await ipQuietly('link', 'del', hostOf(index).hostLink);
  }
  await ipQuietly('link', 'del', bridge);
}

/** Stops, by the PIDs their registries recorded, whatever earlier runs of this suite started. */
async function stopRecordedProcesses(toolchain: Toolchain): Promise<void> {
  for (const org of orgs) {
    const home = homeOf(org);
    if (!existsSync(path.join(home, 'network.config.json'))) continue;
    await new LocalNetwork(loadNetworkConfig({ home }, {}), toolchain).down();
  }
}

async function createHosts(): Promise<void> {
  await ip('link', 'add', bridge, 'type', 'bridge');
  await ip('addr', 'add', `${subnet}.254/24`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');
  for (let index = 0; index < orgs.length; index += 1) {
    const host = hostOf(index);
    await ip('netns', 'add', host.ns);
    await ip('link', 'add', host.hostLink, 'type', 'veth', 'peer', 'name', host.nsLink);
    await ip('link', 'set', host.nsLink, 'netns', host.ns);
    await ip('link', 'set', host.hostLink, 'master', bridge);
    await ip('link', 'set', host.hostLink, 'up');
    await ip('netns', 'exec', host.ns, 'ip', 'link', 'set', 'lo', 'up');
    await ip('netns', 'exec', host.ns, 'ip', 'addr', 'add', `${host.address}/24`, 'dev', host.nsLink);
    await ip('netns', 'exec', host.ns, 'ip', 'link', 'set', host.nsLink, 'up');
  }
}

/** network.config.json with each organisation, one orderer each and the chaincode server on its own host. */
function writeSpreadConfig(): void {
  const file = JSON.parse(readFileSync(networkConfigFile, 'utf8')) as {
    ordererOrg: { orderers: Record<string, unknown>[] };
    peerOrgs: { name: string }[];
    chaincode: Record<string, unknown>;
  };
  const addressOf = (name: string): string => hostOf(orgs.indexOf(name as OrgName)).address;
  file.peerOrgs = file.peerOrgs.map((org) => ({ ...org, address: addressOf(org.name) }));
  file.ordererOrg.orderers = file.ordererOrg.orderers.map((node, index) => ({
    ...node,
    org: orgs[index],
    address: hostOf(index).address,
  }));
  file.chaincode = { ...file.chaincode, org: 'ClientOrg', address: addressOf('ClientOrg') };
  writeFileSync(configFile, `${JSON.stringify(file, null, 2)}\n`);
}

async function networkCli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, ...args], {
    env: childEnv({
      GIGLEDGER_HOME: consortiumHome,
      GIGLEDGER_NETWORK_CONFIG: configFile,
      GIGLEDGER_PORT_OFFSET: String(offset),
    }),
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

function orgConfig(org: OrgName): { config: NetworkConfig; peerOrg: PeerOrg } {
  const config = loadNetworkConfig({ home: homeOf(org) }, {});
  const peerOrg = config.peerOrgs.find((candidate) => candidate.name === org);
  if (peerOrg === undefined) throw new Error(`${org} is missing from its own bundle`);
  return { config, peerOrg };
}

/** The peer's height as its own admin reads it on its own host (reachable even when the host is cut off). */
async function heightOn(toolchain: Toolchain, org: OrgName): Promise<number> {
  const { config, peerOrg } = orgConfig(org);
  const result = await onHost(
    orgs.indexOf(org),
    toolchain.bin('peer'),
    ['channel', 'getinfo', '-c', config.channel],
    { ...process.env, ...peerAdminEnv(config, toolchain, peerOrg) },
    30_000,
  );
  const match = /Blockchain info: (\{.*\})/.exec(result.output);
  if (result.code !== 0 || match?.[1] === undefined) throw new Error(`height of ${org}: ${result.output}`);
  return (JSON.parse(match[1]) as { height: number }).height;
}

async function eventually<T>(description: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${description}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * Grants AuditOrg's auditors read access to ClientOrg's agreements as ClientOrg's operator
 * (an admin; the genesis written by ClientOrg's host leaves parameters to governance) on
 * ClientOrg's host, endorsed by ClientOrg's
 * and TalentOrg's peers and ordered through ClientOrg's orderer; returns the peers at
 * which the CLI saw the transaction committed VALID.
 */
async function grantAcrossHosts(toolchain: Toolchain, serial: number): Promise<{ txId: string; validAt: string[] }> {
  const { config, peerOrg } = orgConfig('ClientOrg');
  const orderer = config.ordererOrg.orderers.find((node) => node.org === 'ClientOrg');
  if (orderer === undefined) throw new Error('ClientOrg runs no orderer');
  const endorsers = config.peerOrgs.filter((org) => org.name === 'ClientOrg' || org.name === 'TalentOrg');
  const operatorMsp = path.join(config.paths.identities, 'ClientOrg', 'operator-clientorg', 'msp');
  const grant = {
    grantId: `multi-host-${String(serial)}`,
    auditor: { mspId: 'AuditOrgMSP' },
    kinds: ['agreement'],
    // Within the year a grant may run (auditGrantMaxSeconds).
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    purpose: 'A transaction across the hosts of the organisations',
  };
  const call = { Args: ['audit:grantAuditAccess', JSON.stringify(grant)] };
  const result = await onHost(
    orgs.indexOf('ClientOrg'),
    toolchain.bin('peer'),
    [
      'chaincode',
      'invoke',
      ...ordererClientFlags(config, peerOrg, orderer),
      '-C',
      config.channel,
      '-n',
      config.chaincode.name,
      ...endorsers.flatMap((org) => [
        '--peerAddresses',
        `${org.address}:${org.peer.port}`,
        '--tlsRootCertFiles',
        peerMaterial(config, org).tlsCa,
      ]),
      '-c',
      JSON.stringify(call),
      '--waitForEvent',
    ],
    {
      ...process.env,
      ...peerAdminEnv(config, toolchain, peerOrg),
      CORE_PEER_MSPCONFIGPATH: operatorMsp,
      // INFO makes the CLI report each peer at which the transaction committed.
      FABRIC_LOGGING_SPEC: 'INFO',
    },
  );
  if (result.code !== 0) throw new Error(`invoke failed: ${result.output}`);
  const committed = [...result.output.matchAll(/txid \[([0-9a-f]+)\] committed with status \(VALID\) at (\S+)/g)];
  const txId = committed[0]?.[1];
  if (txId === undefined) throw new Error(`no commit reported: ${result.output}`);
  return { txId, validAt: committed.map((match) => match[2] ?? '').sort() };
}

describeAsRoot('each organisation on its own host (network namespaces)', () => {
  let toolchain: Toolchain;
  const upLogs: Record<string, string> = {};

  beforeAll(async () => {
    ({ toolchain } = await ensureToolchain(() => undefined));
    await stopRecordedProcesses(toolchain);
    await removeHosts();
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    writeSpreadConfig();
    await createHosts();
  }, 600_000);

  afterAll(async () => {
    // Read again: beforeAll may have failed before it set the toolchain.
    await stopRecordedProcesses((await ensureToolchain(() => undefined)).toolchain);
    await removeHosts();
    for (const [org, log] of Object.entries(upLogs)) writeFileSync(path.join(root, `up-${org}.log`), log);
  }, 300_000);

  it('exports one bundle per organisation holding only its own private keys', async () => {
    await networkCli(['generate']);
    for (const org of orgs) {
      const out = await networkCli(['export-org', org, '--out', bundleOf(org)]);
      expect(out).toContain(`--org ${org} --bundle ${org}.bundle.json`);
    }
    const talent = JSON.parse(readFileSync(bundleOf('TalentOrg'), 'utf8')) as {
      org: string;
      files: { path: string }[];
      network: { bundle: { org: string }; peerOrgs: { address: string; peer: { port: number } }[] };
    };
    const keys = talent.files.map((file) => file.path).filter((file) => /(_sk|\.key)$|\/keystore\//.test(file));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(
        /peerOrganizations\/talentorg\.|orderers\/orderer1\.|users\/Admin@orderer\.|users\/User1@chaincode\./,
      );
    }
    // Other organisations' TLS CAs come along so TalentOrg's clients verify their nodes.
    expect(talent.files.map((file) => file.path)).toContain(
      'crypto/peerOrganizations/clientorg.gigledger.local/tlsca/tlsca.clientorg.gigledger.local-cert.pem',
    );
    expect(talent.network.bundle.org).toBe('TalentOrg');
    expect(talent.network.peerOrgs.map((org) => org.address)).toEqual(orgs.map((_, index) => hostOf(index).address));
    expect(talent.network.peerOrgs[0]?.peer.port).toBe(7051 + offset);
  }, 600_000);

  it('starts each organisation from its bundle on its own host and runs a transaction across them', async () => {
    const started = Date.now();
    const results = await Promise.all(
      orgs.map((org, index) =>
        onHost(
          index,
          process.execPath,
          [cli, 'up', '--org', org, '--bundle', bundleOf(org)],
          childEnv({ GIGLEDGER_HOME: homeOf(org) }),
          900_000,
        ),
      ),
    );
    orgs.forEach((org, index) => (upLogs[org] = results[index]?.output ?? ''));
    // Every host's account, since one host failing often shows up as another host's timeout.
    const failed = orgs.filter((_, index) => results[index]?.code !== 0);
    if (failed.length > 0) {
      throw new Error(
        orgs
          .map((org, index) => `up --org ${org} exited with ${String(results[index]?.code)}:\n${upLogs[org] ?? ''}`)
          .join('\n\n'),
      );
    }
    process.stdout.write(`three hosts up in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    // The first organisation's host writes the consortium's genesis once every peer endorses.
    expect(upLogs.ClientOrg).toContain('genesis sealed');

    // Certificates name the address each node is reached at, and only that host's.
    const talentPeer = new X509Certificate(
      readFileSync(peerMaterial(orgConfig('TalentOrg').config, orgConfig('TalentOrg').peerOrg).tlsCert),
    );
    expect(talentPeer.checkIP(hostOf(1).address)).toBe(hostOf(1).address);
    expect(talentPeer.checkIP(hostOf(0).address)).toBeUndefined();
    expect(talentPeer.checkHost('peer0.talentorg.gigledger.local')).toBe('peer0.talentorg.gigledger.local');

    const before = await Promise.all(orgs.map((org) => heightOn(toolchain, org)));
    const { validAt } = await eventually(
      'a transaction endorsed on two hosts',
      () => grantAcrossHosts(toolchain, 251),
      180_000,
    );
    expect(validAt).toEqual([`${hostOf(0).address}:${7051 + offset}`, `${hostOf(1).address}:${8051 + offset}`]);
    const target = Math.max(...before) + 1;
    const heights = await eventually(
      'every peer to commit the block',
      async () => {
        const now = await Promise.all(orgs.map((org) => heightOn(toolchain, org)));
        return now.every((height) => height === now[0] && height >= target) ? now : undefined;
      },
      120_000,
    );
    process.stdout.write(`heights after the cross-host transaction: ${heights.join(', ')}\n`);
  }, 1_200_000);

  it('keeps committing with AuditOrg cut off, and AuditOrg catches up when its link returns', async () => {
    const cut = hostOf(cutIndex);
    const before = await heightOn(toolchain, 'AuditOrg');
    expect(await heightOn(toolchain, 'ClientOrg')).toBe(before);
    const { config } = orgConfig('ClientOrg');
    const leaders = await Promise.all(
      config.ordererOrg.orderers.map(async (node) =>
        (await isRaftLeader(node.operationsPort, config.channel, node.address)) ? node.name : undefined,
      ),
    );
    await ip('link', 'set', cut.hostLink, 'down');
    const cutAt = Date.now();
    try {
      await eventually('a transaction without AuditOrg', () => grantAcrossHosts(toolchain, 252), 180_000);
      const firstCommitSeconds = (Date.now() - cutAt) / 1000;
      await eventually('a second transaction without AuditOrg', () => grantAcrossHosts(toolchain, 253), 120_000);
      const client = await heightOn(toolchain, 'ClientOrg');
      const talent = await heightOn(toolchain, 'TalentOrg');
      const audit = await heightOn(toolchain, 'AuditOrg');
      process.stdout.write(
        `cut off (Raft leader before the cut: ${leaders.filter(Boolean).join(', ') || 'none'}): ` +
          `first commit ${firstCommitSeconds.toFixed(1)}s after the cut; heights ClientOrg ${client}, TalentOrg ${talent}, AuditOrg ${audit}\n`,
      );
      expect(client).toBeGreaterThanOrEqual(before + 2);
      expect(talent).toBe(client);
      expect(audit).toBe(before);
    } finally {
      await ip('link', 'set', cut.hostLink, 'up');
    }
    const back = Date.now();
    const caughtUp = await eventually(
      'AuditOrg to catch up',
      async () => {
        const [client, audit] = await Promise.all([heightOn(toolchain, 'ClientOrg'), heightOn(toolchain, 'AuditOrg')]);
        return audit === client ? audit : undefined;
      },
      300_000,
    );
    process.stdout.write(`AuditOrg caught up to height ${caughtUp} in ${((Date.now() - back) / 1000).toFixed(1)}s\n`);
  }, 900_000);
});
