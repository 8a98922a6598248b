import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import {
  ensureToolchain,
  fabricCaPin,
  fabricPatches,
  fabricPin,
  isToolchainInstalled,
  toolchainAt,
} from './toolchain.js';

/** Lays out what a finished build leaves: every pinned command, the sample configuration and the manifest. */
function finishBuild(dir: string): void {
  const toolchain = toolchainAt(dir);
  mkdirSync(toolchain.binDir, { recursive: true });
  mkdirSync(toolchain.configDir, { recursive: true });
  for (const command of [...fabricPin.commands, ...fabricCaPin.commands]) writeFileSync(toolchain.bin(command), '');
  for (const file of ['core.yaml', 'orderer.yaml']) writeFileSync(path.join(toolchain.configDir, file), '');
  writeFileSync(
    path.join(dir, 'toolchain.json'),
    JSON.stringify({
      fabricModuleVersion: fabricPin.moduleVersion,
      fabricCaModuleVersion: fabricCaPin.moduleVersion,
      fabricPatches: fabricPatches.map((patch) => patch.name),
    }),
  );
}

describe('ensureToolchain', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gigledger-toolchain-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('waits for another process building into the same folder and then uses its build', async () => {
    const dir = path.join(root, 'toolchain');
    mkdirSync(dir, { recursive: true });
    // Another clone's first start holds the build lock.
    const releaseOther = await lockfile.lock(dir, { lockfilePath: `${dir}.lock`, stale: 60_000, update: 10_000 });
    const lines: string[] = [];
    const waiting = ensureToolchain((line) => lines.push(line), dir);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines).toEqual([`Another process is building the Fabric toolchain into ${dir}; waiting for it`]);
    expect(isToolchainInstalled(toolchainAt(dir))).toBe(false);
    finishBuild(dir);
    await releaseOther();
    await expect(waiting).resolves.toMatchObject({ built: false, seconds: 0 });
    expect(lines).toHaveLength(1);
  });

  it('takes a build without the source patches the pin now names for none', () => {
    const dir = path.join(root, 'unpatched');
    finishBuild(dir);
    writeFileSync(
      path.join(dir, 'toolchain.json'),
      JSON.stringify({
        fabricModuleVersion: fabricPin.moduleVersion,
        fabricCaModuleVersion: fabricCaPin.moduleVersion,
      }),
    );
    expect(isToolchainInstalled(toolchainAt(dir))).toBe(false);
  });

  it('builds nothing and takes no lock when the pinned toolchain is installed', async () => {
    const dir = path.join(root, 'installed');
    finishBuild(dir);
    await expect(ensureToolchain(() => undefined, dir)).resolves.toMatchObject({ built: false });
    expect(await lockfile.check(dir, { lockfilePath: `${dir}.lock` })).toBe(false);
  });
});
