import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseChecked, type NetworkConfig } from '../config.js';
import { hostedNodes, type HostedNodes } from '../fabric/bundle.js';

// Label keys and values as Kubernetes accepts them (apimachinery's IsQualifiedName / IsValidLabelValue).
const labelKey = z
  .string()
  .max(316)
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'must be a Kubernetes label key',
  );
const labelValue = z
  .string()
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value');
const quantity = z.string().regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, 'must be a size such as 5Gi');

// Strict: a misspelt key (`storageClass`) would otherwise be dropped without a word.
const placementFileSchema = z.strictObject({
  $comment: z.string().optional(),
  /** The namespace every object goes into. */
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .default('gigledger'),
  /** The storage class of every claim; the cluster's default class when omitted. */
  storageClassName: z.string().min(1).optional(),
  /** Each orderer's and peer's ledger claim. */
  ledgerSize: quantity.default('5Gi'),
  /** By organisation name: the node selector of the pods its host runs. */
  hosts: z
    .record(
      z.string(),
      z.strictObject({
        // An empty selector lets any cluster node run the host, whose addresses belong to one.
        nodeSelector: z
          .record(labelKey, labelValue)
          .refine((selector) => Object.keys(selector).length > 0, 'must name at least one label'),
      }),
    )
    .default({}),
});
export type PlacementFile = z.output<typeof placementFileSchema>;

/** The label every pod of a network whose nodes all listen on loopback selects: one cluster node runs it all. */
export const singleHostLabel = 'gigledger.io/fabric-host';

/** An organisation's host as the manifests place it. */
export interface KubernetesHost extends HostedNodes {
  /** Lower-case name for object names (`peer0-clientorg`, `bootstrap-clientorg`). */
  readonly slug: string;
  /** The addresses its pods bind, with the host network: they must be the selected cluster node's. */
  readonly addresses: readonly string[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** The Secret holding its bundle (`network:export-org`) under the key `bundle.json`. */
  readonly bundleSecret: string;
}

/**
 * Reads a placement file (`network:kubernetes -- --placement FILE`).
 *
 * @throws Error naming the file and the field when it does not match the schema.
 */
export function readPlacementFile(file: string): PlacementFile {
  if (!existsSync(file)) throw new Error(`${file} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return parsePlacement(json, file);
}

/**
 * Checks a placement already read; `{}` gives every default.
 *
 * @throws Error naming `source` and the field when it does not match the schema.
 */
export function parsePlacement(json: unknown, source: string): PlacementFile {
  return parseChecked(placementFileSchema, json, source);
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || /^127\./.test(address);
}

/** Loopback addresses all mean "this machine", so hosts that use any of them share one. */
function addressKey(address: string): string {
  return isLoopback(address) ? 'loopback' : address;
}

function selectorKey(selector: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(selector).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The hosts of the network, in the order of network.config.json (peer organisations,
 * then the orderer organisation when it runs orderers of its own), each with the
 * addresses its nodes bind and the cluster nodes that may run them.
 *
 * Which machine runs what follows network.config.json as for `network:up -- --org`
 * (network/README.md: Each organisation on its own host). A host without a placement
 * selects the label `gigledger.io/host-<org>=true`; hosts that share an address share
 * the first one's label, and when every address is loopback every host selects
 * `gigledger.io/fabric-host=true` (one cluster node, as the local defaults require).
 *
 * @throws Error when the placement names no organisation of the network, or places two
 *   hosts that bind the same address (every loopback address counts as one) on different
 *   selectors: their nodes could not reach each other where the configuration says.
 */
export function kubernetesHosts(config: NetworkConfig, placement: PlacementFile): KubernetesHost[] {
  const names = [
    ...config.peerOrgs.map((org) => org.name),
    ...(config.ordererOrg.orderers.some((node) => node.org === config.ordererOrg.name) ? [config.ordererOrg.name] : []),
  ];
  for (const name of Object.keys(placement.hosts)) {
    if (!names.includes(name)) {
      throw new Error(`the placement names ${name}, which runs no node; the network's hosts are ${names.join(', ')}`);
    }
  }
  const hosted = names.map((name) => {
    const nodes = hostedNodes(config, name);
    const addresses = [
      ...(nodes.peerOrg === undefined ? [] : [nodes.peerOrg.address]),
      ...nodes.orderers.map((node) => node.address),
      ...(nodes.chaincodeServer ? [config.chaincode.address] : []),
    ];
    return { ...nodes, slug: name.toLowerCase(), addresses: [...new Set(addresses)] };
  });
  const allLoopback = hosted.every((host) => host.addresses.every(isLoopback));
  // The first host (in configuration order) that shares an address with each one.
  const groupOf = (index: number): number => {
    const keys = new Set(hosted[index]?.addresses.map(addressKey));
    return hosted.findIndex(
      (other, at) => at <= index && other.addresses.some((address) => keys.has(addressKey(address))),
    );
  };
  const hosts = hosted.map((host, index) => {
    const group = hosted[groupOf(index)] ?? host;
    const nodeSelector = placement.hosts[host.name]?.nodeSelector ?? {
      [allLoopback ? singleHostLabel : `gigledger.io/host-${group.slug}`]: 'true',
    };
    return { ...host, nodeSelector, bundleSecret: `gigledger-bundle-${host.slug}` };
  });
  // One selector picks one cluster node, which has one address (loopback aside).
  for (const [index, host] of hosts.entries()) {
    const other = hosts.find(
      (earlier, at) =>
        at < index &&
        groupOf(at) !== groupOf(index) &&
        selectorKey(earlier.nodeSelector) === selectorKey(host.nodeSelector),
    );
    if (other !== undefined && !(allLoopback && other.addresses.every(isLoopback))) {
      throw new Error(
        `${other.name} and ${host.name} are placed on the same nodes (${selectorKey(host.nodeSelector)}) but bind ` +
          `different addresses (${other.addresses.join(', ')} and ${host.addresses.join(', ')}); give each the ` +
          'selector of the cluster node that has its address',
      );
    }
  }
  for (const [index, host] of hosts.entries()) {
    const first = hosts[groupOf(index)];
    if (first === undefined || selectorKey(first.nodeSelector) === selectorKey(host.nodeSelector)) continue;
    const shared = host.addresses.find((address) =>
      first.addresses.some((other) => addressKey(other) === addressKey(address)),
    );
    throw new Error(
      `${first.name} and ${host.name} both bind ${shared ?? 'the same address'} but are placed on different nodes ` +
        `(${selectorKey(first.nodeSelector)} and ${selectorKey(host.nodeSelector)}); give them the same nodeSelector ` +
        'or give each its own address in network.config.json',
    );
  }
  return hosts;
}
