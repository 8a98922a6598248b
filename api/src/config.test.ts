import os from 'node:os';
import { parseApiConfig } from './config.js';

describe('parseApiConfig', () => {
  it('says which variable is missing and what it names, not what type zod expected', () => {
    expect(() => parseApiConfig({})).toThrow(
      "environment variable GIGLEDGER_CONNECTION_PROFILE: is not set: name the network's connection profile",
    );
    expect(() => parseApiConfig({ GIGLEDGER_CONNECTION_PROFILE: '' })).toThrow(
      'environment variable GIGLEDGER_CONNECTION_PROFILE: must name the connection profile the network wrote',
    );
    expect(() => parseApiConfig({})).not.toThrow(/expected string/);
  });

  it('takes API_WORKERS as a count from 1 or auto (the available cores), one by default, and names anything else', () => {
    const profile = { GIGLEDGER_CONNECTION_PROFILE: 'profile.json' };
    expect(parseApiConfig(profile).workers).toBe(1);
    expect(parseApiConfig({ ...profile, API_WORKERS: '4' }).workers).toBe(4);
    expect(parseApiConfig({ ...profile, API_WORKERS: 'auto' }).workers).toBe(os.availableParallelism());
    for (const wrong of ['0', '-1', '1.5', 'two', '', '1000']) {
      expect(() => parseApiConfig({ ...profile, API_WORKERS: wrong })).toThrow(
        `environment variable API_WORKERS: must be an integer from 1 to 999 or auto, got ${wrong}`,
      );
    }
  });
});
