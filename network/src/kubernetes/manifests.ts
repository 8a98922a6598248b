import path from 'node:path';
import { stringify } from 'yaml';
import { loadNetworkConfig, loopback, type NetworkConfig } from '../config.js';
import { caProcess, ordererProcess, peerProcess, registrarFile } from '../fabric/nodes.js';
import type { StartRequest } from '../processes/registry.js';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type {
  IContainer,
  IEnvVar,
  INamespace,
  IPersistentVolumeClaim,
  IPersistentVolumeClaimSpec,
  IPodSpec,
  IProbe,
  IVolume,
  IVolumeMount,
} from 'kubernetes-models/v1';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import {
  appImage,
  containerEnv,
  containerHome,
  containerRepo,
  fabricCaImageVersion,
  fabricImageVersion,
  imageToolchain,
  serviceName,
} from '../docker/compose.js';
import { kubernetesHosts, parsePlacement, type KubernetesHost, type PlacementFile } from './placement.js';

/**
 * Kubernetes manifests generated from the same process definitions as
 * docker-compose.yml (and the native network), so the three topologies cannot drift.
 *
 * Every node binds and advertises the address network.config.json gives it, which its
 * TLS certificate names and the channel configuration carries (orderer endpoints, Raft
 * consenters, anchor peers): its pod uses the host network on the cluster node that has
 * that address, chosen per organisation by a node selector (see {@link kubernetesHosts}).
 * Each pod unpacks its own organisation's bundle (`network:export-org`, a Secret) into a
 * volume of its own, so no organisation's keys reach another's nodes. Each CA's database
 * and each orderer's and peer's ledger is a claim of its own (a StatefulSet volume claim
 * template), so deleting or rescheduling a pod keeps them.
 */
export interface KubernetesOptions {
  /** The network description; network/network.config.json when omitted. */
  readonly configFile?: string;
  /** Namespace, storage and each organisation's node selector; every default when omitted. */
  readonly placement?: PlacementFile;
}

/**
 * The API objects the topology uses, typed with kubernetes-models' interfaces (from the
 * Kubernetes OpenAPI definitions): the compiler refuses a misspelt field, which the
 * schemas themselves allow.
 */
export type Manifest = INamespace | IPersistentVolumeClaim | IJob | IStatefulSet | IDeployment;

/** Where each pod finds its organisation's bundle, mounted from the Secret. */
export const bundleMountDir = '/etc/gigledger/bundle';
export const bundleSecretKey = 'bundle.json';
const caDataSize = '1Gi';
const operatorDataSize = '1Gi';

/** The network as the pods see it: container paths, ports as configured (no offset). */
export function kubernetesNetworkConfig(configFile?: string): NetworkConfig {
  return loadNetworkConfig(
    {
      home: containerHome,
      portOffset: 0,
      repoRoot: containerRepo,
      ...(configFile === undefined ? {} : { configFile }),
    },
    {},
  );
}

interface Context {
  readonly config: NetworkConfig;
  readonly placement: PlacementFile;
}

function metadata(context: Context, name: string, component: string, org?: string): IObjectMeta {
  return {
    name,
    namespace: context.placement.namespace,
    labels: {
      'app.kubernetes.io/part-of': 'gigledger',
      'app.kubernetes.io/component': component,
      ...(org === undefined ? {} : { 'gigledger.io/org': org }),
    },
  };
}

function claimSpec(context: Context, size: string): IPersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    ...(context.placement.storageClassName === undefined
      ? {}
      : { storageClassName: context.placement.storageClassName }),
    resources: { requests: { storage: size } },
  };
}

const homeMount: IVolumeMount = { name: 'home', mountPath: containerHome };
const bundleMount: IVolumeMount = { name: 'bundle', mountPath: bundleMountDir, readOnly: true };

function bundleVolume(host: KubernetesHost): IVolume {
  return { name: 'bundle', secret: { secretName: host.bundleSecret, defaultMode: 0o400 } };
}

function envList(env: NodeJS.ProcessEnv): IEnvVar[] {
  return Object.entries(containerEnv(env)).map(([name, value]) => ({ name, value }));
}

/**
 * The first container of every pod: the organisation's bundle into GIGLEDGER_HOME (and
 * into the node's own claim where the bundle has files there, the CA's registrar).
 */
function unpackContainer(host: KubernetesHost, mounts: IVolumeMount[]): IContainer {
  return {
    name: 'unpack-bundle',
    image: appImage,
    command: [
      'node',
      'network/dist/kubernetes/unpack-bundle.js',
      host.name,
      path.posix.join(bundleMountDir, bundleSecretKey),
    ],
    env: envList({ GIGLEDGER_HOME: containerHome }),
    volumeMounts: [...mounts, bundleMount],
  };
}

/**
 * Pod settings every pod of one host shares: the host network (a node binds the address
 * its certificate names, which is the cluster node's), that host's node selector, its
 * bundle.
 */
