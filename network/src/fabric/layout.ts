import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { NetworkConfig, OrdererNode, PeerOrg } from '../config.js';

/** Where cryptogen puts the material of one node or user: its MSP and its TLS files. */
export interface NodeMaterial {
  readonly mspDir: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** The TLS CA certificate that signed `tlsCert`. */
  readonly tlsCa: string;
}

/** TLS material for the chaincode server, which sits outside every channel organisation. */
export const chaincodeServerDomainPrefix = 'chaincode';

export function ordererOrgDir(config: NetworkConfig): string {
  return path.join(config.paths.crypto, 'ordererOrganizations', config.ordererOrg.domain);
}

export function peerOrgDir(config: NetworkConfig, org: PeerOrg): string {
  return path.join(config.paths.crypto, 'peerOrganizations', org.domain);
}

export function ordererMaterial(config: NetworkConfig, node: OrdererNode): NodeMaterial {
  const dir = path.join(ordererOrgDir(config), 'orderers', node.host);
  return tlsMaterial(dir, 'server');
}

export function peerMaterial(config: NetworkConfig, org: PeerOrg): NodeMaterial {
  return tlsMaterial(path.join(peerOrgDir(config, org), 'peers', org.peer.host), 'server');
}

/** TLS server certificate for the organisation's Fabric CA, issued by the organisation's TLS CA. */
export function caTlsMaterial(config: NetworkConfig, org: PeerOrg): NodeMaterial {
  return tlsMaterial(path.join(peerOrgDir(config, org), 'peers', `ca.${org.domain}`), 'server');
}

/** The organisation's signing CA: the Fabric CA server issues with this key so its users belong to the MSP. */
export function orgSigningCa(config: NetworkConfig, org: PeerOrg): { cert: string; key: string } {
  const dir = path.join(peerOrgDir(config, org), 'ca');
  return { cert: path.join(dir, `ca.${org.domain}-cert.pem`), key: path.join(dir, 'priv_sk') };
}

export function orgTlsCa(config: NetworkConfig, org: PeerOrg): string {
  return path.join(peerOrgDir(config, org), 'tlsca', `tlsca.${org.domain}-cert.pem`);
}

export function ordererTlsCa(config: NetworkConfig): string {
  return path.join(ordererOrgDir(config), 'tlsca', `tlsca.${config.ordererOrg.domain}-cert.pem`);
}

export function orgAdmin(config: NetworkConfig, org: PeerOrg): NodeMaterial {
  return tlsMaterial(path.join(peerOrgDir(config, org), 'users', `Admin@${org.domain}`), 'client');
}

/**
 * The organisation's TLS client identity for gRPC connections from its applications
 * (gateway clients present it to peers that require client certificates).
 */
export function orgTlsClient(config: NetworkConfig, org: PeerOrg): NodeMaterial {
  return tlsMaterial(path.join(peerOrgDir(config, org), 'users', `User1@${org.domain}`), 'client');
}

export function ordererAdmin(config: NetworkConfig): NodeMaterial {
  return tlsMaterial(path.join(ordererOrgDir(config), 'users', `Admin@${config.ordererOrg.domain}`), 'client');
}

export function chaincodeServerDomain(config: NetworkConfig): string {
  return `${chaincodeServerDomainPrefix}.${config.domain}`;
}

export function chaincodeServerMaterial(config: NetworkConfig): NodeMaterial {
  const domain = chaincodeServerDomain(config);
  return tlsMaterial(
    path.join(config.paths.crypto, 'peerOrganizations', domain, 'peers', `server.${domain}`),
    'server',
  );
}

/** The client identity peers present to the chaincode server. */
export function chaincodeClientMaterial(config: NetworkConfig): NodeMaterial {
  const domain = chaincodeServerDomain(config);
  return tlsMaterial(path.join(config.paths.crypto, 'peerOrganizations', domain, 'users', `User1@${domain}`), 'client');
}

export function orgMspDir(config: NetworkConfig, org: PeerOrg): string {
  return path.join(peerOrgDir(config, org), 'msp');
}

export function ordererOrgMspDir(config: NetworkConfig): string {
  return path.join(ordererOrgDir(config), 'msp');
}

export function genesisBlockFile(config: NetworkConfig): string {
  return path.join(config.paths.channelArtifacts, `${config.channel}.block`);
}

/** The single private key file cryptogen writes into an MSP's keystore. */
export function keystoreFile(mspDir: string): string {
  const keystore = path.join(mspDir, 'keystore');
  const [first] = readdirSync(keystore);
  if (first === undefined) throw new Error(`no private key in ${keystore}`);
  return path.join(keystore, first);
}

export function signcertFile(mspDir: string): string {
  const dir = path.join(mspDir, 'signcerts');
  const [first] = readdirSync(dir);
  if (first === undefined) throw new Error(`no certificate in ${dir}`);
  return path.join(dir, first);
}

/** The MSP folder and TLS files of a node or user folder laid out by cryptogen (`tls/server.*` or `tls/client.*`). */
function tlsMaterial(dir: string, side: 'server' | 'client'): NodeMaterial {
  return {
    mspDir: path.join(dir, 'msp'),
    tlsCert: path.join(dir, 'tls', `${side}.crt`),
    tlsKey: path.join(dir, 'tls', `${side}.key`),
    tlsCa: path.join(dir, 'tls', 'ca.crt'),
  };
}
