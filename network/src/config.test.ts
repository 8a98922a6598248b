import path from 'node:path';
import { loadNetworkConfig, portAssignments, repoRoot } from './config.js';

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

  it('refuses an offset that is not a whole number or pushes a port past 65535', () => {
    expect(() => loadNetworkConfig({}, { GIGLEDGER_PORT_OFFSET: '-3' })).toThrow(
      'GIGLEDGER_PORT_OFFSET must be a whole number, got "-3"',
    );
    expect(() => loadNetworkConfig({ portOffset: 60000 })).toThrow(
      /GIGLEDGER_PORT_OFFSET 60000 moves port \d+ past 65535/,
    );
  });
});