function hostPodSpec(
  host: KubernetesHost,
  home: IVolume,
  containers: IContainer[],
  extra: Partial<IPodSpec> = {},
): IPodSpec {
  return {
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    nodeSelector: { ...host.nodeSelector },
    volumes: [home, bundleVolume(host)],
    containers,
    ...extra,
  };
}

/** Healthy when the operations endpoint answers /healthz on the address the node binds, probed from inside. */
function healthProbe(port: number, address = loopback): IProbe {
  return {
    exec: {
      command: [
        'bash',
        '-c',
        `exec 3<>/dev/tcp/${address}/${port} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3`,
      ],
    },
    periodSeconds: 5,
    timeoutSeconds: 3,
    failureThreshold: 12,
  };
}

/**
 * One Fabric node as a single-replica StatefulSet on its host's cluster node. `dataDir`
 * is the node's own folder (ledger, Raft WAL, CA database), mounted from a claim of its
 * own so it outlives the pod; `claim` names that claim.
 */
function nodeStatefulSet(
  context: Context,
  host: KubernetesHost,
  image: string,
  request: StartRequest,
  command: string[],
  operationsPort: number,
  data: { claim: string; dir: string; size: string },
): IStatefulSet {
  const name = serviceName(request);
  const mounts = [homeMount, { name: data.claim, mountPath: data.dir }];
  const selector = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(context, name, request.kind, host.name),
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...selector, 'app.kubernetes.io/part-of': 'gigledger', 'gigledger.io/org': host.name },
        },
        spec: hostPodSpec(
          host,
          // The material comes from the bundle at every start; only the claim below is kept.
          { name: 'home', emptyDir: {} },
          [
            {
              name: request.kind,
              image,
              command,
              env: envList(request.env),
              workingDir: request.cwd,
              volumeMounts: mounts,
              readinessProbe: healthProbe(operationsPort, request.address),
              livenessProbe: { ...healthProbe(operationsPort, request.address), initialDelaySeconds: 30 },
            },
          ],
          { initContainers: [unpackContainer(host, mounts)] },
        ),
      },
      volumeClaimTemplates: [{ metadata: { name: data.claim }, spec: claimSpec(context, data.size) }],
    },
  };
}

function operatorClaimName(host: KubernetesHost): string {
  return `operator-${host.slug}`;
}

/**
 * The operator's home of a host: its enrolled identities, the chaincode deployment record
 * and connection profile its bootstrap job writes, which its chaincode server and API
 * read. Only pods of that host, on its one cluster node, mount it.
 */
function operatorClaim(context: Context, host: KubernetesHost): IPersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: metadata(context, operatorClaimName(host), 'operator', host.name),
    spec: claimSpec(context, operatorDataSize),
  };
}

function operatorHome(host: KubernetesHost): IVolume {
  return host.peerOrg === undefined
    ? { name: 'home', emptyDir: {} }
    : { name: 'home', persistentVolumeClaim: { claimName: operatorClaimName(host) } };
}

function appContainer(name: string, command: string[], env: Record<string, string> = {}): IContainer {
  return {
    name,
    image: appImage,
    command,
    env: envList({ GIGLEDGER_HOME: containerHome, GIGLEDGER_TOOLCHAIN: '/opt/fabric-toolchain', ...env }),
    volumeMounts: [homeMount, bundleMount],
  };
}

/**
 * The host's part of the network's bring-up, retried until its nodes and a Raft majority
 * answer (Kubernetes has no start order between workloads): join its orderers and peer,
 * install and approve the chaincode, commit it once a majority approved, enroll its
 * operator; the first organisation's job also writes the consortium's genesis.
 */
function bootstrapJob(context: Context, host: KubernetesHost): IJob {
  const name = `bootstrap-${host.slug}`;
  const command = [
    'node',
    'network/dist/cli/main.js',
    'bootstrap',
    '--org',
    host.name,
    '--bundle',
    path.posix.join(bundleMountDir, bundleSecretKey),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(context, name, 'bootstrap', host.name),
    spec: {
      backoffLimit: 30,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'gigledger' } },
        spec: hostPodSpec(host, operatorHome(host), [appContainer('bootstrap', command)], {
          restartPolicy: 'OnFailure',
        }),
      },
    },
  };
}

/** Waits for a file the host's bootstrap job writes (Kubernetes has no start order between workloads). */
function waitForFile(file: string): IContainer {
  return {
    name: 'wait-for-bootstrap',
    image: appImage,
    command: ['bash', '-c', `until [ -f '${file}' ]; do sleep 2; done`],
    volumeMounts: [homeMount],
  };
}

function appDeployment(
  context: Context,
  host: KubernetesHost,
  name: string,
  command: string[],
  env: Record<string, string> = {},
  waitFor?: string,
): IDeployment {
  const selector = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(context, name, name, host.name),
    spec: {
      replicas: 1,
      // Two copies would bind the same ports of the host.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, 'app.kubernetes.io/part-of': 'gigledger', 'gigledger.io/org': host.name } },
        spec: hostPodSpec(host, operatorHome(host), [appContainer(name, command, env)], {
          initContainers: [
            unpackContainer(host, [homeMount]),
            ...(waitFor === undefined ? [] : [waitForFile(waitFor)]),
          ],
        }),
      },
    },
  };
}

