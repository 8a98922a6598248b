import path from 'node:path';
import type { NetworkConfig, PeerOrg } from '../config.js';
import { majorityOf, type ChannelConfigJson, type MemberRightsDecision } from './add-org.js';

/** Files of one removal, kept for the operator under `<home>/channel/remove-<Org>/`. */
export function removalDir(config: NetworkConfig, org: PeerOrg): string {
  return path.join(config.paths.channelArtifacts, `remove-${org.name}`);
}

/**
 * The channel configuration without application organisation `name`: its group (MSP,
 * policies, anchor peers) goes, so its certificates no longer satisfy any channel policy.
 *
 * @throws Error when the channel has no such organisation.
 */
export function withoutOrg(current: ChannelConfigJson, name: string): ChannelConfigJson {
  if (!(name in current.channel_group.groups.Application.groups)) {
    throw new Error(`${name} is not an organisation of the channel`);
  }
  const updated = structuredClone(current);
  updated.channel_group.groups.Application.groups = Object.fromEntries(
    Object.entries(updated.channel_group.groups.Application.groups).filter(([group]) => group !== name),
  );
  return updated;
}

/**
 * The admins who sign a removal. Removing a group under `Application` is governed by
 * `/Channel/Application/Admins`, `MAJORITY Admins` of the organisations on the channel
 * before the change, the leaving one included (3 of 4). By default the first such
 * majority of the organisations that stay signs; the leaving organisation signs only
 * when the others alone are too few (2 organisations). `names` picks them instead
 * (names or MSP ids), in signing order.
 *
 * @throws Error when a name is no organisation of the channel.
 */
export function chooseRemovalSigners(
  members: readonly PeerOrg[],
  leaving: PeerOrg,
  names?: readonly string[],
): PeerOrg[] {
  if (names !== undefined) {
    return names.map((name) => {
      const org = members.find((candidate) => candidate.name === name || candidate.mspId === name);
      if (org === undefined) throw new Error(`${name} is not an organisation of the channel`);
      return org;
    });
  }
  const needed = majorityOf(members).length;
  const staying = members.filter((org) => org.name !== leaving.name);
  return staying.length >= needed ? staying.slice(0, needed) : [...staying, leaving];
}

/**
 * Governance decided a removal: a `setMemberRights` action takes every right from the
 * organisation (voting and veto false), which also took it off the governance member list.
 */
export const memberRemoval: MemberRightsDecision = {
  verb: 'removes',
  rights: (action) => action.voting === false && action.veto === false,
  missing: (mspId) => `does not remove ${mspId} (setMemberRights with voting and veto false)`,
};
