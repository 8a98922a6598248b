import path from 'node:path';
import { stringify } from 'yaml';
import { loopback } from '../config.js';
import { genesisBlockFile } from '../fabric/layout.js';
import { caProcess, ordererProcess, peerProcess, registrarFile } from '../fabric/nodes.js';
import type { StartRequest } from '../processes/registry.js';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type {
  IContainer,
  IEnvVar,
  INamespace,
  IPersistentVolumeClaim,
  IPodSpec,
  IProbe,
  IVolumeMount,
} from 'kubernetes-models/v1';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import {
  appImage,
  containerConfig,
  containerEnv,
  containerHome,
  fabricCaImageVersion,
  fabricImageVersion,
  imageToolchain,
  serviceName,
} from '../docker/compose.js';

/**
 * Kubernetes manifests generated from the same process definitions as
 * docker-compose.yml (and the native network), so the three topologies cannot drift.
 *
 * Every node advertises 127.0.0.1 (channel configuration, anchor peers, Raft consenters),
 * so, like the Compose file, the pods use the host's network and run on one labelled
 * node; the generated material lives on one volume they share. Each orderer's and peer's
 * ledger is a PersistentVolumeClaim of its own (a StatefulSet volume claim template), so
 * deleting or rescheduling a pod keeps the chain.
 */
export const namespace = 'gigledger';
/** The label the operator puts on the node that runs the network (`kubectl label node <n> gigledger.io/fabric-host=true`). */
export const hostLabel = 'gigledger.io/fabric-host';
const materialClaim = 'gigledger-material';
const ledgerSize = '5Gi';

/**
 * The API objects the topology uses, typed with kubernetes-models' interfaces (from the
 * Kubernetes OpenAPI definitions): the compiler refuses a misspelt field, which the
 * schemas themselves allow.
 */
export type Manifest = INamespace | IPersistentVolumeClaim | IJob | IStatefulSet | IDeployment;

function metadata(name: string, component: string): IObjectMeta {
  return {
    name,
    namespace,
    labels: { 'app.kubernetes.io/part-of': 'gigledger', 'app.kubernetes.io/component': component },
  };
}

const materialVolume = { name: 'material', persistentVolumeClaim: { claimName: materialClaim } };
const materialMount: IVolumeMount = { name: 'material', mountPath: containerHome };

/** Pod settings every pod of the network shares: host network, the labelled node, the material volume. */
function podSpec(containers: IContainer[], extra: Partial<IPodSpec> = {}): IPodSpec {
  return {
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    nodeSelector: { [hostLabel]: 'true' },
    volumes: [materialVolume],
    containers,
    ...extra,
  };
}

function envList(env: NodeJS.ProcessEnv): IEnvVar[] {
  return Object.entries(containerEnv(env)).map(([name, value]) => ({ name, value }));
}

/** Healthy when the operations endpoint answers /healthz on the address the node binds (loopback by default), probed from inside. */
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

/** Waits for the setup job's output before a node starts (Kubernetes has no start order between workloads). */
function waitForFile(image: string, file: string): IContainer {
  return {
    name: 'wait-for-setup',
    image,
    command: ['bash', '-c', `until [ -f '${file}' ]; do sleep 2; done`],
    volumeMounts: [materialMount],
  };
}

/**
 * One Fabric node as a single-replica StatefulSet. `ledgerDir`, when given, is the
 * node's own folder, mounted from a claim of its own so its ledger outlives the pod.
 */
function nodeStatefulSet(
  image: string,
  request: StartRequest,
  command: string[],
  operationsPort: number,
  ledgerDir: string | undefined,
): IStatefulSet {
  const name = serviceName(request);
  const mounts = [materialMount, ...(ledgerDir === undefined ? [] : [{ name: 'ledger', mountPath: ledgerDir }])];
  const selector = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(name, request.kind),
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, 'app.kubernetes.io/part-of': 'gigledger' } },
        spec: podSpec(
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
          { initContainers: [waitForFile(image, genesisBlockFile(containerConfig()))] },
        ),
      },
      ...(ledgerDir === undefined
        ? {}
        : {
            volumeClaimTemplates: [
              {
                metadata: { name: 'ledger' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: ledgerSize } } },
              },
            ],
          }),
    },
  };
}

