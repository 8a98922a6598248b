/**
 * The composite-key object types (Fabric's `CreateCompositeKey`:
 * `\u0000<objectType>\u0000<attribute>\u0000…`) under which the chaincode keeps each record
 * a proof bundle can name, with the attributes of each key. The stores write these records
 * under these types, and a proof's verifier picks a record's own write among the others
 * its transaction made by them, so both read this one table.
 */
export const recordObjectTypes = {
  /** [agreementId] */
  agreement: 'agreement',
  /** [agreementId, milestoneId]; a milestone's payouts are held in its record. */
  milestone: 'milestone',
  /** [credentialId] */
  credential: 'credential',
  /** [proposalId] */
  proposal: 'proposal',
  /** [workId] */
  work: 'ipWork',
  /** [offerId] */
  licenceOffer: 'licenceOffer',
  /** [grantId] */
  licenceGrant: 'licenceGrant',
  /** [recordId] */
  provenanceRecord: 'provenanceRecord',
  /** [grantId]: a dataset access grant. */
  datasetAccessGrant: 'accessGrant',
  /** [grantId] */
  auditGrant: 'auditGrant',
  /** [name] */
  parameter: 'parameter',
} as const;
