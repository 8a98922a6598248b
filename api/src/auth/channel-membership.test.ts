import type { ChannelMembers } from '@gigledger/gateway';
import { suiteServer } from '../test-support/suite-server.js';
import { createPasswordPerson } from '../test-support/password-people.js';
import { ChannelMembership } from './channel-membership.js';

/**
 * The channel's member list as a test sets it: what `network:add-org` and
 * `network:remove-org` change in the channel configuration, which the real
 * `qsccChannelMembers` reads (proven on the network by the add-org end-to-end suite).
 */
class SettableMembers implements ChannelMembers {
  mspIds_: string[] = ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP'];
  failing = false;
  reads = 0;

  mspIds(): Promise<string[]> {
    this.reads += 1;
    return this.failing ? Promise.reject(new Error('peer unreachable')) : Promise.resolve([...this.mspIds_]);
  }
}

describe('ChannelMembership', () => {
  it('reads the channel once per interval, shares a reading, and keeps the last answer while the channel cannot be read', async () => {
    const members = new SettableMembers();
    let now = 0;
    const membership = new ChannelMembership(members, { maxAgeMs: 1000, now: () => now });
    expect(await Promise.all([membership.isMember('ClientOrgMSP'), membership.isMember('LabelOrgMSP')])).toEqual([
      true,
      false,
    ]);
    expect(members.reads).toBe(1);

    members.mspIds_ = ['AuditOrgMSP', 'TalentOrgMSP'];
    now = 999;
    expect(await membership.isMember('ClientOrgMSP')).toBe(true);
    now = 1000;
    expect(await membership.isMember('ClientOrgMSP')).toBe(false);
    expect(members.reads).toBe(2);

    members.failing = true;
    now = 5000;
    expect(await membership.isMember('ClientOrgMSP')).toBe(false);
    expect(await membership.isMember('TalentOrgMSP')).toBe(true);
  });

  it('counts every organisation a member until the channel was read once, leaving the refusal to the peers', async () => {
    const members = new SettableMembers();
    members.failing = true;
    expect(await new ChannelMembership(members).isMember('LabelOrgMSP')).toBe(true);
  });
});

describe('people and keys of an organisation that left the channel', () => {
  const members = new SettableMembers();
  const server = suiteServer({}, { membership: new ChannelMembership(members, { maxAgeMs: 0 }) });

  afterEach(() => {
    members.mspIds_ = ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP'];
  });

  it('are refused at login with 403 ORGANISATION_NOT_MEMBER once the organisation is off the channel, a wrong password still 401', async () => {
    await createPasswordPerson(server().accounts, 'lena', 'TalentOrg', 'freelancer', 'a long password 9');
    const before = await server().request('POST', '/v1/auth/token', {
      body: { userId: 'lena', password: 'a long password 9' },
    });
    expect(before.status).toBe(200);

    members.mspIds_ = ['AuditOrgMSP', 'ClientOrgMSP'];
    const after = await server().request('POST', '/v1/auth/token', {
      body: { userId: 'lena', password: 'a long password 9' },
    });
    expect(after.status).toBe(403);
    expect(after.body).toMatchObject({
      code: 'ORGANISATION_NOT_MEMBER',
      message: expect.stringContaining('TalentOrg (TalentOrgMSP) is no longer a member of the channel') as string,
    });
    // Membership is told only to someone who knows the password.
    const wrong = await server().request('POST', '/v1/auth/token', {
      body: { userId: 'lena', password: 'a wrong password' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answer 403 ORGANISATION_NOT_MEMBER to a token issued before the removal and to an API key, and work again once it rejoins', async () => {
    const person = await server().person('tomas', 'TalentOrg', 'freelancer');
    const admin = await server().person('talent-admin', 'TalentOrg', 'admin');
    const service = await server().service('talent-hr', 'TalentOrg', 'hr');
    expect((await server().request('GET', '/v1/me', { token: person.token })).status).toBe(200);

    members.mspIds_ = ['AuditOrgMSP', 'ClientOrgMSP'];
    for (const credentials of [{ token: person.token }, { token: admin.token }, { apiKey: service.key }]) {
      const refused = await server().request('GET', '/v1/me', credentials);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'ORGANISATION_NOT_MEMBER' });
    }
    const graphql = await server().request('POST', '/graphql', {
      token: person.token,
      body: { query: '{ __typename }' },
    });
    expect(graphql.status).toBe(403);

    members.mspIds_ = ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP'];
    expect((await server().request('GET', '/v1/me', { token: person.token })).status).toBe(200);
    expect((await server().request('GET', '/v1/me', { apiKey: service.key })).status).toBe(200);
  });
});
