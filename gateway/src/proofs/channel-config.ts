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

/** Certificates of an MSP definition; a malformed one is named in words, not in OpenSSL's. */
function pems(list: Uint8Array[], what: string): X509Certificate[] {
  return list.map((bytes, index) => {
    try {
      return new X509Certificate(Buffer.from(bytes));
    } catch (error) {
      throw new Error(`${what} ${index + 1} is not a PEM-encoded X.509 certificate`, { cause: error });
    }
  });
}

/** Decodes a nested protobuf message, naming it when it does not decode. */
function decoded<T>(bytes: Uint8Array, decode: (bytes: Uint8Array) => T, what: string): T {
  try {
    return decode(bytes);
  } catch (error) {
    throw new Error(`${what} is not a valid protobuf message`, { cause: error });
  }
}

function readMsp(group: common.ConfigGroup, path: string, kind: ChannelMsp['kind']): ChannelMsp | undefined {
  const value = valuesOf(group).get('MSP');
  if (value === undefined) return undefined;
  const config = decoded(
    value.getValue_asU8(),
    (bytes) => msp.MSPConfig.deserializeBinary(bytes),
    `the MSP of ${path}`,
  );
  const fabric = decoded(
    config.getConfig_asU8(),
    (bytes) => msp.FabricMSPConfig.deserializeBinary(bytes),
    `the Fabric MSP definition of ${path}`,
  );
  const name = `MSP ${fabric.getName()}`;
  const ous = fabric.getFabricNodeOus();
  const ou = (identifier: msp.FabricOUIdentifier | undefined) => identifier?.getOrganizationalUnitIdentifier();
  const roots = pems(fabric.getRootCertsList_asU8(), `root CA certificate of ${name}`);
  const intermediates = pems(fabric.getIntermediateCertsList_asU8(), `intermediate CA certificate of ${name}`);
  return {
    mspId: fabric.getName(),
    group: path,
    kind,
    roots,
    intermediates,
    admins: pems(fabric.getAdminsList_asU8(), `admin certificate of ${name}`),
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
  const payload = decoded(
    decoded(first, (bytes) => common.Envelope.deserializeBinary(bytes), 'its envelope').getPayload_asU8(),
    (bytes) => common.Payload.deserializeBinary(bytes),
    'its envelope payload',
  );
  const header = decoded(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
    (bytes) => common.ChannelHeader.deserializeBinary(bytes),
    'its channel header',
  );
  if (header.getType() !== common.HeaderType.CONFIG) throw new Error('the envelope is not a CONFIG transaction');
  const config = decoded(
    payload.getData_asU8(),
    (bytes) => common.ConfigEnvelope.deserializeBinary(bytes),
    'its configuration envelope',
  ).getConfig();
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
