import {
  LedgerGateway,
  PeerConnections,
  readConnectionProfile,
  readMspIdentity,
  type ConnectionProfile,
  type LedgerSession,
} from '@gigledger/gateway';

/** A command-line tool's way onto the ledger: the first organisation's operator over its peers. */
export interface OperatorLedger {
  readonly profile: ConnectionProfile;
  readonly gateway: LedgerGateway;
  readonly operatorOrg: ConnectionProfile['organizations'][number];
  readonly operator: LedgerSession;
  /** Closes the operator's session, the gateway and the peer connections. */
  close(): void;
}

/**
 * Opens the connection profile's peers as the first organisation's operator, as the
 * operator commands (index, read log, proofs, reconciliation) read the ledger.
 *
 * @throws Error when the connection profile cannot be read or lists no organisation.
 */
export function openOperatorLedger(connectionProfile: string): OperatorLedger {
  const profile = readConnectionProfile(connectionProfile);
  const [operatorOrg] = profile.organizations;
  if (operatorOrg === undefined) throw new Error('the connection profile lists no organisation');
  const connections = new PeerConnections(profile);
  const gateway = new LedgerGateway(connections);
  const operator = gateway.session(readMspIdentity(operatorOrg.operatorMspDir, operatorOrg.mspId));
  return {
    profile,
    gateway,
    operatorOrg,
    operator,
    close() {
      operator.close();
      gateway.close();
      connections.close();
    },
  };
}
