import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Namespace, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { networkConfigFile, repoRoot } from '../config.js';
import { composeDocument } from '../docker/compose.js';
import { channelSpec } from '../fabric/channel.js';
import { cryptoSpec } from '../fabric/crypto.js';
import { hostedNodes, requiredFiles } from '../fabric/bundle.js';
import { kubernetesManifests, kubernetesNetworkConfig, kubernetesYaml } from './manifests.js';
import { parsePlacement, readPlacementFile } from './placement.js';

const committed = readFileSync(path.join(repoRoot, 'kubernetes', 'gigledger.yaml'), 'utf8');

interface Container {
  name: string;
  command: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  hostNetwork?: boolean;
  nodeSelector?: Record<string, string>;
  volumes?: { name: string; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string } }[];
  initContainers?: Container[];
  containers: Container[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & {
    template?: { spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}

/**
 * Validates one manifest with the models of kubernetes-models, whose validators are
 * compiled from the Kubernetes 1.27 OpenAPI JSON schemas (the package's
 * `_schemas/IoK8s…` modules); they throw naming the path of the first violation.
 */
function validateManifest(manifest: Manifest): void {
  const models = {
    'v1/Namespace': Namespace,
    'v1/PersistentVolumeClaim': PersistentVolumeClaim,
    'batch/v1/Job': Job,
    'apps/v1/StatefulSet': StatefulSet,
    'apps/v1/Deployment': Deployment,
  } as const;
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  if (!(key in models)) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  const Model = models[key as keyof typeof models];
  // The models' constructors take their own typed shapes; the parsed YAML is checked by validate().
  new Model(manifest as never).validate();
}

function documentsOf(yaml: string): Manifest[] {
  return parseAllDocuments(yaml).map((document) => document.toJS() as Manifest);
}

function podSpecOf(manifest: Manifest): PodSpec | undefined {
  return manifest.spec?.template?.spec;
}

function envOf(container: Container | undefined): Record<string, string> {
  return Object.fromEntries(container?.env?.map((entry) => [entry.name, entry.value]) ?? []);
}

const documents = documentsOf(committed);

/** Addresses in the documentation range (RFC 5737): one cluster node per organisation. */
const hostAddresses: Record<string, string> = {
  ClientOrg: '192.0.2.11',
  TalentOrg: '192.0.2.12',
  AuditOrg: '192.0.2.13',
};

/**
 * network.config.json with every organisation on a host of its own and one orderer on
 * each, as an operator spreading the network over three cluster nodes writes it.
 */
function writeSpreadConfig(dir: string): string {
  const file = JSON.parse(readFileSync(networkConfigFile, 'utf8')) as {
    ordererOrg: { orderers: Record<string, unknown>[] };
    peerOrgs: (Record<string, unknown> & { name: string })[];
    chaincode: Record<string, unknown>;
  };
  const orgs = Object.keys(hostAddresses);
  file.ordererOrg.orderers = file.ordererOrg.orderers.map((node, index) => {
    const org = orgs[index % orgs.length] ?? '';
    return { ...node, org, address: hostAddresses[org] };
  });
  file.peerOrgs = file.peerOrgs.map((org) => ({ ...org, address: hostAddresses[org.name] }));
  file.chaincode = { ...file.chaincode, org: 'ClientOrg', address: hostAddresses.ClientOrg };
  const configFile = path.join(dir, 'network.config.json');
  writeFileSync(configFile, JSON.stringify(file));
  return configFile;
}

describe('kubernetes/gigledger.yaml (the local defaults: every node on 127.0.0.1, one cluster node)', () => {
  it('is what `npm run network:kubernetes` generates from the network configuration', () => {
    expect(committed).toBe(kubernetesYaml());
  });

  it('is valid against the Kubernetes API schemas, document by document', () => {
    expect(documents.length).toBe(kubernetesManifests().length);
    for (const manifest of documents)
      expect(() => {
        validateManifest(manifest);
      }).not.toThrow();
  });

  it('fails validation when a field has the wrong type or a required field is missing', () => {
    const statefulSet = documents.find((manifest) => manifest.kind === 'StatefulSet') as Manifest;
    expect(() => {
      validateManifest({ ...statefulSet, spec: { ...statefulSet.spec, replicas: 'one' } });
    }).toThrow(/replicas/);
    const { selector: _selector, ...withoutSelector } = statefulSet.spec ?? {};
    expect(() => {
      validateManifest({ ...statefulSet, spec: withoutSelector });
    }).toThrow(/selector/);
  });

  it('runs the same node processes as docker-compose.yml, each node with a claim of its own for its data', () => {
    const services = composeDocument().services as Record<string, { environment?: Record<string, string> }>;
    const statefulSets = documents.filter((manifest) => manifest.kind === 'StatefulSet');
    expect(statefulSets.map((manifest) => manifest.metadata.name).sort()).toEqual(
      Object.keys(services)
        .filter((name) => !['setup', 'bootstrap', 'chaincode', 'api'].includes(name))
        .sort(),
    );
    for (const manifest of statefulSets) {
      const container = podSpecOf(manifest)?.containers[0];
      expect(envOf(container)).toEqual(services[manifest.metadata.name]?.environment ?? {});
      const isCa = manifest.metadata.name.startsWith('ca-');
      expect(manifest.spec?.volumeClaimTemplates?.map((claim) => claim.metadata.name)).toEqual([
        isCa ? 'data' : 'ledger',
      ]);
    }
  });

  it('puts every pod on the one labelled node, as nodes on loopback reach each other only there', () => {
    for (const manifest of documents) {
      const pod = podSpecOf(manifest);
      if (pod === undefined) continue;
      expect(pod.nodeSelector).toEqual({ 'gigledger.io/fabric-host': 'true' });
      expect(pod.hostNetwork).toBe(true);
    }
  });
});

describe('manifests for organisations spread over cluster nodes', () => {
  let dir: string;
  let configFile: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-k8s-'));
    configFile = writeSpreadConfig(dir);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const spread = (placement = {}): Manifest[] =>
    documentsOf(kubernetesYaml({ configFile, placement: parsePlacement(placement, 'test placement') }));

  it('are valid against the Kubernetes API schemas', () => {
    const manifests = spread();
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests)
      expect(() => {
        validateManifest(manifest);
      }).not.toThrow();
  });

  it('neither bind nor advertise 127.0.0.1 or localhost anywhere', () => {
    const text = JSON.stringify(spread());
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toMatch(/localhost/);
    // The local defaults do, so the check above would see it.
    expect(JSON.stringify(documents)).toContain('127.0.0.1');
  });

  it("mount in each organisation's pods its own bundle and claims only, never another's", () => {
    const pods = spread().filter((manifest) => podSpecOf(manifest) !== undefined);
    const claimUsers = new Map<string, Set<string>>();
    for (const manifest of pods) {
      const org = manifest.metadata.labels?.['gigledger.io/org'] ?? '';
      const slug = org.toLowerCase();
      const pod = podSpecOf(manifest) as PodSpec;
      expect(Object.keys(hostAddresses).concat('OrdererOrg')).toContain(org);
      const secrets = (pod.volumes ?? []).flatMap((volume) => (volume.secret ? [volume.secret.secretName] : []));
      expect(secrets).toEqual([`gigledger-bundle-${slug}`]);
      for (const volume of pod.volumes ?? []) {
        const claim = volume.persistentVolumeClaim?.claimName;
        if (claim === undefined) continue;
        expect(claim).toBe(`operator-${slug}`);
        claimUsers.set(claim, new Set([...(claimUsers.get(claim) ?? []), org]));
      }
      const unpack = [...(pod.initContainers ?? []), ...pod.containers].find(
        (container) => container.command.includes('--bundle') || container.name === 'unpack-bundle',
      );
      expect(unpack?.command).toContain(org);
    }
    for (const users of claimUsers.values()) expect(users.size).toBe(1);
  });

  it("name in each organisation's pods only private keys that its own bundle carries", () => {
    const config = kubernetesNetworkConfig(configFile);
    let keys = 0;
    for (const manifest of spread()) {
      const pod = podSpecOf(manifest);
      if (pod === undefined) continue;
      const org = manifest.metadata.labels?.['gigledger.io/org'] ?? '';
      const own = new Set(requiredFiles(config, hostedNodes(config, org)));
      const mentioned = JSON.stringify(pod).match(/\/var\/hyperledger\/gigledger\/[^\s"$,)\]]+/g) ?? [];
      for (const file of mentioned.filter((candidate) => /(\.key|_sk)$/.test(candidate))) {
        keys += 1;
        expect(own).toContain(file);
      }
      // MSP folders hold their keystore: only the organisation's own (or the orderers' it runs).
      for (const dir of mentioned.filter((candidate) => candidate.endsWith('/msp'))) {
        expect(requiredFiles(config, hostedNodes(config, org)).some((file) => file.startsWith(path.dirname(dir)))).toBe(
          true,
        );
      }
    }
    expect(keys).toBeGreaterThan(0);
  });

  it("advertise each node at its host's address, which its TLS certificate and the channel configuration name", () => {
    const config = kubernetesNetworkConfig(configFile);
    const certificates = cryptoSpec(config) as {
      OrdererOrgs: { Specs: { Hostname: string; SANS: string[] }[] }[];
      PeerOrgs: { Name: string; Specs: { Hostname: string; SANS: string[] }[] }[];
    };
    const sansOf = (org: string, hostname: string): string[] =>
      [
        ...(certificates.OrdererOrgs[0] === undefined ? [] : [{ Name: 'OrdererOrg', ...certificates.OrdererOrgs[0] }]),
        ...certificates.PeerOrgs,
      ]
        .find((entry) => entry.Name === org)
        ?.Specs.find((spec) => spec.Hostname === hostname)?.SANS ?? [];
    const profile = Object.values(
      (
        channelSpec(config) as {
          Profiles: Record<
            string,
            {
              Orderer: { EtcdRaft: { Consenters: { Host: string; Port: number }[] } };
              Application: { Organizations: { Name: string; AnchorPeers: { Host: string; Port: number }[] }[] };
            }
          >;
        }
      ).Profiles,
    )[0];
    const statefulSets = spread().filter((manifest) => manifest.kind === 'StatefulSet');
    expect(statefulSets).toHaveLength(3 + 3 + 3);
    for (const manifest of statefulSets) {
      const org = manifest.metadata.labels?.['gigledger.io/org'] ?? '';
      const address = hostAddresses[org];
      const container = podSpecOf(manifest)?.containers[0];
      const env = envOf(container);
      const kind = manifest.metadata.labels?.['app.kubernetes.io/component'];
      if (kind === 'peer') {
        expect(env.CORE_PEER_ADDRESS).toBe(`${address}:${env.CORE_PEER_LISTENADDRESS?.split(':')[1]}`);
        expect(env.CORE_PEER_GOSSIP_EXTERNALENDPOINT).toBe(env.CORE_PEER_ADDRESS);
        expect(sansOf(org, 'peer0')).toContain(address);
        const anchor = profile?.Application.Organizations.find((entry) => entry.Name === org)?.AnchorPeers[0];
        expect(`${anchor?.Host}:${anchor?.Port}`).toBe(env.CORE_PEER_ADDRESS);
      } else if (kind === 'orderer') {
        const name = manifest.metadata.name;
        expect(env.ORDERER_GENERAL_LISTENADDRESS).toBe(address);
        expect(sansOf('OrdererOrg', name)).toContain(address);
        expect(profile?.Orderer.EtcdRaft.Consenters).toContainEqual({
          Host: address,
          Port: Number(env.ORDERER_GENERAL_LISTENPORT),
          ClientTLSCert: expect.any(String) as unknown,
          ServerTLSCert: expect.any(String) as unknown,
        });
      } else {
        const args = container?.command ?? [];
        expect(args[args.indexOf('--address') + 1]).toBe(address);
        expect(sansOf(org, 'ca')).toContain(address);
      }
    }
  });

  it('place each organisation by its own node selector: a label per host by default, or the placement given', () => {
    const selectors = (manifests: Manifest[]): Map<string, Set<string>> => {
      const byOrg = new Map<string, Set<string>>();
      for (const manifest of manifests) {
        const pod = podSpecOf(manifest);
        if (pod === undefined) continue;
        const org = manifest.metadata.labels?.['gigledger.io/org'] ?? '';
        byOrg.set(org, new Set([...(byOrg.get(org) ?? []), JSON.stringify(pod.nodeSelector)]));
      }
      return byOrg;
    };
    expect(selectors(spread())).toEqual(
      new Map(
        Object.keys(hostAddresses).map((org) => [
          org,
          new Set([JSON.stringify({ [`gigledger.io/host-${org.toLowerCase()}`]: 'true' })]),
        ]),
      ),
    );
    const placed = selectors(
      spread({
        hosts: {
          ClientOrg: { nodeSelector: { 'kubernetes.io/hostname': 'fabric-a' } },
          TalentOrg: { nodeSelector: { 'kubernetes.io/hostname': 'fabric-b' } },
        },
      }),
    );
    expect(placed.get('ClientOrg')).toEqual(new Set([JSON.stringify({ 'kubernetes.io/hostname': 'fabric-a' })]));
    expect(placed.get('TalentOrg')).toEqual(new Set([JSON.stringify({ 'kubernetes.io/hostname': 'fabric-b' })]));
    expect(placed.get('AuditOrg')).toEqual(new Set([JSON.stringify({ 'gigledger.io/host-auditorg': 'true' })]));
  });

  it('run the chaincode server and the API where the configuration puts them, on their host address', () => {
    const manifests = spread();
    const chaincode = manifests.find((manifest) => manifest.metadata.name === 'chaincode');
    const api = manifests.find((manifest) => manifest.metadata.name === 'api');
    expect(chaincode?.metadata.labels?.['gigledger.io/org']).toBe('ClientOrg');
    expect(envOf(api && podSpecOf(api)?.containers[0]).HOST).toBe(hostAddresses.ClientOrg);
  });

  it('take namespace and storage class from the placement, and claim every ledger with that class', () => {
    const manifests = spread({ namespace: 'fabric-prod', storageClassName: 'fast-ssd', ledgerSize: '20Gi' });
    expect(manifests[0]?.metadata.name).toBe('fabric-prod');
    const claims = manifests.flatMap((manifest) =>
      manifest.kind === 'PersistentVolumeClaim'
        ? [manifest.spec]
        : ((manifest.spec?.volumeClaimTemplates ?? []) as unknown as { spec: Record<string, unknown> }[]).map(
            (claim) => claim.spec,
          ),
    );
    expect(claims.length).toBeGreaterThan(9);
    for (const claim of claims) expect(claim).toMatchObject({ storageClassName: 'fast-ssd' });
  });

  it('refuse to place hosts that share an address on different nodes, and an organisation that runs nothing', () => {
    expect(() =>
      kubernetesManifests({
        placement: parsePlacement({ hosts: { TalentOrg: { nodeSelector: { 'kubernetes.io/hostname': 'b' } } } }, 'p'),
      }),
    ).toThrow(/ClientOrg and TalentOrg both bind 127\.0\.0\.1/);
    expect(() =>
      kubernetesManifests({
        configFile,
        placement: parsePlacement({ hosts: { OrdererOrg: { nodeSelector: { 'kubernetes.io/hostname': 'o' } } } }, 'p'),
      }),
    ).toThrow(/OrdererOrg, which runs no node/);
    expect(() => parsePlacement({ hosts: { ClientOrg: { nodeSelector: { 'bad key!': 'x' } } } }, 'p.json')).toThrow(
      /p\.json: hosts\.ClientOrg\.nodeSelector\.bad key!: must be a Kubernetes label key/,
    );
  });

  it('refuse a placement that would lose a setting or leave a host unpinned, naming the file and the field', () => {
    expect(() => parsePlacement({ hosts: { ClientOrg: { nodeSelector: {} } } }, 'p.json')).toThrow(
      /p\.json: hosts\.ClientOrg\.nodeSelector: must name at least one label/,
    );
    expect(() => parsePlacement({ storageClass: 'fast-ssd' }, 'p.json')).toThrow(/p\.json.*storageClass/);
    expect(() => parsePlacement({ hosts: { ClientOrg: { nodeSelector: { a: 'b' }, zone: 'x' } } }, 'p.json')).toThrow(
      /p\.json.*zone/,
    );
    const placementDir = mkdtempSync(path.join(os.tmpdir(), 'gl-placement-'));
    try {
      const notJson = path.join(placementDir, 'placement.json');
      writeFileSync(notJson, 'not json');
      expect(() => readPlacementFile(notJson)).toThrow(`${notJson} is not JSON`);
    } finally {
      rmSync(placementDir, { recursive: true, force: true });
    }
  });

  it('refuse two hosts with different addresses on one node selector', () => {
    const sameNode = { nodeSelector: { 'kubernetes.io/hostname': 'one' } };
    expect(() => spread({ hosts: { ClientOrg: sameNode, TalentOrg: sameNode } })).toThrow(
      /ClientOrg and TalentOrg are placed on the same nodes .* but bind different addresses/,
    );
  });
});
