import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { NetworkConfig, OrdererNode, PeerOrg } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { channelUpdateArgs, ordererClientFlags, peerAdminEnv, peerOrgSection } from './channel.js';
import { cryptoSpec } from './crypto.js';
import { queryAsOperator } from './bootstrap.js';
import { runCommand } from './run-command.js';

/**
 * A step of adding (or removing, `remove-org.ts`) an organisation failed. `step` names it as the command reports it;
 * the message carries the reason (the orderer's or peer's own words).
 */
export class OrgAdmissionError extends Error {
  readonly step: string;

  constructor(step: string, reason: string) {
    super(`${step} failed: ${reason}`);
    this.name = 'OrgAdmissionError';
    this.step = step;
  }
}

/** Runs one named step; any error it throws becomes an {@link OrgAdmissionError} naming the step. */
export async function admissionStep<Result>(
  step: string,
  report: (line: string) => void,
  run: () => Promise<Result>,
): Promise<Result> {
  report(`  ${step}`);
  try {
    return await run();
  } catch (error) {
    if (error instanceof OrgAdmissionError) throw error;
    throw new OrgAdmissionError(step, error instanceof Error ? error.message : String(error));
  }
}

/**
 * The smallest set of organisations whose admins satisfy `MAJORITY Admins` of the
 * channel's application organisations: more than half of them (2 of 3, 3 of 4, 3 of 5).
 */
export function majorityOf<Item>(members: readonly Item[]): Item[] {
  return members.slice(0, Math.floor(members.length / 2) + 1);
}

/** Extends the network's certificates with the new organisation's (cryptogen extend keeps every existing key). */
export async function extendCrypto(config: NetworkConfig, toolchain: Toolchain): Promise<void> {
  mkdirSync(config.paths.config, { recursive: true });
  const specFile = path.join(config.paths.config, 'crypto-config.yaml');
  writeFileSync(specFile, stringify(cryptoSpec(config)));
  await runCommand(toolchain.bin('cryptogen'), ['extend', `--config=${specFile}`, `--input=${config.paths.crypto}`]);
}

/** Files of one admission, kept for the operator under `<home>/channel/add-<Org>/`. */
export function admissionDir(config: NetworkConfig, org: PeerOrg): string {
  return path.join(config.paths.channelArtifacts, `add-${org.name}`);
}

/**
 * The new organisation's channel group (MSP, policies, anchor peer) as configtxgen
 * prints it, from the same section the genesis block uses for the founding organisations.
 */
export async function printOrgGroup(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<unknown> {
  const dir = path.join(admissionDir(config, org), 'configtx');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'configtx.yaml'), stringify({ Organizations: [peerOrgSection(config, org)] }));
  const { stdout } = await runCommand(toolchain.bin('configtxgen'), ['-printOrg', org.name, '-configPath', dir], {
    env: { ...process.env, FABRIC_LOGGING_SPEC: 'WARNING' },
  });
  return JSON.parse(stdout) as unknown;
}

/** A decoded channel configuration (`common.Config` as configtxlator prints it). */
export interface ChannelConfigJson {
  channel_group: {
    groups: { Application: { groups: Record<string, unknown> } };
  };
}

/** The channel's current configuration, fetched from an orderer by `org`'s admin and decoded. */
export async function fetchChannelConfig(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  orderer: OrdererNode,
  dir: string,
): Promise<ChannelConfigJson> {
  mkdirSync(dir, { recursive: true });
  const block = path.join(dir, 'config.block');
  await runCommand(
    toolchain.bin('peer'),
    ['channel', 'fetch', 'config', block, '-c', config.channel, ...ordererClientFlags(config, org, orderer)],
    { env: { ...process.env, ...peerAdminEnv(config, toolchain, org) } },
  );
  const decoded = path.join(dir, 'config.block.json');
  await configtxlator(toolchain, ['proto_decode', '--input', block, '--type', 'common.Block', '--output', decoded]);
  const parsed = JSON.parse(readFileSync(decoded, 'utf8')) as {
    data: { data: { payload: { data: { config: ChannelConfigJson } } }[] };
  };
  const envelope = parsed.data.data[0];
  if (envelope === undefined) throw new Error('the channel configuration block holds no transaction');
  return envelope.payload.data.config;
}

/** Names of the channel's application organisations (the groups under Application). */
export function applicationOrgNames(channelConfig: ChannelConfigJson): string[] {
  return Object.keys(channelConfig.channel_group.groups.Application.groups);
}

/**
 * Writes the configuration update envelope that adds `orgGroup` as application
 * organisation `org.name` (see {@link buildUpdateEnvelope}).
 *
 * @returns the envelope file (`common.Envelope`, binary).
 */
export async function buildAdditionEnvelope(
  config: NetworkConfig,
  toolchain: Toolchain,
  current: ChannelConfigJson,
  org: PeerOrg,
  orgGroup: unknown,
  dir: string,
): Promise<string> {
  const updated = structuredClone(current);
  updated.channel_group.groups.Application.groups[org.name] = orgGroup;
  return buildUpdateEnvelope(config, toolchain, current, updated, dir);
}

/**
 * Writes the configuration update envelope that turns `current` into `updated`:
 * configtxlator computes the difference (`compute_update`) and the envelope (header
 * type `CONFIG_UPDATE`) wraps it for signing. Intermediate files stay in `dir`.
 *
 * @returns the envelope file (`common.Envelope`, binary).
 */
