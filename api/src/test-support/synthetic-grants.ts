import type { AuditGrantRecord, AuditRecordKind, AuditScope } from '@gigledger/chaincode/model';

/**
 * A live audit grant as the chaincode stores it, for tests that judge visibility
 * without a ledger: `organisation` (an MSP id) lets every auditor of `auditorMspId`
 * read `kinds` of its records dated within `range`, granted at `grantedAt`.
 */
export function liveGrant(spec: {
  grantId: string;
  organisation: string;
  auditorMspId: string;
  kinds: AuditRecordKind[];
  range?: { from?: string; to?: string };
  grantedAt: string;
  expiresAt: string;
}): AuditGrantRecord {
  return {
    grantId: spec.grantId,
    organisation: spec.organisation,
    auditor: { mspId: spec.auditorMspId },
    kinds: spec.kinds,
    ...spec.range,
    expiresAt: spec.expiresAt,
    purpose: 'Statutory audit',
    grantedBy: { mspId: spec.organisation, userId: 'admin-1' },
    grantedAt: spec.grantedAt,
    txId: `tx-${spec.grantId}`,
    status: 'active',
    updatedAt: spec.grantedAt,
    updatedTxId: `tx-${spec.grantId}`,
  };
}

/** The scope the chaincode would answer for an auditor of `auditorMspId` holding `grants` at `asOf`. */
export function scopeOfGrants(auditorMspId: string, asOf: string, grants: AuditGrantRecord[]): AuditScope {
  return {
    auditor: { mspId: auditorMspId },
    asOf,
    grants,
    organisations: [...new Set(grants.map((each) => each.organisation))],
    kinds: [...new Set(grants.flatMap((each) => each.kinds))],
  };
}

/** {@link liveGrant} and {@link scopeOfGrants} bound to one auditor organisation and one set of dates. */
export function grantKit(auditorMspId: string, dates: { grantedAt: string; expiresAt: string; asOf: string }) {
  return {
    grant: (
      grantId: string,
      organisation: string,
      kinds: AuditRecordKind[],
      range: { from?: string; to?: string } = {},
    ): AuditGrantRecord => liveGrant({ grantId, organisation, auditorMspId, kinds, range, ...dates }),
    scopeOf: (grants: AuditGrantRecord[]): AuditScope => scopeOfGrants(auditorMspId, dates.asOf, grants),
  };
}
