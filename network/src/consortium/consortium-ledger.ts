import { randomBytes } from 'node:crypto';
import type { Role } from '@gigledger/chaincode/model';
import {
  CertificateAuthority,
  LedgerGateway,
  PeerConnections,
  readConnectionProfile,
  readMspIdentity,
  type ConnectionProfile,
  type LedgerSession,
} from '@gigledger/gateway';
import type { NetworkConfig } from '../config.js';

/**
 * Gateway access to a running network for tools that act as many people (test suites,
 * benchmarks): one shared connection per peer, identities enrolled from each
 * organisation's CA on demand, and one governor per member organisation for votes.
 */
export interface ConsortiumLedger {
  readonly profile: ConnectionProfile;
  readonly ledger: LedgerGateway;
  /**
   * Registers and enrolls a new identity `<userIdPrefix>-<8 hex>` with `role` at the
   * organisation's CA and opens a session for it.
   *
   * @throws Error when the connection profile has no organisation `orgName`.
   */
  enroll(orgName: string, role: Role, userIdPrefix?: string): Promise<LedgerSession>;
  /** One governor session per organisation of the profile, enrolled once. */
  governors(): Promise<LedgerSession[]>;
  /** Closes every session, then the gateway and the peer connections. */
  close(): void;
}

/**
 * Opens the network's gateway as the API does: a submit returns once every peer has
 * the block (read-your-writes, checked with the first organisation's operator).
 *
 * @throws Error when the connection profile lists no organisation.
 */
export function openConsortiumLedger(config: NetworkConfig): ConsortiumLedger {
  const profile = readConnectionProfile(config.paths.connectionProfile);
  const connections = new PeerConnections(profile);
  const ledger = new LedgerGateway(connections);
  const [operatorOrg] = profile.organizations;
  if (operatorOrg === undefined) throw new Error('the connection profile lists no organisation');
  ledger.enableReadYourWrites(readMspIdentity(operatorOrg.operatorMspDir, operatorOrg.mspId));
  const authorities = new Map<string, CertificateAuthority>();
  const sessions: LedgerSession[] = [];
  let governors: Promise<LedgerSession[]> | undefined;

  const consortium: ConsortiumLedger = {
    profile,
    ledger,
    async enroll(orgName, role, userIdPrefix = role) {
      const organization = profile.organizations.find((org) => org.name === orgName);
      if (organization === undefined) throw new Error(`no organisation ${orgName} in the connection profile`);
      let authority = authorities.get(orgName);
      if (authority === undefined) {
        authority = new CertificateAuthority(organization);
        authorities.set(orgName, authority);
      }
      const userId = `${userIdPrefix}-${randomBytes(4).toString('hex')}`;
      const session = ledger.session(await authority.registerAndEnroll({ enrollmentId: userId, role, userId }));
      sessions.push(session);
      return session;
    },
    governors() {
      governors ??= Promise.all(profile.organizations.map((org) => consortium.enroll(org.name, 'governor', 'gov')));
      return governors;
    },
    close() {
      for (const session of sessions) session.close();
      ledger.close();
      connections.close();
    },
  };
  return consortium;
}