export async function buildUpdateEnvelope(
  config: NetworkConfig,
  toolchain: Toolchain,
  current: ChannelConfigJson,
  updated: ChannelConfigJson,
  dir: string,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('original.json'), JSON.stringify(current));
  writeFileSync(file('updated.json'), JSON.stringify(updated));
  for (const name of ['original', 'updated']) {
    await configtxlator(toolchain, [
      'proto_encode',
      '--input',
      file(`${name}.json`),
      '--type',
      'common.Config',
      '--output',
      file(`${name}.pb`),
    ]);
  }
  await configtxlator(toolchain, [
    'compute_update',
    '--channel_id',
    config.channel,
    '--original',
    file('original.pb'),
    '--updated',
    file('updated.pb'),
    '--output',
    file('update.pb'),
  ]);
  await configtxlator(toolchain, [
    'proto_decode',
    '--input',
    file('update.pb'),
    '--type',
    'common.ConfigUpdate',
    '--output',
    file('update.json'),
  ]);
  const update = JSON.parse(readFileSync(file('update.json'), 'utf8')) as unknown;
  // HeaderType 2 is CONFIG_UPDATE.
  const envelope = {
    payload: { header: { channel_header: { channel_id: config.channel, type: 2 } }, data: { config_update: update } },
  };
  writeFileSync(file('update-envelope.json'), JSON.stringify(envelope));
  await configtxlator(toolchain, [
    'proto_encode',
    '--input',
    file('update-envelope.json'),
    '--type',
    'common.Envelope',
    '--output',
    file('update-envelope.pb'),
  ]);
  return file('update-envelope.pb');
}

/**
 * Has each signer's admin sign the envelope, the last one submitting it to the
 * orderer (`peer channel update` adds its own signature). The orderer checks the
 * signatures against the channel's admin policy and applies the update whole or not at all.
 *
 * @throws OrgAdmissionError naming the signature or the submission that failed.
 */
export async function signAndSubmit(
  config: NetworkConfig,
  toolchain: Toolchain,
  envelope: string,
  signers: readonly PeerOrg[],
  orderer: OrdererNode,
  report: (line: string) => void,
): Promise<void> {
  const submitter = signers.at(-1);
  if (submitter === undefined)
    throw new OrgAdmissionError('collect signatures', 'no organisation admin was named to sign');
  for (const signer of signers.slice(0, -1)) {
    await admissionStep(`sign the channel configuration update as ${signer.mspId} admin`, report, () =>
      runCommand(toolchain.bin('peer'), ['channel', 'signconfigtx', '-f', envelope], {
        env: { ...process.env, ...peerAdminEnv(config, toolchain, signer) },
      }),
    );
  }
  await admissionStep(
    `submit the channel configuration update as ${submitter.mspId} admin to orderer ${orderer.name}`,
    report,
    () =>
      runCommand(
        toolchain.bin('peer'),
        channelUpdateArgs(config, envelope, ordererClientFlags(config, submitter, orderer)),
        { env: { ...process.env, ...peerAdminEnv(config, toolchain, submitter) } },
      ),
  );
}

/** Governance admitted an organisation: a `setMemberRights` action offers it a voting or veto right. */
export const memberAdmission: MemberRightsDecision = {
  verb: 'admits',
  rights: (action) => action.voting === true || action.veto === true,
  missing: (mspId) => `gives ${mspId} no member rights (setMemberRights)`,
};

/** The `setMemberRights` decision a membership change needs, and how its absence is told. */
export interface MemberRightsDecision {
  /** What an executed proposal does to a member: `admits`, `removes`. */
  readonly verb: string;
  /** Whether an action's rights are the ones the change needs. */
  readonly rights: (action: { voting?: boolean; veto?: boolean }) => boolean;
  /** The end of the refusal when no action for `mspId` fits, after `proposal <id> `. */
  readonly missing: (mspId: string) => string;
}

/**
 * Checks that a governance proposal decided a membership change: it was executed and
 * holds a `setMemberRights` action for `mspId` whose rights `decision` accepts. Read by
 * `reader`'s operator.
 *
 * @throws Error when the proposal is unknown, not executed, or holds no such action.
 */
export async function checkMemberRightsProposal(
  config: NetworkConfig,
  toolchain: Toolchain,
  reader: PeerOrg,
  mspId: string,
  proposalId: string,
  decision: MemberRightsDecision,
): Promise<void> {
  const view = await readProposal(config, toolchain, reader, proposalId);
  if (view.phase !== 'executed') {
    throw new Error(
      `proposal ${proposalId} is ${view.phase}, not executed; only an executed proposal ${decision.verb} a member`,
    );
  }
  const decided = view.proposal.actions.some(
    (action) => action.type === 'setMemberRights' && action.mspId === mspId && decision.rights(action),
  );
  if (!decided) throw new Error(`proposal ${proposalId} ${decision.missing(mspId)}`);
}

/** A governance proposal as `governance:getProposal` answers, the fields membership changes read. */
export interface ProposalView {
  readonly phase: string;
  readonly proposal: { actions: { type: string; mspId?: string; voting?: boolean; veto?: boolean }[] };
}

/** Reads a governance proposal through `reader`'s peer as its operator (`peer chaincode query`). */
export async function readProposal(
  config: NetworkConfig,
  toolchain: Toolchain,
  reader: PeerOrg,
  proposalId: string,
): Promise<ProposalView> {
  return (await queryAsOperator(config, toolchain, reader, [
    'governance:getProposal',
    JSON.stringify({ proposalId }),
  ])) as ProposalView;
}

function configtxlator(toolchain: Toolchain, args: string[]): Promise<unknown> {
  return runCommand(toolchain.bin('configtxlator'), args);
}
