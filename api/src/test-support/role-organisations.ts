import type { Role } from '@gigledger/chaincode/model';

/** An organisation for a test person or key of each role, spread over the three. */
export const organisationOfRole: Readonly<Record<Role, string>> = {
  client: 'ClientOrg',
  freelancer: 'TalentOrg',
  evaluator: 'TalentOrg',
  arbitrator: 'AuditOrg',
  settlement: 'ClientOrg',
  auditor: 'AuditOrg',
  hr: 'ClientOrg',
  issuer: 'AuditOrg',
  governor: 'ClientOrg',
  admin: 'ClientOrg',
};
