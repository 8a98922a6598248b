import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  defaultOrgPorts,
  loadNetworkConfig,
  networkConfigFile,
  portAssignments,
  type AddedOrgEntry,
  type NetworkConfig,
} from '../config.js';
import { LocalNetwork } from '../network.js';
import { toolchainAt } from '../toolchain/toolchain.js';
import {
  exportOrgBundle,
  hostedNodes,
  missingMaterial,
  requiredFiles,
  unpackOrgBundle,
  writeOrgBundle,
} from './bundle.js';
import { peerMaterial } from './layout.js';

const orgs = ['ClientOrg', 'TalentOrg', 'AuditOrg'];

/** network.config.json with each organisation on its own address, running one orderer each. */
function spreadConfigFile(dir: string): string {
  const file = JSON.parse(readFileSync(networkConfigFile, 'utf8')) as {
    ordererOrg: { orderers: Record<string, unknown>[] };
    peerOrgs: Record<string, unknown>[];
    chaincode: Record<string, unknown>;
  };
  file.peerOrgs = file.peerOrgs.map((org, index) => ({ ...org, address: `10.9.0.${index + 1}` }));
  file.ordererOrg.orderers = file.ordererOrg.orderers.map((node, index) => ({
    ...node,
    address: `10.9.0.${index + 1}`,
    org: orgs[index],
  }));
  file.chaincode = { ...file.chaincode, address: '10.9.0.1', org: 'ClientOrg' };
  const target = path.join(dir, 'network.config.json');
  writeFileSync(target, JSON.stringify(file));
  return target;
}

/** Writes a placeholder at every path the material of every host needs, as cryptogen would lay it out. */
function fakeMaterial(config: NetworkConfig, hosts: readonly string[] = orgs): void {
  const files = new Set(hosts.flatMap((org) => requiredFiles(config, hostedNodes(config, org))));
  // Keys no other host needs: ClientOrg's user key, the chaincode domain's CA key.
  const peerOrgs = path.join(config.paths.crypto, 'peerOrganizations');
  files.add(
    path.join(peerOrgs, 'clientorg.gigledger.local', 'users', 'User1@clientorg.gigledger.local', 'tls', 'client.key'),
  );
  files.add(path.join(peerOrgs, 'chaincode.gigledger.local', 'ca', 'priv_sk'));
  for (const file of files) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `material ${path.basename(file)}\n`);
  }
}

