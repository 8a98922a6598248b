import { createHash } from 'node:crypto';
import type { Party } from '../model/party';

/** Lowercase hex SHA-256 of a text: test content hashes derived from a record's id. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The fields of an IP work registration (no `requestId`: callers name theirs): a model
 * whose content hash, title and URI derive from its id, created by its owners.
 */
export function workRegistration(
  workId: string,
  owners: readonly { party: Party; shareBps: number }[],
  overrides: Record<string, unknown> = {},
) {
  return {
    workId,
    kind: 'model',
    contentHash: sha256Hex(workId),
    title: `Work ${workId}`,
    uri: `https://models.example.com/${workId}`,
    creators: owners.map((owner) => owner.party),
    owners,
    ...overrides,
  };
}

/**
 * The fields of a dataset registration (no `requestId`): CC-BY-4.0, collected by
 * consent, kept five years, holding no personal data unless `overrides` says so; the
 * content hash derives from the id.
 */
export function datasetRegistration(recordId: string, overrides: Record<string, unknown> = {}) {
  return {
    recordId,
    contentSha256: sha256Hex(recordId),
    title: `Dataset ${recordId}`,
    licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
    source: 'https://data.example.org/defects',
    legalBasis: 'consent',
    piiClass: 'none',
    retention: { kind: 'period', period: 'P5Y' },
    ...overrides,
  };
}

/**
 * The fields of a licence offer on `workId` (no `requestId`, no terms: those travel in
 * the transient map): a non-exclusive commercial licence for fraud detection in Germany
 * during 2026, 7.5 % royalty plus 2 EUR minor units a unit, open to anyone unless
 * `overrides` names a licensee.
 */
export function licenceOfferFields(offerId: string, workId: string, overrides: Record<string, unknown> = {}) {
  return {
    offerId,
    workId,
    scope: 'commercial',
    fieldsOfUse: ['fraud-detection'],
    territories: ['DE'],
    exclusive: false,
    termStart: '2026-01-01T00:00:00.000Z',
    termEnd: '2027-01-01T00:00:00.000Z',
    royaltyBps: 750,
    perUnitAmount: '2',
    currency: 'EUR',
    ...overrides,
  };
}
