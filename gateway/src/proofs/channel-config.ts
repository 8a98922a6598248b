import { X509Certificate } from 'node:crypto';
import { common, msp } from '@hyperledger/fabric-protos';
import { readRevocationList, type RevocationList } from './revocation.js';

/** One organisation's MSP as the channel configuration defines it. */
export interface ChannelMsp {
  readonly mspId: string;
  /** The config group path, e.g. `/Channel/Application/ClientOrg`. */
  readonly group: string;
  readonly kind: 'application' | 'orderer';
  readonly roots: readonly X509Certificate[];
  readonly intermediates: readonly X509Certificate[];
  readonly admins: readonly X509Certificate[];
  /** The MSP's certificate revocation lists, each checked to be signed by one of its CAs. */
  readonly revocationLists: readonly RevocationList[];
  /** Organisational unit of each node role when NodeOUs are enabled. */
  readonly nodeOus?: { client?: string; peer?: string; admin?: string; orderer?: string };
}

/** What a verifier reads from the channel configuration. */
export interface ChannelConfig {
  readonly channel: string;
  readonly sequence: number;
  readonly msps: readonly ChannelMsp[];
  /** Policies by full path (`/Channel/Application/Endorsement`, `/Channel/Application/ClientOrg/Endorsement`, …). */
  readonly policies: ReadonlyMap<string, common.Policy>;
  /** Org group paths under each of `/Channel/Application` and `/Channel/Orderer`. */
  readonly orgGroups: ReadonlyMap<string, readonly string[]>;
}

/** The part of google-protobuf's `jspb.Map` used here (its typings are not installed). */
interface ProtoMap<T> {
  get(key: string): T | undefined;
  forEach(callback: (value: T, key: string) => void): void;
}

const valuesOf = (group: common.ConfigGroup) => group.getValuesMap() as unknown as ProtoMap<common.ConfigValue>;
const policiesOf = (group: common.ConfigGroup) => group.getPoliciesMap() as unknown as ProtoMap<common.ConfigPolicy>;
const groupsOf = (group: common.ConfigGroup) => group.getGroupsMap() as unknown as ProtoMap<common.ConfigGroup>;

function pems(list: Uint8Array[]): X509Certificate[] {
  return list.map((bytes) => new X509Certificate(Buffer.from(bytes)));
}

function readMsp(group: common.ConfigGroup, path: string, kind: ChannelMsp['kind']): ChannelMsp | undefined {
  const value = valuesOf(group).get('MSP');
  if (value === undefined) return undefined;
  const config = msp.MSPConfig.deserializeBinary(value.getValue_asU8());
  const fabric = msp.FabricMSPConfig.deserializeBinary(config.getConfig_asU8());
  const ous = fabric.getFabricNodeOus();
  const ou = (identifier: msp.FabricOUIdentifier | undefined) => identifier?.getOrganizationalUnitIdentifier();
  const roots = pems(fabric.getRootCertsList_asU8());
  const intermediates = pems(fabric.getIntermediateCertsList_asU8());
  return {
    mspId: fabric.getName(),
    group: path,
    kind,
    roots,
    intermediates,
    admins: pems(fabric.getAdminsList_asU8()),
    revocationLists: fabric.getRevocationListList_asU8().map((bytes, index) => {
      try {
        return readRevocationList(bytes, [...roots, ...intermediates]);
      } catch (error) {
        throw new Error(
          `revocation list ${index} of MSP ${fabric.getName()}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }),
    ...(ous?.getEnable() === true
      ? {
          nodeOus: {
            client: ou(ous.getClientOuIdentifier()),
            peer: ou(ous.getPeerOuIdentifier()),
            admin: ou(ous.getAdminOuIdentifier()),
            orderer: ou(ous.getOrdererOuIdentifier()),
          },
        }
      : {}),
  };
}

/**
 * Reads the channel configuration out of a configuration block's data (one envelope of
 * type CONFIG holding a `common.ConfigEnvelope`).
 *
 * @throws Error when the data is not a configuration transaction or an MSP is malformed.
 */
export function readChannelConfig(blockData: common.BlockData): ChannelConfig {
  const [first] = blockData.getDataList_asU8();
  if (first === undefined || blockData.getDataList().length !== 1)
    throw new Error('a configuration block holds exactly one envelope');
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(first).getPayload_asU8());
  const header = common.ChannelHeader.deserializeBinary(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
  );
  if (header.getType() !== common.HeaderType.CONFIG) throw new Error('the envelope is not a CONFIG transaction');
  const config = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig();
  const root = config?.getChannelGroup();
  if (config === undefined || root === undefined) throw new Error('the configuration envelope holds no channel group');

  const policies = new Map<string, common.Policy>();
  const msps: ChannelMsp[] = [];
  const orgGroups = new Map<string, string[]>();
  const walk = (group: common.ConfigGroup, path: string, depth: number) => {
    policiesOf(group).forEach((entry, name) => {
      const policy = entry.getPolicy();
      if (policy !== undefined) policies.set(`${path}/${name}`, policy);
    });
    if (depth === 2) {
      const kind = path.startsWith('/Channel/Orderer/') ? 'orderer' : 'application';
      const found = readMsp(group, path, kind);
      if (found !== undefined) msps.push(found);
      const parent = path.slice(0, path.lastIndexOf('/'));
      orgGroups.set(parent, [...(orgGroups.get(parent) ?? []), path]);
    }
    groupsOf(group).forEach((child, name) => {
      walk(child, `${path}/${name}`, depth + 1);
    });
  };
  walk(root, '/Channel', 0);
  return { channel: header.getChannelId(), sequence: config.getSequence(), msps, policies, orgGroups };
}
