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
  it('names the founders explicitly while every collection is a majority of the channel', () => {
    expect(endorsementPolicyFor(collectionsForMembers(repositoryCollections, founders, founders), founders)).toBe(
      "OutOf(2,'ClientOrgMSP.peer','TalentOrgMSP.peer','AuditOrgMSP.peer')",
    );
  });

  it('leaves no window in add-org or remove-org: the committed policy holds for the parties before and after the channel update', () => {
    // Between the configuration update and the commit of the next definition, the
    // definition committed before is evaluated against the changed channel. A policy that
    // names its organisations is the same policy on either side of the update.
    const threePolicy = endorsementPolicyFor(
      collectionsForMembers(repositoryCollections, founders, founders),
      founders,
    );
    const fourPolicy = endorsementPolicyFor(
      collectionsForMembers(repositoryCollections, founders, withLabel),
      withLabel,
    );
    const parties = ['ClientOrgMSP', 'TalentOrgMSP'];
    expect(satisfies(threePolicy, parties)).toBe(true);
    expect(satisfies(fourPolicy, parties)).toBe(true);
    // Removal: LabelOrg's peers no longer count, the four-member policy still admits the
    // parties and the three organisations that stay.
    expect(satisfies(fourPolicy, founders)).toBe(true);
    expect(satisfies(fourPolicy, ['ClientOrgMSP', 'AuditOrgMSP'])).toBe(false);
    expect(threePolicy).not.toMatch(/MAJORITY|Endorsement/);
  });

  it('lets the two parties endorse alone once they are two of four, and a majority otherwise', () => {
    expect(endorsementPolicyFor(collectionsForMembers(repositoryCollections, founders, withLabel), withLabel)).toBe(
      "OR(OutOf(3,'ClientOrgMSP.peer','TalentOrgMSP.peer','AuditOrgMSP.peer','LabelOrgMSP.peer')," +
        "AND('ClientOrgMSP.peer','TalentOrgMSP.peer'))",
    );
  });

  it('adds an alternative exactly when some collection holds no majority, and then names each such member set', () => {
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
          const majorityPolicy = `OutOf(${majority},${members.map((mspId) => `'${mspId}.peer'`).join(',')})`;
          if (minorities.size === 0) return policy === majorityPolicy;
          return (
            policy.startsWith(`OR(${majorityPolicy},`) &&
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

/**
 * Whether endorsements by `endorsers` satisfy a signature policy of the forms
 * {@link endorsementPolicyFor} writes (OR, AND, OutOf over `'<MSP>.peer'`): a small
 * evaluator so the test checks what the policy admits, not how it is spelled.
 */
function satisfies(policy: string, endorsers: readonly string[]): boolean {
  let at = 0;
  const expression = (): boolean => {
    if (policy.startsWith("'", at)) {
      const end = policy.indexOf("'", at + 1);
      const principal = policy.slice(at + 1, end);
      at = end + 1;
      return endorsers.some((mspId) => principal === `${mspId}.peer`);
    }
    const open = policy.indexOf('(', at);
    const operator = policy.slice(at, open);
    at = open + 1;
    let threshold: number | undefined;
    if (operator === 'OutOf') {
      const comma = policy.indexOf(',', at);
      threshold = Number(policy.slice(at, comma));
      at = comma + 1;
    }
    const results: boolean[] = [];
    for (;;) {
      results.push(expression());
      const next = policy[at];
      at += 1;
      if (next === ')') break;
    }
    const met = results.filter(Boolean).length;
    if (operator === 'OR') return met >= 1;
    if (operator === 'AND') return met === results.length;
    return met >= (threshold ?? Infinity);
  };
  return expression();
}
