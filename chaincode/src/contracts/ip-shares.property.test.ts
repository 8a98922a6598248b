import fc from 'fast-check';
import { fullOwnershipBps, ownersSchema, type OwnershipChangeView, type WorkRecord } from '../model/ip';
import { InMemoryLedger, testIdentity } from '../test-support/in-memory-ledger';
import { IpContract } from './ip-contract';

const people = ['ann', 'ben', 'cyd', 'dee', 'eve'].map((userId, index) => ({
  mspId: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'][index % 3]!,
  userId,
}));
const identityOf = (party: { mspId: string; userId: string }) => testIdentity(party.mspId, party.userId, 'freelancer');

/** Owners as a list of (person index, share) with shares of 1 to 10 000. */
const ownerEntries = fc.array(
  fc.record({ person: fc.integer({ min: 0, max: people.length - 1 }), shareBps: fc.integer({ min: 1, max: 10_000 }) }),
  { minLength: 1, maxLength: 6 },
);

/** Splits 10 000 basis points among distinct people: always a valid owner list. */
const validOwners = fc
  .uniqueArray(fc.integer({ min: 0, max: people.length - 1 }), { minLength: 1, maxLength: people.length })
  .chain((persons) =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: fullOwnershipBps - 1 }), {
        minLength: persons.length - 1,
        maxLength: persons.length - 1,
      })
      .map((cuts) => {
        const bounds = [0, ...cuts.sort((a, b) => a - b), fullOwnershipBps];
        return persons.map((person, index) => ({
          party: people[person]!,
          shareBps: bounds[index + 1]! - bounds[index]!,
        }));
      }),
  );

describe('owner shares', () => {
  it('accepts a list exactly when its people are distinct and its shares sum to 10 000', () => {
    fc.assert(
      fc.property(ownerEntries, (entries) => {
        const owners = entries.map((entry) => ({ party: people[entry.person]!, shareBps: entry.shareBps }));
        const distinct = new Set(entries.map((entry) => entry.person)).size === entries.length;
        const sum = entries.reduce((total, entry) => total + entry.shareBps, 0);
        const parsed = ownersSchema.safeParse(owners);
        expect(parsed.success).toBe(distinct && sum === fullOwnershipBps);
        if (!parsed.success && sum !== fullOwnershipBps) {
          expect(parsed.error.issues.some((issue) => issue.path.length === 0)).toBe(true);
        }
      }),
    );
  });

  it('accepts every split of 10 000 among distinct people', () => {
    fc.assert(
      fc.property(validOwners, (owners) => {
        expect(ownersSchema.safeParse(owners).success).toBe(true);
      }),
    );
  });

  it('keeps a work owned in full, with its index in step, through any sequence of consented changes', async () => {
    await fc.assert(
      fc.asyncProperty(validOwners, fc.array(validOwners, { minLength: 1, maxLength: 4 }), async (initial, changes) => {
        const ledger = new InMemoryLedger();
        const contract = new IpContract();
        const call = <Result>(party: { mspId: string; userId: string }, name: string, request: unknown) =>
          ledger.invoke(identityOf(party), (ctx) =>
            (contract as unknown as Record<string, (ctx: unknown, json: string) => Promise<Result>>)[name]!.call(
              contract,
              ctx,
              JSON.stringify(request),
            ),
          );
        const registrant = initial[0]!.party;
        let work = await call<WorkRecord>(registrant, 'registerWork', {
          requestId: 'register-1',
          workId: 'W-1',
          kind: 'weights',
          contentHash: 'e'.repeat(64),
          title: 'Weights',
          uri: 'hf://org/weights',
          creators: [registrant],
          owners: initial,
        });
        for (const [index, proposed] of changes.entries()) {
          const changeId = `C${index}`;
          const same =
            proposed.length === work.owners.length &&
            proposed.every((owner) =>
              work.owners.some((now) => now.party.userId === owner.party.userId && now.shareBps === owner.shareBps),
            );
          if (same) continue;
          const proposer = work.owners[0]!.party;
          let view = await call<OwnershipChangeView>(proposer, 'proposeOwnershipChange', {
            requestId: `propose-${index}`,
            workId: 'W-1',
            changeId,
            owners: proposed,
          });
          for (const owner of work.owners.slice(1)) {
            expect(view.change.status).toBe('open');
            view = await call<OwnershipChangeView>(owner.party, 'approveOwnershipChange', { workId: 'W-1', changeId });
          }
          expect(view.change.status).toBe('applied');
          work = view.work;
        }
        const stored = await call<WorkRecord>(registrant, 'getWork', { workId: 'W-1' });
        expect(stored.owners.reduce((sum, owner) => sum + owner.shareBps, 0)).toBe(fullOwnershipBps);
        for (const person of people) {
          const listed = await call<{ items: WorkRecord[] }>(person, 'listWorksByOwner', { owner: person });
          expect(listed.items.length).toBe(stored.owners.some((owner) => owner.party.userId === person.userId) ? 1 : 0);
        }
      }),
      { numRuns: 60 },
    );
  });
});