function appJob(name: string, command: string[], backoffLimit: number): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(name, name),
    spec: {
      backoffLimit,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'gigledger' } },
        spec: podSpec([appContainer(name, command)], { restartPolicy: 'OnFailure' }),
      },
    },
  };
}

function appContainer(name: string, command: string[], env: Record<string, string> = {}): IContainer {
  return {
    name,
    image: appImage,
    command,
    env: envList({ GIGLEDGER_HOME: containerHome, GIGLEDGER_TOOLCHAIN: '/opt/fabric-toolchain', ...env }),
    volumeMounts: [materialMount],
  };
}

function appDeployment(name: string, command: string[], env: Record<string, string> = {}): IDeployment {
  const selector = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name, name),
    spec: {
      replicas: 1,
      // Two copies would bind the same host ports.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, 'app.kubernetes.io/part-of': 'gigledger' } },
        spec: podSpec([appContainer(name, command, env)]),
      },
    },
  };
}

/** Every manifest of the topology, in the order `kubectl apply` should create them. */
export function kubernetesManifests(): Manifest[] {
  const config = containerConfig();
  const manifests: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'gigledger' } },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: metadata(materialClaim, 'material'),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    appJob('setup', ['node', 'network/dist/cli/main.js', 'generate'], 3),
  ];
  for (const org of config.peerOrgs) {
    const request = caProcess(config, imageToolchain, org);
    // The registrar secret is generated by the setup job, so it is read at start.
    const command = [
      'bash',
      '-c',
      `export FABRIC_CA_SERVER_BOOT="registrar:$(sed -n 's/.*"secret": *"\\([^"]*\\)".*/\\1/p' ${registrarFile(org)})" && exec "$@"`,
      'fabric-ca-server',
      request.command,
      ...request.args,
    ];
    // The CA's database sits beside its registrar file on the material volume.
    manifests.push(
      nodeStatefulSet(
        `hyperledger/fabric-ca:${fabricCaImageVersion}`,
        request,
        command,
        org.ca.operationsPort,
        undefined,
      ),
    );
  }
  for (const node of config.ordererOrg.orderers) {
    const request = ordererProcess(config, imageToolchain, node);
    manifests.push(
      nodeStatefulSet(
        `hyperledger/fabric-orderer:${fabricImageVersion}`,
        request,
        ['orderer'],
        node.operationsPort,
        node.dir,
      ),
    );
  }
  for (const org of config.peerOrgs) {
    // The official peer image ships Fabric's own ccaas builder at this path.
    const request = peerProcess(config, imageToolchain, org, '/opt/hyperledger/ccaas_builder');
    manifests.push(
      nodeStatefulSet(
        `hyperledger/fabric-peer:${fabricImageVersion}`,
        request,
        ['peer', 'node', 'start'],
        org.peer.operationsPort,
        org.peer.dir,
      ),
    );
  }
  // Retried until the nodes answer: the job is what orders bootstrap after them.
  manifests.push(appJob('bootstrap', ['node', 'network/dist/cli/main.js', 'bootstrap'], 30));
  manifests.push(appDeployment('chaincode', ['node', 'network/dist/cli/main.js', 'serve-chaincode']));
  manifests.push(
    appDeployment('api', ['node', 'api/dist/main.js'], {
      PORT: String(config.apiPort),
      HOST: '127.0.0.1',
      GIGLEDGER_CONNECTION_PROFILE: path.join(containerHome, 'connection-profile.json'),
      GIGLEDGER_DATA_DIR: path.join(containerHome, 'api'),
    }),
  );
  return manifests;
}

export function kubernetesYaml(): string {
  return [
    '# Generated by `npm run network:kubernetes` from network/network.config.json and the',
    '# process definitions in network/src/fabric/nodes.ts (as docker-compose.yml is); edit',
    '# those, not this file. Label one node `gigledger.io/fabric-host=true`, then',
    '# `kubectl apply -f kubernetes/gigledger.yaml` (network/README.md: Kubernetes).',
    ...kubernetesManifests().map(
      (manifest) => `---\n${stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false })}`,
    ),
  ].join('\n');
}
