import { randomBytes } from 'node:crypto';
import { certificateCommonName, type LedgerGateway, type LedgerSession } from '@gigledger/gateway';
import {
  enactByVote,
  grantKyc,
  LocalNetwork,
  openConsortiumLedger,
  toolchainAt,
  toolchainDir,
  type NetworkConfig,
} from '@gigledger/network';
import type { AuditRecordKind, GovernanceAction, Role } from '@gigledger/chaincode/model';
import { e2eConfig } from './e2e-environment.js';

/** What an e2e suite works with: the network, its gateway connections and each organisation's CA. */
export interface E2eContext {
  readonly config: NetworkConfig;
  readonly network: LocalNetwork;
  readonly ledger: LedgerGateway;
  /** Registers and enrolls a fresh identity in an organisation and opens a session for it. */
  enroll(orgName: string, role: Role, userIdPrefix?: string): Promise<LedgerSession>;
  /** A governor of every organisation (enrolled once), enough to pass any proposal. */
  governors(): Promise<LedgerSession[]>;
  /** Proposes `actions`, has every organisation vote yes, waits out the timelock and executes. */
  enact(actions: readonly GovernanceAction[]): Promise<void>;
  close(): void;
}

export function openE2eContext(): E2eContext {
  const config = e2eConfig();
  const network = new LocalNetwork(config, toolchainAt(toolchainDir()));
  const consortium = openConsortiumLedger(config);
  return {
    config,
    network,
    ledger: consortium.ledger,
    governors: () => consortium.governors(),
    enroll: (orgName, role, userIdPrefix) => consortium.enroll(orgName, role, userIdPrefix),
    async enact(actions) {
      await enactByVote(await consortium.governors(), actions);
    },
    close() {
      consortium.close();
    },
  };
}

/** Clears `people` for payouts through a KYC issuer the governors vote in (see {@link grantKyc}). */
export async function grantKycTo(
  context: E2eContext,
  people: readonly { mspId: string; userId: string }[],
): Promise<void> {
  await grantKyc(await context.governors(), await context.enroll('AuditOrg', 'issuer', 'kyc-office'), people);
}

/**
 * Lets `auditor` read the records of `orgName` of these kinds for an hour: an admin of
 * that organisation grants it, as auditors read nothing without a grant.
 */
export async function grantAuditTo(
  context: E2eContext,
  orgName: string,
  auditor: LedgerSession,
  kinds: readonly AuditRecordKind[],
): Promise<void> {
  const admin = await context.enroll(orgName, 'admin', 'audit-ops');
  try {
    await admin.audit.grantAuditAccess({
      grantId: `AG-${randomBytes(6).toString('hex')}`,
      auditor: partyOf(auditor),
      kinds: [...kinds],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      purpose: 'end-to-end suite',
    });
  } finally {
    admin.close();
  }
}

/** The party a session acts as: its MSP id and the `userId` its certificate carries. */
export function partyOf(session: LedgerSession): { mspId: string; userId: string } {
  return { mspId: session.identity.mspId, userId: certificateCommonName(session.identity.certificatePem) };
}

/**
 * Has `proposer` (a governor) open a proposal that stays open for votes for ten minutes:
 * a transaction any governor can answer with a write, for suites that need commits.
 */
export async function openProposal(proposer: LedgerSession, title = 'Network check'): Promise<string> {
  const proposalId = `NET-${randomBytes(4).toString('hex')}`;
  await proposer.governance.propose({
    proposalId,
    title,
    text: `${title}: a proposal the suite votes on.`,
    actions: [{ type: 'setParameter', name: 'maxRevisions', value: 3 }],
    votingSeconds: 600,
    timelockSeconds: 600,
  });
  return proposalId;
}
