import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNetworkConfig, portAssignments, portOffsetFile, repoRoot } from './config.js';
import { LocalNetwork } from './network.js';

describe('loadNetworkConfig', () => {
  it('shifts every port by the offset and puts every path under the home directory', () => {
    const base = loadNetworkConfig({ home: '/tmp/gl-base', portOffset: 0 });
    const shifted = loadNetworkConfig({ home: '/tmp/gl-shifted', portOffset: 20000 });

    const basePorts = portAssignments(base).map((assignment) => assignment.port);
    const shiftedPorts = portAssignments(shifted).map((assignment) => assignment.port);
    expect(shiftedPorts).toEqual(basePorts.map((port) => port + 20000));
    expect(shifted.apiPort).toBe(base.apiPort + 20000);
    expect(shifted.chaincode.serverPorts).toEqual([
      base.chaincode.serverPorts[0] + 20000,
      base.chaincode.serverPorts[1] + 20000,
    ]);
    for (const dir of Object.values(shifted.paths)) expect(dir.startsWith('/tmp/gl-shifted/')).toBe(true);
  });

  it('gives every listening port to exactly one process', () => {
    const config = loadNetworkConfig({ home: '/tmp/gl', portOffset: 0 });
    const ports = [
      ...portAssignments(config).map((assignment) => assignment.port),
      ...config.chaincode.serverPorts,
      config.apiPort,
    ];
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('reads the offset and home from the environment', () => {
    const config = loadNetworkConfig({}, { GIGLEDGER_PORT_OFFSET: '5', GIGLEDGER_HOME: 'relative-home' });
    expect(config.portOffset).toBe(5);
    expect(config.home).toBe(path.resolve('relative-home'));
    expect(config.chaincode.sourceDir).toBe(path.join(repoRoot, 'chaincode'));
  });

  it('uses the offset the home was generated with when none is given, and the one given otherwise', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'gl-offset-'));
    try {
      expect(loadNetworkConfig({}, { GIGLEDGER_HOME: home }).portOffset).toBe(0);
      writeFileSync(portOffsetFile(home), '5000\n');
      const recorded = loadNetworkConfig({}, { GIGLEDGER_HOME: home });
      expect(recorded.portOffset).toBe(5000);
      expect(recorded.apiPort).toBe(loadNetworkConfig({ home: '/tmp/gl', portOffset: 5000 }).apiPort);
      expect(loadNetworkConfig({}, { GIGLEDGER_HOME: home, GIGLEDGER_PORT_OFFSET: '' }).portOffset).toBe(5000);
      expect(loadNetworkConfig({}, { GIGLEDGER_HOME: home, GIGLEDGER_PORT_OFFSET: '7' }).portOffset).toBe(7);
      writeFileSync(portOffsetFile(home), 'five');
      expect(() => loadNetworkConfig({}, { GIGLEDGER_HOME: home })).toThrow(/port-offset must hold the port offset/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses to bring up a home generated with another offset, before anything is generated or started', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'gl-offset-'));
    try {
      writeFileSync(portOffsetFile(home), '5000\n');
      const config = loadNetworkConfig({ home, portOffset: 0 });
      const noTools = {
        dir: home,
        binDir: home,
        configDir: home,
        bin: () => {
          throw new Error('no tool may run');
        },
      };
      await expect(new LocalNetwork(config, noTools).generate()).rejects.toThrow(
        /was generated with port offset 5000, not 0: run it with GIGLEDGER_PORT_OFFSET=5000/,
      );
      expect(readFileSync(portOffsetFile(home), 'utf8')).toBe('5000\n');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses an offset that is not a whole number or pushes a port past 65535', () => {
    expect(() => loadNetworkConfig({}, { GIGLEDGER_PORT_OFFSET: '-3' })).toThrow(
      'GIGLEDGER_PORT_OFFSET must be a whole number, got "-3"',
    );
    expect(() => loadNetworkConfig({ portOffset: 60000 })).toThrow(
      /GIGLEDGER_PORT_OFFSET 60000 moves port \d+ past 65535/,
    );
  });
});