describe('organisation bundles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gl-bundle-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const config = loadNetworkConfig(
    { home: path.join(dir, 'consortium'), portOffset: 300, configFile: spreadConfigFile(dir) },
    {},
  );
  fakeMaterial(config);
  const talentFile = path.join(dir, 'TalentOrg.bundle.json');
  writeOrgBundle(exportOrgBundle(config, 'TalentOrg', 'TalentOrg.bundle.json'), talentFile);

  it('assigns each host its CA, peer, orderers and the chaincode server as network.config.json says', () => {
    expect(hostedNodes(config, 'ClientOrg')).toMatchObject({ chaincodeServer: true });
    const talent = hostedNodes(config, 'TalentOrg');
    expect(talent.peerOrg?.name).toBe('TalentOrg');
    expect(talent.orderers.map((node) => node.name)).toEqual(['orderer1']);
    expect(talent.chaincodeServer).toBe(false);
    expect(() => hostedNodes(config, 'LabelOrg')).toThrow(
      'no organisation is called LabelOrg; the network has ClientOrg, TalentOrg, AuditOrg, OrdererOrg',
    );
  });

  it('leaves the orderers to the orderer organisation and the chaincode server to the first organisation by default', () => {
    const local = loadNetworkConfig({ home: path.join(dir, 'local'), portOffset: 0 }, {});
    expect(hostedNodes(local, 'OrdererOrg').orderers.map((node) => node.name)).toEqual([
      'orderer0',
      'orderer1',
      'orderer2',
    ]);
    expect(hostedNodes(local, 'OrdererOrg').peerOrg).toBeUndefined();
    expect(hostedNodes(local, 'ClientOrg')).toMatchObject({ orderers: [], chaincodeServer: true });
    expect(hostedNodes(local, 'AuditOrg')).toMatchObject({ orderers: [], chaincodeServer: false });
  });

  it('carries only the private keys of the nodes its host runs', () => {
    const bundle = JSON.parse(readFileSync(talentFile, 'utf8')) as { files: { path: string }[] };
    const keys = bundle.files.map((file) => file.path).filter((file) => /(_sk|\.key)$/.test(file));
    expect(keys.sort()).toEqual(
      [
        'crypto/ordererOrganizations/orderer.gigledger.local/orderers/orderer1.orderer.gigledger.local/tls/server.key',
        'crypto/ordererOrganizations/orderer.gigledger.local/users/Admin@orderer.gigledger.local/tls/client.key',
        'crypto/peerOrganizations/chaincode.gigledger.local/users/User1@chaincode.gigledger.local/tls/client.key',
        'crypto/peerOrganizations/talentorg.gigledger.local/ca/priv_sk',
        'crypto/peerOrganizations/talentorg.gigledger.local/peers/ca.talentorg.gigledger.local/tls/server.key',
        'crypto/peerOrganizations/talentorg.gigledger.local/peers/peer0.talentorg.gigledger.local/tls/server.key',
        'crypto/peerOrganizations/talentorg.gigledger.local/users/Admin@talentorg.gigledger.local/tls/client.key',
      ].sort(),
    );
    expect(readFileSync(talentFile).length).toBeGreaterThan(0);
  });

  it('unpacks into a home whose commands start that organisation only, on the exported ports', () => {
    const home = path.join(dir, 'talent-host');
    unpackOrgBundle(talentFile, home, 'TalentOrg');
    // The bundle's ports are final: an offset on the receiving host does not move them.
    const unpacked = loadNetworkConfig({ home }, { GIGLEDGER_PORT_OFFSET: '7' });
    expect(unpacked.bundleOf).toBe('TalentOrg');
    expect(portAssignments(unpacked)).toEqual(portAssignments(config));
    expect(unpacked.peerOrgs.map((org) => `${org.address}:${org.peer.port}`)).toEqual(
      config.peerOrgs.map((org) => `${org.address}:${org.peer.port}`),
    );
    expect(missingMaterial(unpacked, hostedNodes(unpacked, 'TalentOrg'))).toEqual([]);
    // ClientOrg's peer key stayed behind, its TLS CA came along.
    const client = unpacked.peerOrgs[0];
    if (client === undefined) throw new Error('no ClientOrg');
    expect(missingMaterial(unpacked, hostedNodes(unpacked, 'ClientOrg'))).toContain(
      peerMaterial(unpacked, client).tlsKey,
    );
    const network = new LocalNetwork(unpacked, toolchainAt(path.join(dir, 'toolchain')));
    expect(network.nodeProcesses().map((request) => request.name)).toEqual([
      'ca-talentorg',
      'orderer1',
      'peer0.TalentOrg',
    ]);
    expect(network.nodeProcesses().every((request) => request.address === '10.9.0.2')).toBe(true);
    expect(network.connectionProfile().organizations.map((org) => org.name)).toEqual(['TalentOrg']);
  });

  it('refuses another organisation in the same home, a foreign file and a path outside the home', () => {
    const home = path.join(dir, 'talent-host-2');
    unpackOrgBundle(talentFile, home, 'TalentOrg');
    const clientFile = path.join(dir, 'ClientOrg.bundle.json');
    writeOrgBundle(exportOrgBundle(config, 'ClientOrg', 'ClientOrg.bundle.json'), clientFile);
    expect(() => unpackOrgBundle(clientFile, home, 'ClientOrg')).toThrow(
      `${home} holds TalentOrg's nodes; unpack ClientOrg's bundle into another GIGLEDGER_HOME`,
    );
    expect(() => unpackOrgBundle(clientFile, home, 'TalentOrg')).toThrow(
      `${clientFile} is ClientOrg's bundle, not TalentOrg's`,
    );
    const foreign = path.join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ format: 'something-else' }));
    expect(() => unpackOrgBundle(foreign, home, 'TalentOrg')).toThrow(/is not an organisation bundle: format: /);
    const escaping = JSON.parse(readFileSync(talentFile, 'utf8')) as { files: { path: string }[] };
    escaping.files = [{ ...(escaping.files[0] as { path: string }), path: '../outside' }];
    const escapingFile = path.join(dir, 'escaping.json');
    writeFileSync(escapingFile, JSON.stringify(escaping));
    expect(() => unpackOrgBundle(escapingFile, path.join(dir, 'talent-host-3'), 'TalentOrg')).toThrow(
      `${escapingFile}: ../outside points outside the home directory`,
    );
    expect(() => exportOrgBundle(loadNetworkConfig({ home }, {}), 'TalentOrg', 'x.json')).toThrow(
      `${home} holds TalentOrg's bundle; export from the home that generated the network`,
    );
  });

  it('checks every entry before writing any, so a refused bundle leaves nothing behind', () => {
    const talent = JSON.parse(readFileSync(talentFile, 'utf8')) as { files: { path: string; mode: number }[] };
    const [first] = talent.files;
    if (first === undefined) throw new Error('the bundle holds no file');
    const refusals: [{ path: string; mode: number }, string][] = [
      [{ ...first, path: '../../escape.txt' }, '../../escape.txt points outside the home directory'],
      [{ ...first, path: '/etc/escape.txt' }, '/etc/escape.txt points outside the home directory'],
      [{ ...first, path: 'cas/../../escape.txt' }, 'cas/../../escape.txt points outside the home directory'],
      [{ ...first, mode: 0o4755 }, `${first.path} has mode 4755, not a file mode of at most 0777`],
      [first, `${first.path} appears more than once`],
      [{ ...first, path: 'network.config.json' }, "network.config.json would replace the bundle's own network"],
      [{ ...first, path: 'organisations.json', base64: 'bm90IGpzb24=' } as never, 'organisations.json is not JSON'],
    ];
    for (const [index, [entry, message]] of refusals.entries()) {
      // The bad entry comes last: the valid ones before it (cas/, channel/, crypto/) must not be written either.
      const file = path.join(dir, `refused-${index}.json`);
      writeFileSync(file, JSON.stringify({ ...talent, files: [...talent.files, entry] }));
      const home = path.join(dir, `refused-home-${index}`);
      expect(() => unpackOrgBundle(file, home, 'TalentOrg')).toThrow(message);
      expect(existsSync(home)).toBe(false);
    }
    const badNetwork = path.join(dir, 'refused-network.json');
    writeFileSync(badNetwork, JSON.stringify({ ...talent, network: { channel: 'Not A Channel' } }));
    expect(() => unpackOrgBundle(badNetwork, path.join(dir, 'refused-home-network'), 'TalentOrg')).toThrow(
      `${badNetwork}: network: channel: must be a valid Fabric channel name`,
    );
    expect(existsSync(path.join(dir, 'refused-home-network'))).toBe(false);
  });

  it('refuses an entry that a symbolic link in the home would lead outside it, writing nothing', () => {
    const home = path.join(dir, 'linked-home');
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(home, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    symlinkSync(elsewhere, path.join(home, 'crypto'));
    expect(() => unpackOrgBundle(talentFile, home, 'TalentOrg')).toThrow(
      /crypto\/.* points outside the home directory/,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(home)).toEqual(['crypto']);
  });

  it('names what is missing when the material was never generated', () => {
    const empty = loadNetworkConfig({ home: path.join(dir, 'empty'), portOffset: 0 }, {});
    expect(() => exportOrgBundle(empty, 'TalentOrg', 'x.json')).toThrow(
      /the network's material is not generated \(missing .*gigledger\.block/,
    );
  });
});

