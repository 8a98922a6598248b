import { z } from 'zod';
import { artifactUriSchema, isoInstantSchema, requestIdSchema, sha256HexSchema } from './common';
import { nonBlankText } from './text-controls';
import { actorSchema, partySchema, reasonSchema, type Party } from './party';
import { contractSpecs, eventSpec } from './spec';
import { pageRequestShape, pageSchema } from './page';

export const ipContractName = 'ip';

/** Every work's ownership is divided into this many basis points (100 %). */
export const fullOwnershipBps = 10_000;
/** Most owners (and most creators) one work may name. */
export const maxWorkOwners = 20;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const idMessage = 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Caller-chosen work id, unique on the channel, e.g. `W-2026-007`. */
export const workIdSchema = z.string().regex(idPattern, idMessage);
/** Caller-chosen id of an ownership change, unique within its work, e.g. `C1`. */
export const ownershipChangeIdSchema = z.string().regex(idPattern, idMessage);

/** What a registered work is. */
export const workKinds = ['model', 'weights', 'code', 'dataset', 'promptSet', 'report', 'other'] as const;
export const workKindSchema = z.enum(workKinds);
export type WorkKind = z.infer<typeof workKindSchema>;

/** One owner's share of a work, in basis points (1 to 10 000). */
export const ownerShareSchema = z.strictObject({
  party: partySchema,
  shareBps: z
    .number()
    .int('must be a whole number of basis points')
    .min(1, 'must be at least 1 basis point')
    .max(fullOwnershipBps, 'must be at most 10000 basis points'),
});
export type OwnerShare = z.output<typeof ownerShareSchema>;

export const samePerson = (a: Party, b: Party): boolean => a.mspId === b.mspId && a.userId === b.userId;

/**
 * Owners with their shares: each person once, shares summing to exactly 10 000 basis
 * points. A share sum error is reported on the list itself, a repeated person on the
 * later entry's `party`.
 */
export const ownersSchema = z
  .array(ownerShareSchema)
  .min(1, 'must name at least one owner')
  .max(maxWorkOwners, `must name at most ${maxWorkOwners} owners`)
  .superRefine((owners, ctx) => {
    owners.forEach((owner, index) => {
      const earlier = owners.findIndex((other) => samePerson(other.party, owner.party));
      if (earlier < index) {
        ctx.addIssue({ code: 'custom', message: `names the same owner as entry ${earlier}`, path: [index, 'party'] });
      }
    });
    const total = owners.reduce((sum, owner) => sum + owner.shareBps, 0);
    if (total !== fullOwnershipBps) {
      ctx.addIssue({ code: 'custom', message: `shares must sum to 10000 basis points, not ${total}` });
    }
  });

const creatorsSchema = z
  .array(partySchema)
  .min(1, 'must name at least one creator')
  .max(maxWorkOwners, `must name at most ${maxWorkOwners} creators`);

export const registerWorkRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  workId: workIdSchema,
  kind: workKindSchema,
  /** SHA-256 of the work's content; one registration per hash on the channel. */
  contentHash: sha256HexSchema,
  /** SHA-256 of a manifest listing the work's files and their hashes, for works of many files. */
  manifestHash: sha256HexSchema.optional(),
  title: nonBlankText(200),
  uri: artifactUriSchema,
  /** The people who made the work (authorship; ownership is `owners`). */
  creators: creatorsSchema,
  /** Co-owners and their shares; the registrant alone, with 10 000 basis points, when left out. The registrant must be one of them. */
  owners: ownersSchema.optional(),
});
export type RegisterWorkRequest = z.output<typeof registerWorkRequestSchema>;

/** Where a work came from when a paid work-for-hire milestone moved it to the client. */
export const workAssignmentSchema = z.object({
  agreementId: z.string(),
  milestoneId: z.string(),
  /** The transaction that recorded the milestone's payment and moved the work. */
  txId: z.string(),
  at: z.string(),
  /** The owners before the assignment. */
  from: z.array(ownerShareSchema),
});
export type WorkAssignment = z.output<typeof workAssignmentSchema>;

/** The milestone a work is delivered under, whose payment will move it to the client. */
export const workPledgeSchema = z.object({ agreementId: z.string(), milestoneId: z.string(), txId: z.string() });
export type WorkPledge = z.output<typeof workPledgeSchema>;

export const workRecordSchema = z.object({
  workId: z.string(),
  kind: workKindSchema,
  contentHash: z.string(),
  manifestHash: z.string().optional(),
  title: z.string(),
  uri: z.string(),
  creators: z.array(partySchema),
  /** Current owners; shares sum to 10 000 basis points. */
  owners: z.array(ownerShareSchema),
  registrant: actorSchema,
  /** The priority date: the registering transaction's timestamp. */
  registeredAt: z.string(),
  registrationTxId: z.string(),
  /** Starts at 1 and grows with every change of owners; an ownership change proposed at an older version is stale. */
  ownershipVersion: z.number().int(),
  /** Set while the work is delivered under a work-for-hire milestone that is not yet paid. */
  pledge: workPledgeSchema.optional(),
  /** Set once a paid work-for-hire milestone moved the work to the client. */
  assignment: workAssignmentSchema.optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type WorkRecord = z.output<typeof workRecordSchema>;

const workRef = { workId: workIdSchema };
const changeRef = { workId: workIdSchema, changeId: ownershipChangeIdSchema };

export const workRefRequestSchema = z.strictObject(workRef);
export const contentHashRequestSchema = z.strictObject({ contentHash: sha256HexSchema });
export const worksByOwnerRequestSchema = z.strictObject({ owner: partySchema, ...pageRequestShape });
export const ownershipChangesRequestSchema = z.strictObject({ ...workRef, ...pageRequestShape });

export const proposeOwnershipChangeRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  ...changeRef,
  /** The owners and shares the work should have once every current owner approves. */
  owners: ownersSchema,
  reason: reasonSchema.optional(),
});
export type ProposeOwnershipChangeRequest = z.output<typeof proposeOwnershipChangeRequestSchema>;

