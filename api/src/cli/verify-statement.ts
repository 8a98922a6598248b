#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { HelpRequested, parseCommandLine } from './command-line.js';
import { verifyStatementText, type StatementVerdict } from '../reputation/statement.js';

/*
 * Verifies a portable reputation statement offline, against the CA certificate of the
 * organisation that signed it:
 *
 *     node api/dist/cli/verify-statement.js --statement statement.json --ca org-ca.pem [--json]
 *
 * Prints the verdict and exits 0 when the statement is valid, 1 when it is not, and 2
 * (as the other tools do) for a wrong command line or a file that cannot be read or is
 * not JSON, since then nothing was verified. Needs no network and no ledger.
 */

const usage = 'usage: verify-statement --statement <statement.json> --ca <organisation-ca.pem> [--json]';

/** The verdict as people read it: VALID or INVALID, then what the statement says and who signed it. */
function formatVerdict(verdict: StatementVerdict): string {
  const lines = [verdict.valid ? 'VALID reputation statement' : 'INVALID reputation statement'];
  for (const reason of verdict.reasons) lines.push(`  ${reason.code}: ${reason.message}`);
  const statement = verdict.statement;
  if (statement !== undefined) {
    lines.push(
      `  statement    ${statement.statementId}`,
      `  subject      ${statement.subject.userId} (${statement.subject.mspId})`,
      `  score        ${statement.score} (formula ${statement.formula}, as of ${statement.asOf})`,
      `  rests on     ${statement.records} ledger record(s), below block height ${statement.blockHeight}`,
      `  signed at    ${statement.issuedAt}`,
    );
  }
  const signer = verdict.signer;
  if (signer !== undefined) {
    lines.push(
      `  signed by    ${signer.mspId}: ${signer.certificateSubject.replaceAll('\n', ', ')}`,
      `  certified by ${signer.certificateIssuer.replaceAll('\n', ', ')}`,
    );
  }
  return lines.join('\n');
}

function read(file: string, what: string): string | Error {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return new Error(`cannot read the ${what} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function run(args: string[]): number {
  let options: { statement?: string | undefined; ca?: string | undefined; json?: boolean | undefined };
  try {
    options = parseCommandLine(usage, {
      args,
      options: { statement: { type: 'string' }, ca: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(usage);
      return 0;
    }
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (options.statement === undefined || options.ca === undefined) {
    console.error(usage);
    return 2;
  }
  const statementText = read(options.statement, 'statement');
  const ca = read(options.ca, 'CA certificate');
  if (statementText instanceof Error || ca instanceof Error) {
    console.error(
      [statementText, ca]
        .filter((value) => value instanceof Error)
        .map((error) => error.message)
        .join('\n'),
    );
    return 2;
  }
  let verdict: StatementVerdict;
  try {
    verdict = verifyStatementText(statementText, ca);
  } catch {
    console.error(`the statement ${options.statement} is not JSON`);
    return 2;
  }
  console.log(options.json === true ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict));
  return verdict.valid ? 0 : 1;
}

process.exitCode = run(process.argv.slice(2));
