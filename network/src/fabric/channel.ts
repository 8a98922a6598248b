import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { NetworkConfig, OrdererNode, PeerOrg } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import {
  genesisBlockFile,
  ordererAdmin,
  ordererMaterial,
  ordererOrgMspDir,
  ordererTlsCa,
  orgAdmin,
  orgMspDir,
  peerMaterial,
} from './layout.js';
import { runCommand } from './run-command.js';

const profileName = 'GigLedgerChannel';

function signature(rule: string): { Type: string; Rule: string } {
  return { Type: 'Signature', Rule: rule };
}

function implicitMeta(rule: string): { Type: string; Rule: string } {
  return { Type: 'ImplicitMeta', Rule: rule };
}

export function peerOrgSection(config: NetworkConfig, org: PeerOrg): unknown {
  const msp = org.mspId;
  return {
    Name: org.name,
    ID: msp,
    MSPDir: orgMspDir(config, org),
    Policies: {
      Readers: signature(`OR('${msp}.admin', '${msp}.peer', '${msp}.client')`),
      Writers: signature(`OR('${msp}.admin', '${msp}.client')`),
      Admins: signature(`OR('${msp}.admin')`),
      Endorsement: signature(`OR('${msp}.peer')`),
    },
    // Anchor peers let the organisations' peers find each other through gossip,
    // which private data dissemination and the gateway's endorser discovery rely on.
    AnchorPeers: [{ Host: org.address, Port: org.peer.port }],
  };
}

function ordererOrgSection(config: NetworkConfig): unknown {
  const msp = config.ordererOrg.mspId;
  return {
    Name: config.ordererOrg.name,
    ID: msp,
    MSPDir: ordererOrgMspDir(config),
    Policies: {
      Readers: signature(`OR('${msp}.member')`),
      Writers: signature(`OR('${msp}.member')`),
      Admins: signature(`OR('${msp}.admin')`),
    },
    OrdererEndpoints: config.ordererOrg.orderers.map((node) => `${node.address}:${node.port}`),
  };
}

/** The configtxgen input describing the application channel: three orgs, Raft ordering, v3 capabilities. */
export function channelSpec(config: NetworkConfig): unknown {
  const channelPolicies = {
    Readers: implicitMeta('ANY Readers'),
    Writers: implicitMeta('ANY Writers'),
    Admins: implicitMeta('MAJORITY Admins'),
  };
  return {
    Profiles: {
      [profileName]: {
        Policies: channelPolicies,
        Capabilities: { V3_0: true },
        Orderer: {
          OrdererType: 'etcdraft',
          BatchTimeout: config.batchTimeout,
          BatchSize: { MaxMessageCount: 500, AbsoluteMaxBytes: '10 MB', PreferredMaxBytes: '2 MB' },
          EtcdRaft: {
            Consenters: config.ordererOrg.orderers.map((node) => {
              const material = ordererMaterial(config, node);
              return {
                Host: node.address,
                Port: node.port,
                ClientTLSCert: material.tlsCert,
                ServerTLSCert: material.tlsCert,
              };
            }),
            Options: {
              TickInterval: '250ms',
              ElectionTick: 10,
              HeartbeatTick: 1,
              MaxInflightBlocks: 5,
              SnapshotIntervalSize: '16 MB',
            },
          },
          Organizations: [ordererOrgSection(config)],
          Policies: { ...channelPolicies, BlockValidation: implicitMeta('ANY Writers') },
          Capabilities: { V2_0: true },
        },
        Application: {
          // Organisations added later reach the channel by configuration update, not genesis.
          Organizations: config.peerOrgs
            .filter((org) => org.admission === undefined)
            .map((org) => peerOrgSection(config, org)),
          Policies: {
            ...channelPolicies,
            LifecycleEndorsement: implicitMeta('MAJORITY Endorsement'),
            Endorsement: implicitMeta('MAJORITY Endorsement'),
          },
          Capabilities: { V2_5: true },
        },
      },
    },
  };
}

export function isGenesisBlockGenerated(config: NetworkConfig): boolean {
  return existsSync(genesisBlockFile(config));
}

export async function generateGenesisBlock(config: NetworkConfig, toolchain: Toolchain): Promise<void> {
  const configDir = path.join(config.paths.config, 'configtx');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(config.paths.channelArtifacts, { recursive: true });
  writeFileSync(path.join(configDir, 'configtx.yaml'), stringify(channelSpec(config)));
  await runCommand(
    toolchain.bin('configtxgen'),
    [
      '-profile',
      profileName,
      '-channelID',
      config.channel,
      '-outputBlock',
      genesisBlockFile(config),
      '-configPath',
      configDir,
    ],
    { env: { ...process.env, FABRIC_LOGGING_SPEC: 'WARNING' } },
  );
}

function osnadminArgs(config: NetworkConfig, node: OrdererNode): string[] {
  const admin = ordererAdmin(config);
  return [
    '-o',
    `${node.address}:${node.adminPort}`,
    '--ca-file',
    ordererTlsCa(config),
    '--client-cert',
    admin.tlsCert,
    '--client-key',
    admin.tlsKey,
  ];
}

