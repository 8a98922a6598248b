import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const builder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ccaas-builder.js');

function run(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [builder, ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('the ccaas external builder', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-ccaas-'));
    for (const sub of ['source', 'metadata']) mkdirSync(path.join(dir, sub));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects only packages of type ccaas', () => {
    writeFileSync(path.join(dir, 'metadata', 'metadata.json'), '{"type":"ccaas","label":"cc"}');
    expect(run('detect', path.join(dir, 'source'), path.join(dir, 'metadata')).status).toBe(0);
    writeFileSync(path.join(dir, 'metadata', 'metadata.json'), '{"type":"node","label":"cc"}');
    expect(run('detect', path.join(dir, 'source'), path.join(dir, 'metadata')).status).toBe(1);
  });

  it('builds and releases connection.json where the peer looks for it', () => {
    const connection = '{"address":"127.0.0.1:9999","dial_timeout":"10s"}';
    writeFileSync(path.join(dir, 'source', 'connection.json'), connection);

    expect(run('build', path.join(dir, 'source'), path.join(dir, 'metadata'), path.join(dir, 'build')).status).toBe(0);
    expect(run('release', path.join(dir, 'build'), path.join(dir, 'release')).status).toBe(0);

    expect(readFileSync(path.join(dir, 'release', 'chaincode', 'server', 'connection.json'), 'utf8')).toBe(connection);
  });

  it('refuses a package whose connection.json has no host:port address', () => {
    writeFileSync(path.join(dir, 'source', 'connection.json'), '{"address":"nowhere"}');

    const result = run('build', path.join(dir, 'source'), path.join(dir, 'metadata'), path.join(dir, 'build'));

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('connection.json needs an address of the form host:port');
    expect(existsSync(path.join(dir, 'build', 'connection.json'))).toBe(false);
  });
});
