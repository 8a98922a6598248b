#!/usr/bin/env node
import path from 'node:path';
import { qsccLedgerBlocks, type SigningIdentity } from '@gigledger/gateway';
import { checkIndex } from '../audit-index/index-check.js';
import { indexCrashInjection } from '../audit-index/index-crash.js';
import { IndexFollower } from '../audit-index/index-follower.js';
import { serviceUserId } from '../auth/principal.js';
import { parseApiConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { FabricCaIssuer } from '../identity/identity-issuer.js';
import { loadOrCreateSecret } from '../identity/secrets.js';
import { Wallet } from '../identity/wallet.js';
import { createLogger } from '../observability/logger.js';
import { parseCommandLine, UsageError } from './command-line.js';
import { runToExitCode } from './exit-code.js';
import { openOperatorLedger } from './operator-ledger.js';

/*
 * The audit index for an operator, with the API's own configuration (the same
 * environment variables: connection profile, data directory or DATABASE_URL).
 *
 *     node api/dist/cli/audit-index.js rebuild    empty the index and read the chain again from block 0
 *     node api/dist/cli/audit-index.js catch-up   index from the checkpoint up to the channel's height
 *     node api/dist/cli/audit-index.js check      catch up, then compare the index with the ledger [--json]
 *
 * Blocks are read as the first organisation's operator; `check` reads records through
 * the chaincode as the audit-index service identity (role admin, enrolled once at the
 * auditing organisation's CA and kept in the wallet), and agreements, licences and
 * ownership changes as that identity's counterpart at each organisation's CA (an admin
 * reads those naming its own organisation's people): an auditor reads only what the organisations
 * granted it, while the check must see every record the index holds. Exits 0 when done (for
 * check: no difference), 1 when check lists differences, 2 on bad usage or failure.
 */

const usage = 'usage: audit-index <rebuild|catch-up|check> [--json]';
const checkerLabel = 'service:audit-index-check';

/** The checker's admin identity at an organisation's CA: the auditing organisation's keeps its first label. */
async function checkerIdentity(
  wallet: Wallet,
  issuer: FabricCaIssuer,
  org: string,
  label = checkerLabel,
): Promise<SigningIdentity> {
  const stored = await wallet.get(label);
  if (stored !== undefined) return stored;
  const enrollmentId = serviceUserId('audit-index-check');
  const identity = await issuer.issue({ org, enrollmentId, role: 'admin', userId: enrollmentId });
  await wallet.put({ ...identity, label, enrollmentId });
  return identity;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(usage, {
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  if (command !== 'rebuild' && command !== 'catch-up' && command !== 'check') {
    throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`, usage);
  }
  const config = parseApiConfig(process.env);
  const log = createLogger(config.logLevel, 'stderr');
  const db = await openDatabase(config.database);
  const ledger = openOperatorLedger(config.connectionProfile);
  const { profile, gateway, operatorOrg, operator: session } = ledger;
  const network = session.gateway.getNetwork(profile.channel);
  const closers: (() => void)[] = [];
  try {
    const follower = new IndexFollower(network, db, {
      chaincode: profile.chaincode,
      log,
      crash: indexCrashInjection(process.env.GIGLEDGER_INDEX_CRASH_AT),
    });
    if (command === 'rebuild') await follower.indexer.clear();
    // Named, so that a peer that stops answering is told apart from a check's own failure.
    const height = await qsccLedgerBlocks(network)
      .height()
      .then(async (channelHeight) => {
        await follower.catchUp(channelHeight);
        return channelHeight;
      })
      .catch((error: unknown) => {
        throw new Error(
          `could not follow channel ${profile.channel} through ${operatorOrg.name}'s peer: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      });
    const indexed = await follower.indexer.height();
    if (command !== 'check') {
      process.stdout.write(
        `The index holds blocks 0 to ${(indexed - 1n).toString()} (channel height ${height.toString()}).\n`,
      );
      return 0;
    }
    const auditOrg = profile.organizations.find((org) => org.name === 'AuditOrg') ?? operatorOrg;
    const wallet = new Wallet(db, loadOrCreateSecret(path.join(config.dataDir, 'wallet.key'), 32));
    const auditor = gateway.session(await checkerIdentity(wallet, new FabricCaIssuer(profile), auditOrg.name));
    closers.push(() => {
      auditor.close();
    });
    // An admin reads the agreements, licences and ownership changes naming its own
    // organisation's people: each organisation's checker reads its share.
    const agreementReaders = new Map<string, typeof auditor>();
    for (const org of profile.organizations) {
      const session =
        org.name === auditOrg.name
          ? auditor
          : gateway.session(
              await checkerIdentity(wallet, new FabricCaIssuer(profile), org.name, `${checkerLabel}:${org.name}`),
            );
      if (session !== auditor)
        closers.push(() => {
          session.close();
        });
      agreementReaders.set(org.mspId, session);
    }
    const report = await checkIndex(db, auditor, indexed, (mspId) => agreementReaders.get(mspId) ?? auditor, [
      ...agreementReaders.values(),
    ]);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const { checked } = report;
      process.stdout.write(
        `Index at height ${report.indexedHeight}: ${String(checked.agreements)} agreements, ${String(checked.milestones)} milestones, ${String(checked.payouts)} payouts, ${String(checked.credentials)} credentials, ${String(checked.reputation)} reputation records, ` +
          `${String(checked.proposals)} proposals, ${String(checked.votes)} votes, ${String(checked.works)} works, ${String(checked.ownershipChanges)} ownership changes, ` +
          `${String(checked.licenceOffers)} licence offers, ${String(checked.licences)} licences, ${String(checked.royaltyPeriods)} royalty periods, ` +
          `${String(checked.provenanceRecords)} dataset and model records, ${String(checked.lineageEdges)} lineage edges compared with the ledger ` +
          `(not compared: ${report.notCompared.join(', ')}).\n`,
      );
      if (report.differences.length === 0) process.stdout.write('No difference.\n');
      for (const difference of report.differences) {
        process.stdout.write(`  ${difference.kind}  ${difference.id}  ${difference.problem}  ${difference.detail}\n`);
      }
    }
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    for (const close of closers) close();
    ledger.close();
    await db.destroy();
  }
}

runToExitCode(main, 'audit-index: ');
