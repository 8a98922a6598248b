import { recordObjectTypes } from '@gigledger/chaincode/model';
import { ledger } from '@hyperledger/fabric-protos';
import { namespaceSets } from './key-policies.js';

/** How the chaincode keys one kind of record: the composite key's object type, and its attributes from the record's id. */
interface RecordKeyLayout {
  readonly objectType: string;
  /** The id's form, for a refusal: `<agreementId>/<milestoneId>`. */
  readonly form: string;
  /** The key's attributes, or undefined when the id is not of the kind's form. */
  readonly attributes: (id: string) => readonly string[] | undefined;
  /** Whether the record's written value names it, for a record held inside another (a payout in its milestone). */
  readonly heldIn?: (value: unknown, id: string) => boolean;
}

/** The id's `/`-separated parts when there are `count` of them, none empty. */
function parts(id: string, count: number): string[] | undefined {
  const split = id.split('/');
  return split.length === count && split.every((part) => part !== '') ? split : undefined;
}

const whole = (objectType: string): RecordKeyLayout => ({ objectType, form: 'an id', attributes: (id) => [id] });

/*
 * The records a proof can name, by the kinds of GET /v1/proofs/records/{kind}/{id}, under
 * the chaincode's own object types. Each transaction that writes a record also writes
 * index entries and related records that name its id (a work's ownership change, an
 * agreement's milestones), so only the key tells which write is the record.
 */
const layouts = {
  agreement: whole(recordObjectTypes.agreement),
  milestone: {
    objectType: recordObjectTypes.milestone,
    form: '<agreementId>/<milestoneId>',
    attributes: (id: string) => parts(id, 2),
  },
  // A payout lives in its milestone's record; its id is its settlement instruction's.
  payout: {
    objectType: recordObjectTypes.milestone,
    form: '<agreementId>/<milestoneId>/<instruction>',
    attributes: (id: string) => parts(id, 3)?.slice(0, 2),
    heldIn: (value: unknown, id: string) => {
      const instructions = (value as { instructions?: unknown } | null)?.instructions;
      return (
        Array.isArray(instructions) &&
        instructions.some((instruction) => (instruction as { instructionId?: unknown } | null)?.instructionId === id)
      );
    },
  },
  credential: whole(recordObjectTypes.credential),
  proposal: whole(recordObjectTypes.proposal),
  work: whole(recordObjectTypes.work),
  'licence-offer': whole(recordObjectTypes.licenceOffer),
  licence: whole(recordObjectTypes.licenceGrant),
  'provenance-record': whole(recordObjectTypes.provenanceRecord),
  'dataset-access-grant': whole(recordObjectTypes.datasetAccessGrant),
  'audit-grant': whole(recordObjectTypes.auditGrant),
  parameter: whole(recordObjectTypes.parameter),
} satisfies Record<string, RecordKeyLayout>;

/** A kind of record a proof bundle's `record` can name. */
export type RecordKind = keyof typeof layouts;

/** Every kind of record a proof bundle's `record` can name. */
export const recordKinds = Object.keys(layouts) as [RecordKind, ...RecordKind[]];

function layoutOf(kind: string): RecordKeyLayout | undefined {
  return Object.hasOwn(layouts, kind) ? layouts[kind as RecordKind] : undefined;
}

/**
 * The composite key the chaincode holds record `id` of `kind` under
 * (`\u0000<objectType>\u0000<attribute>\u0000…`, Fabric's `CreateCompositeKey`): a payout's
 * is its milestone's.
 *
 * @throws Error saying why, when the kind is not one of {@link recordKinds}, the id is not
 *   of the kind's form, or an attribute holds U+0000 or U+10FFFF (which Fabric refuses in
 *   a composite key).
 */
export function recordKey(kind: string, id: string): string {
  const layout = layoutOf(kind);
  if (layout === undefined) throw new Error(`kind ${kind} is not a kind of record (${recordKinds.join(', ')})`);
  const attributes = layout.attributes(id);
  if (attributes === undefined) throw new Error(`${kind} id ${JSON.stringify(id)} is not ${layout.form}`);
  if (attributes.some((attribute) => attribute.includes('\u0000') || attribute.includes('\u{10ffff}')))
    throw new Error(`${kind} id ${JSON.stringify(id)} holds a character Fabric refuses in a key`);
  return `\u0000${layout.objectType}\u0000${attributes.map((attribute) => `${attribute}\u0000`).join('')}`;
}

/**
 * Why a value written under {@link recordKey}`(kind, id)` does not hold record `id`, or
 * undefined when it does: a payout's milestone must list its instruction. Other records
 * are their key's whole value.
 */
export function recordValueProblem(kind: string, id: string, value: Uint8Array): string | undefined {
  const heldIn = layoutOf(kind)?.heldIn;
  if (heldIn === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return `the value written is not JSON, so it does not hold ${kind} ${id}`;
  }
  return heldIn(parsed, id) ? undefined : `the value written does not hold ${kind} ${id}`;
}

/**
 * The value an endorser transaction last wrote to a public key of `namespace`, or
 * undefined when it wrote none (a delete counts as none).
 *
 * @param payloadData `common.Payload.data` of an endorser transaction.
 * @throws Error when a nested message does not decode.
 */
export function writtenValue(payloadData: Uint8Array, namespace: string, key: string): Uint8Array | undefined {
  let value: Uint8Array | undefined;
  for (const set of namespaceSets(payloadData, namespace)) {
    for (const write of ledger.rwset.kvrwset.KVRWSet.deserializeBinary(set.getRwset_asU8()).getWritesList())
      if (write.getKey() === key) value = write.getIsDelete() ? undefined : write.getValue_asU8();
  }
  return value;
}
