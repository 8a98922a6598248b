import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Namespace, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { repoRoot } from '../config.js';
import { composeDocument, containerConfig } from '../docker/compose.js';
import { kubernetesManifests, kubernetesYaml } from './manifests.js';

const committed = readFileSync(path.join(repoRoot, 'kubernetes', 'gigledger.yaml'), 'utf8');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> };

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

const documents = parseAllDocuments(committed).map((document) => document.toJS() as Manifest);

describe('kubernetes/gigledger.yaml', () => {
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

  it('runs the same node processes as docker-compose.yml, each orderer and peer with a ledger claim of its own', () => {
    const config = containerConfig();
    const services = composeDocument().services as Record<string, { environment?: Record<string, string> }>;
    const statefulSets = documents.filter((manifest) => manifest.kind === 'StatefulSet');
    expect(statefulSets.map((manifest) => manifest.metadata.name).sort()).toEqual(
      Object.keys(services)
        .filter((name) => !['setup', 'bootstrap', 'chaincode', 'api'].includes(name))
        .sort(),
    );
    for (const manifest of statefulSets) {
      const spec = manifest.spec as {
        template: { spec: { containers: { env: { name: string; value: string }[] }[] } };
        volumeClaimTemplates?: { metadata: { name: string } }[];
      };
      const env = Object.fromEntries(
        spec.template.spec.containers[0]?.env.map((entry) => [entry.name, entry.value]) ?? [],
      );
      expect(env).toEqual(services[manifest.metadata.name]?.environment ?? {});
      const isCa = manifest.metadata.name.startsWith('ca-');
      expect(spec.volumeClaimTemplates?.map((claim) => claim.metadata.name)).toEqual(isCa ? undefined : ['ledger']);
    }
    expect(statefulSets).toHaveLength(config.peerOrgs.length * 2 + config.ordererOrg.orderers.length);
  });
});
