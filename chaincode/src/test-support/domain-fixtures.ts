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