/**
 * Every manifest of the topology, in the order `kubectl apply` should create them. The
 * Secrets with the organisations' bundles are not among them: they hold private keys, and
 * each organisation creates its own (network/README.md: Kubernetes).
 *
 * @throws Error when the network description or the placement is refused (see
 *   {@link kubernetesHosts}).
 */
export function kubernetesManifests(options: KubernetesOptions = {}): Manifest[] {
  const config = kubernetesNetworkConfig(options.configFile);
  const placement = options.placement ?? parsePlacement({}, 'default placement');
  const context: Context = { config, placement };
  const hosts = kubernetesHosts(config, placement);
  const manifests: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: placement.namespace, labels: { 'app.kubernetes.io/part-of': 'gigledger' } },
    },
  ];
  for (const host of hosts) {
    if (host.peerOrg !== undefined) manifests.push(operatorClaim(context, host));
  }
  for (const host of hosts) {
    const org = host.peerOrg;
    if (org === undefined) continue;
    const request = caProcess(config, imageToolchain, org);
    // The registrar secret comes with the bundle, so it is read at start.
    const command = [
      'bash',
      '-c',
      `export FABRIC_CA_SERVER_BOOT="registrar:$(sed -n 's/.*"secret": *"\\([^"]*\\)".*/\\1/p' ${registrarFile(org)})" && exec "$@"`,
      'fabric-ca-server',
      request.command,
      ...request.args,
    ];
    manifests.push(
      nodeStatefulSet(
        context,
        host,
        `hyperledger/fabric-ca:${fabricCaImageVersion}`,
        request,
        command,
        org.ca.operationsPort,
        {
          claim: 'data',
          dir: org.ca.dir,
          size: caDataSize,
        },
      ),
    );
  }
  for (const host of hosts) {
    for (const node of host.orderers) {
      const request = ordererProcess(config, imageToolchain, node);
      manifests.push(
        nodeStatefulSet(
          context,
          host,
          `hyperledger/fabric-orderer:${fabricImageVersion}`,
          request,
          ['orderer'],
          node.operationsPort,
          { claim: 'ledger', dir: node.dir, size: placement.ledgerSize },
        ),
      );
    }
  }
  for (const host of hosts) {
    const org = host.peerOrg;
    if (org === undefined) continue;
    // The official peer image ships Fabric's own ccaas builder at this path.
    const request = peerProcess(config, imageToolchain, org, '/opt/hyperledger/ccaas_builder');
    manifests.push(
      nodeStatefulSet(
        context,
        host,
        `hyperledger/fabric-peer:${fabricImageVersion}`,
        request,
        ['peer', 'node', 'start'],
        org.peer.operationsPort,
        { claim: 'ledger', dir: org.peer.dir, size: placement.ledgerSize },
      ),
    );
  }
  for (const host of hosts) manifests.push(bootstrapJob(context, host));
  const chaincodeHost = hosts.find((host) => host.chaincodeServer);
  if (chaincodeHost !== undefined) {
    manifests.push(
      appDeployment(context, chaincodeHost, 'chaincode', ['node', 'network/dist/cli/main.js', 'serve-chaincode']),
    );
  }
  // The API serves the first organisation's people, on its host, as the genesis writer.
  const apiHost = hosts.find((host) => host.peerOrg !== undefined);
  if (apiHost?.peerOrg !== undefined) {
    const connectionProfile = path.join(containerHome, 'connection-profile.json');
    manifests.push(
      appDeployment(
        context,
        apiHost,
        'api',
        ['node', 'api/dist/main.js'],
        {
          PORT: String(config.apiPort),
          HOST: apiHost.peerOrg.address,
          GIGLEDGER_CONNECTION_PROFILE: connectionProfile,
          GIGLEDGER_DATA_DIR: path.join(containerHome, 'api'),
        },
        connectionProfile,
      ),
    );
  }
  return manifests;
}

/** The manifests as one YAML stream, with how to apply them. */
export function kubernetesYaml(options: KubernetesOptions = {}, source = 'network/network.config.json'): string {
  const manifests = kubernetesManifests(options);
  const config = kubernetesNetworkConfig(options.configFile);
  const placement = options.placement ?? parsePlacement({}, 'default placement');
  const hosts = kubernetesHosts(config, placement);
  return [
    `# Generated by \`npm run network:kubernetes\` from ${source} and the`,
    '# process definitions in network/src/fabric/nodes.ts (as docker-compose.yml is); edit',
    '# those, not this file. Before `kubectl apply -f` (network/README.md: Kubernetes):',
    ...hosts.map(
      (host) =>
        `#   ${host.name}: on the node selected by ${Object.entries(host.nodeSelector)
          .map(([key, value]) => `${key}=${value}`)
          .join(',')}, Secret ${host.bundleSecret} from its bundle (key ${bundleSecretKey})`,
    ),
    ...manifests.map((manifest) => `---\n${stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false })}`),
  ].join('\n');
}
