import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NetworkConfig, PeerOrg } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { ordererClientFlags, peerAdminEnv } from './channel.js';
import { orgTlsCa, peerMaterial } from './layout.js';
import { ensureRegistrar } from './nodes.js';
import { runCommand } from './run-command.js';

/** An identity enrolled from an organisation's Fabric CA into an MSP folder. */
export interface EnrolledIdentity {
  readonly enrollmentId: string;
  readonly mspDir: string;
}

function caUrl(org: PeerOrg, enrollmentId?: string, secret?: string): string {
  const credentials = enrollmentId === undefined ? '' : `${enrollmentId}:${encodeURIComponent(secret ?? '')}@`;
  return `https://${credentials}${org.address}:${org.ca.port}`;
}

function caClientArgs(config: NetworkConfig, org: PeerOrg): string[] {
  return ['--caname', org.ca.name, '--tls.certfiles', orgTlsCa(config, org)];
}

function caClientEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, FABRIC_CA_CLIENT_HOME: home };
}

export function identityDir(config: NetworkConfig, org: PeerOrg, enrollmentId: string): string {
  return path.join(config.paths.identities, org.name, enrollmentId);
}

/** Enrolls the CA's bootstrap registrar once, so it can register further identities. */
export async function enrollRegistrar(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
): Promise<EnrolledIdentity> {
  const registrar = ensureRegistrar(org);
  const home = identityDir(config, org, registrar.enrollmentId);
  const mspDir = path.join(home, 'msp');
  if (!existsSync(path.join(mspDir, 'signcerts'))) {
    mkdirSync(home, { recursive: true });
    await runCommand(
      toolchain.bin('fabric-ca-client'),
      [
        'enroll',
        '-u',
        caUrl(org, registrar.enrollmentId, registrar.secret),
        '-M',
        mspDir,
        ...caClientArgs(config, org),
      ],
      { env: caClientEnv(home), secrets: [registrar.secret, encodeURIComponent(registrar.secret)] },
    );
  }
  return { enrollmentId: registrar.enrollmentId, mspDir };
}

/**
 * Registers (once) and enrolls an identity carrying GigLedger's certificate
 * attributes, e.g. the organisation's operator with role `admin`.
 */
export async function enrollWithAttributes(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  enrollmentId: string,
  attributes: Readonly<Record<string, string>>,
): Promise<EnrolledIdentity> {
  const home = identityDir(config, org, enrollmentId);
  const mspDir = path.join(home, 'msp');
  if (existsSync(path.join(mspDir, 'signcerts'))) return { enrollmentId, mspDir };
  const registrar = await enrollRegistrar(config, toolchain, org);
  mkdirSync(home, { recursive: true });
  const secretFile = path.join(home, 'secret');
  let secret: string;
  if (existsSync(secretFile)) {
    secret = readFileSync(secretFile, 'utf8').trim();
  } else {
    secret = randomBytes(18).toString('base64url');
    await registerOrResetSecret(config, toolchain, org, registrar, enrollmentId, secret, attributes);
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  }
  await runCommand(
    toolchain.bin('fabric-ca-client'),
    ['enroll', '-u', caUrl(org, enrollmentId, secret), '-M', mspDir, ...caClientArgs(config, org)],
    { env: caClientEnv(home), secrets: [secret] },
  );
  writeNodeOuConfig(mspDir);
  return { enrollmentId, mspDir };
}

/**
 * Registers the identity; if the CA already knows it (its secret file was lost), sets
 * a new secret instead, so the identity keeps its registration and attributes.
 */
async function registerOrResetSecret(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  registrar: EnrolledIdentity,
  enrollmentId: string,
  secret: string,
  attributes: Readonly<Record<string, string>>,
): Promise<void> {
  const common = ['-u', caUrl(org), '--mspdir', registrar.mspDir, ...caClientArgs(config, org)];
  // The secret travels in the environment so it is in neither the process list nor error text.
  const env = { ...caClientEnv(identityDir(config, org, registrar.enrollmentId)), FABRIC_CA_CLIENT_ID_SECRET: secret };
  const attrs = Object.entries(attributes)
    .map(([name, value]) => `${name}=${value}:ecert`)
    .join(',');
  try {
    await runCommand(
      toolchain.bin('fabric-ca-client'),
      ['register', ...common, '--id.name', enrollmentId, '--id.type', 'client', '--id.attrs', attrs],
      { env },
    );
  } catch (error) {
    if (!(error instanceof Error && /is already registered/.test(error.message))) throw error;
    await runCommand(
      toolchain.bin('fabric-ca-client'),
      ['identity', 'modify', enrollmentId, ...common, '--secret', secret],
      {
        env,
        secrets: [secret],
      },
    );
  }
}

/**
 * The peer CLI loads its local MSP in full and refuses one without NodeOU rules or
 * admin certificates; fabric-ca-client writes neither, so the rules are added here
 * against the CA certificate it stored.
 */
