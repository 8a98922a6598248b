import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { collectionsForMembers, endorsementPolicyFor, membersOf, type CollectionDefinition } from './membership.js';

const founders = ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'];
const withLabel = [...founders, 'LabelOrgMSP'];
// dist/chaincode/membership.test.js → the repository's chaincode/collections.json
const repositoryCollections = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'chaincode', 'collections.json'),
    'utf8',
  ),
) as CollectionDefinition[];

function membership(collections: readonly CollectionDefinition[]): Record<string, string[]> {
  return Object.fromEntries(collections.map((collection) => [collection.name, membersOf(collection)]));
}

describe('collectionsForMembers', () => {
  it('leaves the repository collections as they are while the founders are the channel', () => {
    expect(collectionsForMembers(repositoryCollections, founders, founders)).toEqual(repositoryCollections);
  });

  it('takes a new organisation into the consortium-wide collection only, keeping every other field', () => {
    const grown = collectionsForMembers(repositoryCollections, founders, withLabel);
    expect(membership(grown)).toEqual({
      agreementTerms: ['ClientOrgMSP', 'TalentOrgMSP'],
      credentialSecrets: withLabel,
      licenceTerms: ['ClientOrgMSP', 'TalentOrgMSP'],
      datasetSubjectData: ['ClientOrgMSP', 'TalentOrgMSP'],
    });
    const secrets = grown.find((collection) => collection.name === 'credentialSecrets');
    expect(secrets).toMatchObject({
      policy: "OR('ClientOrgMSP.member','TalentOrgMSP.member','AuditOrgMSP.member','LabelOrgMSP.member')",
      maxPeerCount: 2,
      memberOnlyRead: true,
      memberOnlyWrite: true,
    });
  });

  it('lets the organisation go again when it leaves the channel', () => {
    expect(collectionsForMembers(repositoryCollections, founders, founders)).toEqual(
      collectionsForMembers(collectionsForMembers(repositoryCollections, founders, withLabel), founders, founders),
    );
  });

  it('refuses to leave a collection without members', () => {
    const only = [{ name: 'solo', policy: "OR('LabelOrgMSP.member')" }];
    expect(() => collectionsForMembers(only, founders, founders)).toThrow(
      'collection solo would have no member left on the channel',
    );
  });
});

describe('endorsementPolicyFor', () => {
  it('keeps the channel default while every collection is a majority of the channel', () => {
    expect(endorsementPolicyFor(collectionsForMembers(repositoryCollections, founders, founders), founders)).toBe(
      undefined,
    );
  });

  it('lets the two parties endorse alone once they are two of four, and a majority otherwise', () => {
    expect(endorsementPolicyFor(collectionsForMembers(repositoryCollections, founders, withLabel), withLabel)).toBe(
      "OR(OutOf(3,'ClientOrgMSP.peer','TalentOrgMSP.peer','AuditOrgMSP.peer','LabelOrgMSP.peer')," +
        "AND('ClientOrgMSP.peer','TalentOrgMSP.peer'))",
    );
  });

  it('is needed exactly when some collection holds no majority, and then names each such member set', () => {
    const channel = fc
      .integer({ min: 1, max: 9 })
      .map((size) => Array.from({ length: size }, (_, index) => `Org${index}MSP`));
    fc.assert(
      fc.property(
        channel.chain((members) =>
          fc.tuple(
            fc.constant(members),
            fc.array(fc.subarray(members, { minLength: 1 }), { minLength: 1, maxLength: 5 }),
          ),
        ),
        ([members, memberSets]) => {
          const collections = memberSets.map((set, index) => ({
            name: `c${index}`,
            policy: `OR(${set.map((mspId) => `'${mspId}.member'`).join(',')})`,
          }));
          const majority = Math.floor(members.length / 2) + 1;
          const minorities = new Set(
            memberSets.filter((set) => set.length < majority).map((set) => [...set].sort().join()),
          );
          const policy = endorsementPolicyFor(collections, members);
          if (minorities.size === 0) return policy === undefined;
          return (
            policy !== undefined &&
            policy.startsWith(`OR(OutOf(${majority},`) &&
            [...minorities].every((set) =>
              policy.includes(
                set
                  .split(',')
                  .map((mspId) => `'${mspId}.peer'`)
                  .join(','),
              ),
            )
          );
        },
      ),
    );
  });
});
