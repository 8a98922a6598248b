import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { NetworkConfig } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { chaincodeServerDomain, ordererOrgDir } from './layout.js';
import { runCommand } from './run-command.js';

// A certificate names the node's configured address besides loopback, so clients on
// this host and on others both verify it; cryptogen adds the node's own host name.
function sans(address: string): string[] {
  return [...new Set([address, '127.0.0.1', 'localhost'])];
}

/** The cryptogen input for the whole network, as a plain object. */
export function cryptoSpec(config: NetworkConfig): unknown {
  return {
    OrdererOrgs: [
      {
        Name: config.ordererOrg.name,
        Domain: config.ordererOrg.domain,
        EnableNodeOUs: true,
        Specs: config.ordererOrg.orderers.map((node) => ({ Hostname: node.name, SANS: sans(node.address) })),
      },
    ],
    PeerOrgs: [
      ...config.peerOrgs.map((org) => ({
        Name: org.name,
        Domain: org.domain,
        EnableNodeOUs: true,
        Specs: [
          { Hostname: org.peer.name, SANS: sans(org.address) },
          // Not a peer: the TLS server certificate of the organisation's Fabric CA.
          { Hostname: 'ca', SANS: sans(org.address) },
        ],
        // User1 is the organisation's TLS client identity for application connections.
        Users: { Count: 1 },
      })),
      {
        // A TLS authority of its own for the chaincode server, which peers of every
        // organisation dial; it is no member of the channel.
        Name: 'ChaincodeServers',
        Domain: chaincodeServerDomain(config),
        EnableNodeOUs: false,
        Specs: [{ Hostname: 'server', SANS: sans(config.chaincode.address) }],
        Users: { Count: 1 },
      },
    ],
  };
}

export function isCryptoGenerated(config: NetworkConfig): boolean {
  return existsSync(ordererOrgDir(config));
}

/** Generates all certificates and keys with cryptogen (NodeOUs on), replacing earlier material. */
export async function generateCrypto(config: NetworkConfig, toolchain: Toolchain): Promise<void> {
  mkdirSync(config.paths.config, { recursive: true });
  const specFile = path.join(config.paths.config, 'crypto-config.yaml');
  writeFileSync(specFile, stringify(cryptoSpec(config)));
  rmSync(config.paths.crypto, { recursive: true, force: true });
  await runCommand(toolchain.bin('cryptogen'), ['generate', `--config=${specFile}`, `--output=${config.paths.crypto}`]);
}
