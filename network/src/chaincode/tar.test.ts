import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deterministicTarGz } from './tar.js';

describe('deterministicTarGz', () => {
  const entries = [
    { name: 'metadata.json', content: Buffer.from('{"type":"ccaas","label":"x"}') },
    { name: 'code.tar.gz', content: Buffer.alloc(1500, 7) },
  ];

  it('gives the same bytes for the same files, so package ids are stable', () => {
    expect(deterministicTarGz(entries).equals(deterministicTarGz(entries))).toBe(true);
  });

  it('writes an archive that the system tar reads back exactly', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-tar-'));
    try {
      const archive = path.join(dir, 'package.tar.gz');
      writeFileSync(archive, deterministicTarGz(entries));

      expect(execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n')).toEqual([
        'metadata.json',
        'code.tar.gz',
      ]);
      execFileSync('tar', ['-xzf', archive, '-C', dir]);
      expect(readFileSync(path.join(dir, 'metadata.json'), 'utf8')).toBe('{"type":"ccaas","label":"x"}');
      expect(readFileSync(path.join(dir, 'code.tar.gz')).equals(Buffer.alloc(1500, 7))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
