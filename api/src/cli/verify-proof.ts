#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { verifyProof, type ProofVerdict } from '@gigledger/gateway';
import { HelpRequested, parseCommandLine } from './command-line.js';

/*
 * Verifies a transaction proof bundle offline (no network, no ledger):
 *
 *     node api/dist/cli/verify-proof.js <bundle.json> [--json]
 *
 * Prints the verdict and exits 0 when the proof holds, 1 when it does not (the first
 * failure's code, place and reason), 2 on bad usage, an unreadable file or a file that
 * is not a proof bundle (one line on standard error). The rules are the gateway's
 * `verifyProof`: among them, a record proof's kind and id must give the key it names, and
 * certificates are judged at times the bundle's signatures bind, never at `exportedAt`.
 */

const usage = 'usage: verify-proof <bundle.json> [--json]';

function formatVerdict(verdict: ProofVerdict): string {
  const lines = [verdict.valid ? 'VALID transaction proof' : 'INVALID transaction proof'];
  for (const failure of verdict.failures) {
    // Messages name their part; the place is added only where one does not.
    const text = failure.message.includes(failure.where) ? failure.message : `${failure.where}: ${failure.message}`;
    lines.push(`  ${failure.code}  ${text}`);
  }
  const transaction = verdict.transaction;
  if (transaction !== undefined) {
    lines.push(
      `  transaction  ${transaction.id}`,
      `  channel      ${transaction.channel}, block ${transaction.block}, position ${transaction.index}, at ${transaction.timestamp}`,
      `  created by   ${transaction.creatorMspId}, chaincode ${transaction.chaincode}`,
      `  endorsed by  ${transaction.endorsers.join(', ')}`,
      `  policy       ${verdict.endorsementPolicy ?? ''}`,
    );
  }
  const definition = verdict.chaincodeDefinition;
  if (definition !== undefined)
    lines.push(
      `  definition   ${definition.name} ${definition.version}, sequence ${definition.sequence}, committed by ${definition.committedBy}`,
      `               its policy written by ${definition.policySetBy}`,
    );
  if (verdict.record !== undefined)
    lines.push(
      `  record       ${verdict.record.kind} ${verdict.record.id}, key ${JSON.stringify(verdict.record.key)} (written by this transaction; that no later one wrote it is the exporter’s word)`,
    );
  if (verdict.signedBlock !== undefined)
    lines.push(
      `  anchored on  block ${verdict.signedBlock.number}, signed by ${verdict.signedBlock.signers.join('; ')}`,
      `  orderers     ${verdict.ordererPolicy ?? ''}`,
    );
  for (const anchored of verdict.anchoredBlocks ?? [])
    lines.push(`  also signed  block ${anchored.number}, by ${anchored.signers.join('; ')}`);
  for (const anchor of verdict.trustAnchors ?? [])
    lines.push(`  CA ${anchor.mspId.padEnd(12)} ${anchor.rootFingerprints.join(', ')}`);
  lines.push('  not shown by this proof:', ...verdict.notChecked.map((item) => `    - ${item}`));
  return lines.join('\n');
}

function run(args: string[]): number {
  let parsed: { positionals: string[]; values: { json?: boolean | undefined } };
  try {
    parsed = parseCommandLine(usage, { args, options: { json: { type: 'boolean' } }, allowPositionals: true });
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(usage);
      return 0;
    }
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  const [file] = parsed.positionals;
  if (file === undefined || parsed.positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`cannot read the bundle ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const verdict = verifyProof(bundle);
  const [format] = verdict.failures;
  if (format?.code === 'BUNDLE_FORMAT') {
    // Nothing was verified, so neither a verdict nor the list of what a proof cannot show applies.
    console.error(`${file} is not a proof bundle (${format.message.replace(/^not a proof bundle: /, '')})`);
    return 2;
  }
  console.log(parsed.values.json === true ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict));
  return verdict.valid ? 0 : 1;
}

process.exitCode = run(process.argv.slice(2));