describe('organisation bundles after network:add-org', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gl-bundle-added-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const home = path.join(dir, 'consortium');
  const label: AddedOrgEntry = {
    name: 'LabelOrg',
    mspId: 'LabelOrgMSP',
    address: '10.9.0.4',
    ...defaultOrgPorts(3),
    admission: { proposalId: 'P-1', signedBy: ['ClientOrgMSP', 'TalentOrgMSP'], at: '2026-01-01T00:00:00.000Z' },
  };
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(home, 'organisations.json'), JSON.stringify([label]));
  const config = loadNetworkConfig({ home, portOffset: 300, configFile: spreadConfigFile(dir) }, {});
  fakeMaterial(config, [...orgs, 'LabelOrg']);

  it("exports a founder's bundle that knows the added organisation, its address, ports and admission", () => {
    const file = path.join(dir, 'TalentOrg.bundle.json');
    writeOrgBundle(exportOrgBundle(config, 'TalentOrg', 'TalentOrg.bundle.json'), file);
    const talentHome = path.join(dir, 'talent-host');
    unpackOrgBundle(file, talentHome, 'TalentOrg');
    const unpacked = loadNetworkConfig({ home: talentHome }, {});
    expect(unpacked.peerOrgs.map((org) => `${org.mspId}@${org.address}:${org.peer.port}`)).toEqual(
      config.peerOrgs.map((org) => `${org.mspId}@${org.address}:${org.peer.port}`),
    );
    expect(unpacked.peerOrgs.at(-1)?.admission).toEqual(label.admission);
    expect(portAssignments(unpacked)).toEqual(portAssignments(config));
    expect(missingMaterial(unpacked, hostedNodes(unpacked, 'TalentOrg'))).toEqual([]);
  });

  it("exports the added organisation's own bundle with its keys, and its host starts its CA and peer only", () => {
    const file = path.join(dir, 'LabelOrg.bundle.json');
    const bundle = exportOrgBundle(config, 'LabelOrg', 'LabelOrg.bundle.json');
    writeOrgBundle(bundle, file);
    const keys = bundle.files.map((entry) => entry.path).filter((entry) => /(_sk|\.key)$/.test(entry));
    expect(keys.filter((key) => key.includes('labelorg.gigledger.local')).length).toBeGreaterThan(0);
    expect(keys.filter((key) => key.includes('talentorg.gigledger.local'))).toEqual([]);
    const labelHome = path.join(dir, 'label-host');
    unpackOrgBundle(file, labelHome, 'LabelOrg');
    const unpacked = loadNetworkConfig({ home: labelHome }, {});
    expect(unpacked.bundleOf).toBe('LabelOrg');
    expect(missingMaterial(unpacked, hostedNodes(unpacked, 'LabelOrg'))).toEqual([]);
    const network = new LocalNetwork(unpacked, toolchainAt(path.join(dir, 'toolchain')));
    expect(network.nodeProcesses().map((request) => `${request.name}@${request.address ?? ''}`)).toEqual([
      'ca-labelorg@10.9.0.4',
      'peer0.LabelOrg@10.9.0.4',
    ]);
  });
});
