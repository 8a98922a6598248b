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
});