function writeNodeOuConfig(mspDir: string): void {
  const [caCert] = readdirSync(path.join(mspDir, 'cacerts'));
  if (caCert === undefined) throw new Error(`no CA certificate in ${mspDir}/cacerts`);
  const rule = (unit: string): string =>
    `  ${unit[0]?.toUpperCase() ?? ''}${unit.slice(1)}OUIdentifier:\n    Certificate: cacerts/${caCert}\n    OrganizationalUnitIdentifier: ${unit}\n`;
  writeFileSync(
    path.join(mspDir, 'config.yaml'),
    `NodeOUs:\n  Enable: true\n${['client', 'peer', 'admin', 'orderer'].map(rule).join('')}`,
  );
}

/** The enrollment id of an organisation's operator: role `admin`, used for bootstrap transactions. */
export function operatorId(org: PeerOrg): string {
  return `operator-${org.name.toLowerCase()}`;
}

export async function enrollOperator(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
): Promise<EnrolledIdentity> {
  const id = operatorId(org);
  return enrollWithAttributes(config, toolchain, org, id, { role: 'admin', userId: id });
}

function operatorEnv(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  operator: EnrolledIdentity,
): NodeJS.ProcessEnv {
  return { ...process.env, ...peerAdminEnv(config, toolchain, org), CORE_PEER_MSPCONFIGPATH: operator.mspDir };
}

/**
 * Genesis: as the first organisation's operator (an admin), sets the consortium
 * parameters and member rights from network.config.json that the ledger does not hold
 * yet, then seals genesis so that from then on only executed governance proposals
 * change them. A network whose genesis is sealed is left as it is.
 */
export async function applyGenesis(
  config: NetworkConfig,
  toolchain: Toolchain,
  report: (line: string) => void,
): Promise<void> {
  const [org] = config.peerOrgs;
  const orderer = config.ordererOrg.orderers[0];
  if (org === undefined || orderer === undefined)
    throw new Error('the network needs a peer organisation and an orderer');
  const operator = await enrollOperator(config, toolchain, org);
  const env = operatorEnv(config, toolchain, org, operator);
  const chaincodeFlags = ['-C', config.channel, '-n', config.chaincode.name];
  const query = async (fn: string): Promise<unknown> => {
    const { stdout } = await runCommand(
      toolchain.bin('peer'),
      ['chaincode', 'query', ...chaincodeFlags, '-c', JSON.stringify({ Args: [fn] })],
      { env },
    );
    return JSON.parse(stdout) as unknown;
  };
  const peerFlags = config.peerOrgs.flatMap((peerOrg) => [
    '--peerAddresses',
    `${peerOrg.address}:${peerOrg.peer.port}`,
    '--tlsRootCertFiles',
    peerMaterial(config, peerOrg).tlsCa,
  ]);
  const invoke = async (fn: string, argument?: unknown): Promise<void> => {
    const call = { Args: argument === undefined ? [fn] : [fn, JSON.stringify(argument)] };
    await runCommand(
      toolchain.bin('peer'),
      [
        'chaincode',
        'invoke',
        ...ordererClientFlags(config, org, orderer),
        ...chaincodeFlags,
        ...peerFlags,
        '-c',
        JSON.stringify(call),
        '--waitForEvent',
      ],
      { env },
    );
  };

  const genesis = (await query('governance:getGenesis')) as { sealed: boolean };
  if (genesis.sealed) return;
  const present = new Set(
    ((await query('parameter:listParameters')) as { name: string }[]).map((record) => record.name),
  );
  for (const [name, value] of Object.entries(config.genesisParameters)) {
    if (present.has(name)) continue;
    await invoke('parameter:setParameter', { name, value });
    report(`  parameter ${name} = ${JSON.stringify(value)}`);
  }
  const members = Object.entries(config.genesisMembers).map(([mspId, rights]) => ({
    type: 'setMemberRights',
    mspId,
    voting: rights.voting,
    veto: rights.veto,
  }));
  await invoke('governance:applyGenesisActions', { actions: members });
  report(`  members ${members.map((member) => `${member.mspId}${member.veto ? ' (veto)' : ''}`).join(', ')}`);
  await invoke('governance:sealGenesis');
  report('  genesis sealed: from now on the rules change only through governance proposals');
}

/** Whether governance's genesis is sealed, read by `org`'s operator: from then on only executed proposals change membership. */
export async function readGenesisSealed(config: NetworkConfig, toolchain: Toolchain, org: PeerOrg): Promise<boolean> {
  return ((await queryAsOperator(config, toolchain, org, ['governance:getGenesis'])) as { sealed: boolean }).sealed;
}

/**
 * Evaluates a chaincode transaction (`Args`: its name, then its arguments) on `org`'s
 * peer as the organisation's operator, with the stock `peer chaincode query`.
 *
 * @returns the transaction's JSON answer, parsed.
 * @throws Error when the peer refuses or the command fails.
 */
export async function queryAsOperator(
  config: NetworkConfig,
  toolchain: Toolchain,
  org: PeerOrg,
  args: readonly string[],
): Promise<unknown> {
  const operator = await enrollOperator(config, toolchain, org);
  const { stdout } = await runCommand(
    toolchain.bin('peer'),
    ['chaincode', 'query', '-C', config.channel, '-n', config.chaincode.name, '-c', JSON.stringify({ Args: args })],
    { env: operatorEnv(config, toolchain, org, operator) },
  );
  return JSON.parse(stdout) as unknown;
}
