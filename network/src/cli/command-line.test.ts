import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./main.js', import.meta.url));

/** The homes {@link run} made; each test's are removed after it. */
const homes: string[] = [];

afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** Runs the network command in an empty home, so nothing it might do touches a real network. */
function run(...words: string[]): { status: number | null; stdout: string; stderr: string; home: string } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'gl-cli-'));
  homes.push(home);
  const result = spawnSync(process.execPath, [cli, ...words], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', GIGLEDGER_HOME: home },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, home };
}

describe('the network command line', () => {
  it.each([
    ['help'],
    ['--help'],
    ['-h'],
    ['add-org', '-h'],
    ['add-org', 'LabelOrg', '--help'],
    ['remove-org', '--help'],
    ['export-org', '-h'],
    ['env', '--help'],
    ['kubernetes', '--help'],
    ['compose', '--help'],
    ['down', '--help'],
    ['clean', '-h'],
  ])('answers %s with the usage and exit 0, doing nothing else', (...words) => {
    const answer = run(...words);
    expect(answer.stderr).toBe('');
    expect(answer.status).toBe(0);
    expect(answer.stdout).toMatch(/^Usage: /);
    expect(answer.stdout).not.toMatch(/Adding|Removing|Wrote|Stopped/);
    expect(readdirSync(answer.home)).toEqual([]);
  });

  it.each([
    [['--bogus'], "unknown command '--bogus'"],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['kubernetes', '--bogus'], "kubernetes: unknown option '--bogus'"],
    [['status', '--jsn'], "status: unknown option '--jsn'"],
    [['add-org', 'LabelOrg', '--signer', 'ClientOrg'], "add-org: unknown option '--signer'"],
    [['logs', '--follow'], "logs: unknown option '--follow'"],
  ])('refuses %j with exit 2, naming what it does not know, before doing anything', (words, reason) => {
    const answer = run(...words);
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain(reason);
    expect(answer.stderr).toContain('Usage: ');
    expect(answer.stdout).toBe('');
    expect(readdirSync(answer.home)).toEqual([]);
  });
});
