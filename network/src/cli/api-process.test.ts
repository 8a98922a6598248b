import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNetworkConfig } from '../config.js';
import { LocalNetwork } from '../network.js';
import { freeLoopbackPort } from '../processes/ports.js';
import { toolchainAt } from '../toolchain/toolchain.js';
import { checkApiCanStart } from './api-process.js';

describe('checkApiCanStart', () => {
  let home: string;
  const saved = { ...process.env };

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'gl-api-check-'));
  });

  afterEach(() => {
    process.env = { ...saved };
    rmSync(home, { recursive: true, force: true });
  });

  const networkIn = (dir: string) => new LocalNetwork(loadNetworkConfig({ home: dir }, {}), toolchainAt(dir));

  it('refuses a setting the API would refuse, naming it, before any process starts', async () => {
    process.env.PORT = String(await freeLoopbackPort());
    process.env.AUTH_FAILURES_PER_ADDRESS = '20';
    process.env.AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES = '5';
    const network = networkIn(home);
    await expect(checkApiCanStart(network)).rejects.toThrow(
      'the API refuses its settings: environment variable AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: must be above AUTH_FAILURES_PER_ADDRESS',
    );
    expect(network.registry.running()).toEqual([]);
  });

  it("lets the API's default settings through, with the port it will listen on", async () => {
    const port = await freeLoopbackPort();
    process.env.PORT = String(port);
    await expect(checkApiCanStart(networkIn(home))).resolves.toBe(port);
  });
});