export const ownershipChangeRefRequestSchema = z.strictObject(changeRef);
export const declineOwnershipChangeRequestSchema = z.strictObject({ ...changeRef, reason: reasonSchema });

/**
 * `open` until every current owner approved (`applied`), one of them declined
 * (`declined`) or the proposer withdrew it (`withdrawn`). An open change whose work's
 * owners changed meanwhile can no longer be approved (it is reported `stale`).
 */
export const ownershipChangeStatuses = ['open', 'applied', 'declined', 'withdrawn'] as const;
export const ownershipChangeStatusSchema = z.enum(ownershipChangeStatuses);

export const ownershipApprovalSchema = z.object({ owner: partySchema, at: z.string(), txId: z.string() });

export const ownershipChangeRecordSchema = z.object({
  workId: z.string(),
  changeId: z.string(),
  proposer: partySchema,
  /** The owners when the change was proposed: each of them must approve. */
  currentOwners: z.array(ownerShareSchema),
  /** The work's ownership version the change was proposed against. */
  baseVersion: z.number().int(),
  proposedOwners: z.array(ownerShareSchema),
  reason: z.string().optional(),
  status: ownershipChangeStatusSchema,
  approvals: z.array(ownershipApprovalSchema),
  proposedAt: z.string(),
  txId: z.string(),
  decision: z.object({ by: partySchema, reason: z.string().optional(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type OwnershipChangeRecord = z.output<typeof ownershipChangeRecordSchema>;

export const ownershipChangeViewSchema = z.object({
  change: ownershipChangeRecordSchema,
  /** Current owners whose approval is still missing (empty once applied). */
  awaiting: z.array(partySchema),
  /** Open, but the work's owners changed since it was proposed: it can only be withdrawn or declined. */
  stale: z.boolean(),
  /** The work as it stands after this transaction. */
  work: workRecordSchema,
});
export type OwnershipChangeView = z.output<typeof ownershipChangeViewSchema>;

/** The organisations whose peers must each endorse a change of the work, as its key's endorsement policy names them. */
export const workEndorsementSchema = z.object({ workId: z.string(), organisations: z.array(z.string()) });
export type WorkEndorsement = z.output<typeof workEndorsementSchema>;

const { submit, evaluate } = contractSpecs(ipContractName);

/** Every transaction of the `ip` contract. */
export const ipTransactions = {
  registerWork: submit('registerWork', registerWorkRequestSchema, workRecordSchema),
  proposeOwnershipChange: submit(
    'proposeOwnershipChange',
    proposeOwnershipChangeRequestSchema,
    ownershipChangeViewSchema,
  ),
  approveOwnershipChange: submit('approveOwnershipChange', ownershipChangeRefRequestSchema, ownershipChangeViewSchema),
  declineOwnershipChange: submit(
    'declineOwnershipChange',
    declineOwnershipChangeRequestSchema,
    ownershipChangeViewSchema,
  ),
  withdrawOwnershipChange: submit(
    'withdrawOwnershipChange',
    ownershipChangeRefRequestSchema,
    ownershipChangeViewSchema,
  ),
  getWork: evaluate('getWork', workRefRequestSchema, workRecordSchema),
  getWorkEndorsement: evaluate('getWorkEndorsement', workRefRequestSchema, workEndorsementSchema),
  findWorkByContentHash: evaluate('findWorkByContentHash', contentHashRequestSchema, workRecordSchema),
  listWorksByOwner: evaluate('listWorksByOwner', worksByOwnerRequestSchema, pageSchema(workRecordSchema)),
  getOwnershipChange: evaluate('getOwnershipChange', ownershipChangeRefRequestSchema, ownershipChangeViewSchema),
  listOwnershipChanges: evaluate(
    'listOwnershipChanges',
    ownershipChangesRequestSchema,
    pageSchema(ownershipChangeViewSchema),
  ),
} as const;

const ipEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({
    name: `${ipContractName}.${name}`,
    payload: z.object({ at: isoInstantSchema, txId: z.string(), actor: actorSchema, workId: z.string(), ...shape }),
  });

/** Every event of the `ip` contract; a transaction emits exactly one. */
export const ipEvents = {
  workRegistered: ipEvent('WorkRegistered', { work: workRecordSchema }),
  ownershipChangeProposed: ipEvent('OwnershipChangeProposed', { change: ownershipChangeViewSchema }),
  ownershipChangeApproved: ipEvent('OwnershipChangeApproved', { change: ownershipChangeViewSchema }),
  ownershipChangeDeclined: ipEvent('OwnershipChangeDeclined', { change: ownershipChangeViewSchema }),
  ownershipChangeWithdrawn: ipEvent('OwnershipChangeWithdrawn', { change: ownershipChangeViewSchema }),
} as const;

export const ipEventNames: readonly string[] = Object.values(ipEvents).map((event) => event.name);
