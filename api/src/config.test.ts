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

  it('keeps idle connections 65 s by default, above the 60 s of most load balancers, and names a wrong value', () => {
    const profile = { GIGLEDGER_CONNECTION_PROFILE: 'profile.json' };
    expect(parseApiConfig(profile).keepAliveTimeoutMs).toBe(65_000);
    expect(parseApiConfig({ ...profile, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '350' }).keepAliveTimeoutMs).toBe(350_000);
    for (const wrong of ['0', '601', '1.5', 'long']) {
      expect(() => parseApiConfig({ ...profile, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: wrong })).toThrow(
        /^environment variable HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: /,
      );
    }
  });

  it('holds 4,096 connections waiting to be accepted by default, above Node 511, and names a wrong value', () => {
    const profile = { GIGLEDGER_CONNECTION_PROFILE: 'profile.json' };
    expect(parseApiConfig(profile).listenBacklog).toBe(4096);
    expect(parseApiConfig({ ...profile, HTTP_LISTEN_BACKLOG: '1024' }).listenBacklog).toBe(1024);
    for (const wrong of ['0', '65536', '1.5', 'many', '']) {
      expect(() => parseApiConfig({ ...profile, HTTP_LISTEN_BACKLOG: wrong })).toThrow(
        /^environment variable HTTP_LISTEN_BACKLOG: /,
      );
    }
  });

  it('gives a request 30 s to arrive whole by default, and names a wrong value', () => {
    const profile = { GIGLEDGER_CONNECTION_PROFILE: 'profile.json' };
    expect(parseApiConfig(profile).requestTimeoutMs).toBe(30_000);
    expect(parseApiConfig({ ...profile, HTTP_REQUEST_TIMEOUT_SECONDS: '120' }).requestTimeoutMs).toBe(120_000);
    for (const wrong of ['4', '301', 'slow']) {
      expect(() => parseApiConfig({ ...profile, HTTP_REQUEST_TIMEOUT_SECONDS: wrong })).toThrow(
        /^environment variable HTTP_REQUEST_TIMEOUT_SECONDS: /,
      );
    }
  });

  it('lets a caller hold 100 subscriptions open by default, and names a wrong cap', () => {
    const profile = { GIGLEDGER_CONNECTION_PROFILE: 'profile.json' };
    expect(parseApiConfig(profile).graphql.maxSubscriptionsPerCaller).toBe(100);
    expect(
      parseApiConfig({ ...profile, GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: '5' }).graphql.maxSubscriptionsPerCaller,
    ).toBe(5);
    for (const wrong of ['0', '10001', 'lots']) {
      expect(() => parseApiConfig({ ...profile, GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: wrong })).toThrow(
        /^environment variable GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: /,
      );
    }
  });

  const base = { GIGLEDGER_CONNECTION_PROFILE: '/dev/null' };

  it("reads TRUST_PROXY in Express's syntax, off by default", () => {
    expect(parseApiConfig(base).trustProxy).toBe(false);
    expect(parseApiConfig({ ...base, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(parseApiConfig({ ...base, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(parseApiConfig({ ...base, TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
  });

  it('refuses a TRUST_PROXY Express could not use, or one that trusts every client, naming the variable', () => {
    expect(() => parseApiConfig({ ...base, TRUST_PROXY: 'true' })).toThrow(
      /^environment variable TRUST_PROXY: true would trust any X-Forwarded-For/,
    );
    expect(() => parseApiConfig({ ...base, TRUST_PROXY: 'loopback,10.0.0.300' })).toThrow(
      /^environment variable TRUST_PROXY: invalid IP address: 10\.0\.0\.300; expected false, a hop count/,
    );
    expect(() => parseApiConfig({ ...base, TRUST_PROXY: '10.0.0.0/99' })).toThrow(
      /^environment variable TRUST_PROXY: invalid range on address: 10\.0\.0\.0\/99/,
    );
    expect(() => parseApiConfig({ ...base, TRUST_PROXY: 'my-proxy' })).toThrow(/^environment variable TRUST_PROXY: /);
  });

  it('refuses an account-wide failure ceiling that one address could reach', () => {
    expect(() =>
      parseApiConfig({ ...base, AUTH_FAILURES_PER_ADDRESS: '20', AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: '20' }),
    ).toThrow(/^environment variable AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: must be above AUTH_FAILURES_PER_ADDRESS/);
    expect(parseApiConfig(base).credentialThrottle).toMatchObject({
      failuresPerAddress: 20,
      failuresPerAccount: 10,
      failuresPerAccountAllAddresses: 100,
    });
  });
});