/** What the channel participation API reports of the channel on one orderer. */
export interface OrdererChannelInfo {
  readonly name: string;
  readonly status: string;
  readonly consensusRelation: string;
  readonly height: number;
}

/** The channel as one orderer sees it, or undefined when it has not joined. */
export async function ordererChannelInfo(
  config: NetworkConfig,
  toolchain: Toolchain,
  node: OrdererNode,
): Promise<OrdererChannelInfo | undefined> {
  const { stdout } = await runCommand(toolchain.bin('osnadmin'), ['channel', 'list', ...osnadminArgs(config, node)]);
  const listing = parseOsnadminBody(stdout) as { channels?: { name: string }[] | null };
  if (!(listing.channels ?? []).some((channel) => channel.name === config.channel)) return undefined;
  const detail = await runCommand(toolchain.bin('osnadmin'), [
    'channel',
    'list',
    '--channelID',
    config.channel,
    ...osnadminArgs(config, node),
  ]);
  return parseOsnadminBody(detail.stdout) as OrdererChannelInfo;
}

/** osnadmin prints `Status: 200` and then the JSON body. */
function parseOsnadminBody(stdout: string): unknown {
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`unexpected osnadmin output: ${stdout.trim()}`);
  return JSON.parse(stdout.slice(start));
}

export async function joinOrderer(config: NetworkConfig, toolchain: Toolchain, node: OrdererNode): Promise<void> {
  const { stdout } = await runCommand(toolchain.bin('osnadmin'), [
    'channel',
    'join',
    '--channelID',
    config.channel,
    '--config-block',
    genesisBlockFile(config),
    ...osnadminArgs(config, node),
  ]);
  if (!/Status: 201/.test(stdout)) throw new Error(`orderer ${node.name} did not join ${config.channel}: ${stdout}`);
}

/** Environment that makes the stock `peer` CLI act as an organisation's admin against its peer. */
export function peerAdminEnv(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Record<string, string> {
  const admin = orgAdmin(config, org);
  const peer = peerMaterial(config, org);
  return {
    FABRIC_CFG_PATH: toolchain.configDir,
    FABRIC_LOGGING_SPEC: 'WARNING',
    CORE_PEER_LOCALMSPID: org.mspId,
    CORE_PEER_MSPCONFIGPATH: admin.mspDir,
    CORE_PEER_ADDRESS: `${org.address}:${org.peer.port}`,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: peer.tlsCa,
    CORE_PEER_TLS_CLIENTAUTHREQUIRED: 'true',
    CORE_PEER_TLS_CLIENTCERT_FILE: admin.tlsCert,
    CORE_PEER_TLS_CLIENTKEY_FILE: admin.tlsKey,
  };
}

/** Flags that point the `peer` CLI at an orderer with mutual TLS, as `client` (its TLS certificate and key). */
export function ordererTlsFlags(
  config: NetworkConfig,
  node: OrdererNode,
  client: { readonly tlsCert: string; readonly tlsKey: string },
): string[] {
  return [
    '-o',
    `${node.address}:${node.port}`,
    '--tls',
    '--cafile',
    ordererTlsCa(config),
    '--clientauth',
    '--certfile',
    client.tlsCert,
    '--keyfile',
    client.tlsKey,
  ];
}

/** Flags that point the `peer` CLI at an orderer with mutual TLS, as `org`'s admin. */
export function ordererClientFlags(config: NetworkConfig, org: PeerOrg, node: OrdererNode): string[] {
  return ordererTlsFlags(config, node, orgAdmin(config, org));
}

/** `peer channel update` arguments that submit a configuration update envelope with `ordererFlags`. */
export function channelUpdateArgs(config: NetworkConfig, envelope: string, ordererFlags: readonly string[]): string[] {
  return ['channel', 'update', '-f', envelope, '-c', config.channel, ...ordererFlags, '--connTimeout', '10s'];
}

export async function peerChannels(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<string[]> {
  const { stdout } = await runCommand(toolchain.bin('peer'), ['channel', 'list'], {
    env: { ...process.env, ...peerAdminEnv(config, toolchain, org) },
  });
  const marker = 'Channels peers has joined:';
  const index = stdout.indexOf(marker);
  return index < 0
    ? []
    : stdout
        .slice(index + marker.length)
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
}

export async function joinPeer(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<void> {
  await runCommand(toolchain.bin('peer'), ['channel', 'join', '-b', genesisBlockFile(config)], {
    env: { ...process.env, ...peerAdminEnv(config, toolchain, org) },
  });
}

/** The peer's ledger height on the channel. */
export async function peerHeight(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<number> {
  const { stdout } = await runCommand(toolchain.bin('peer'), ['channel', 'getinfo', '-c', config.channel], {
    env: { ...process.env, ...peerAdminEnv(config, toolchain, org) },
  });
  const match = /Blockchain info: (\{.*\})/.exec(stdout);
  if (match?.[1] === undefined) throw new Error(`unexpected peer channel getinfo output: ${stdout.trim()}`);
  return (JSON.parse(match[1]) as { height: number }).height;
}
