import {
  acceptanceModes,
  agreementStatuses,
  auditRecordKinds,
  complianceCheckSchema,
  credentialStatuses,
  credentialTypes,
  instructionKinds,
  ipAssignments,
  instructionStatuses,
  milestoneKinds,
  milestoneStatuses,
  ownershipChangeStatuses,
  partyQueryRoles,
  partySides,
  proposalPhases,
  rateSchema,
  settlementCauses,
  settlementOutcomes,
  taskStatuses,
  voteChoices,
  workKinds,
} from '@gigledger/chaincode/model';
import {
  agreementFilterSchema,
  credentialFilterSchema,
  licenceFilterSchema,
  licenceOfferFilterSchema,
  milestoneFilterSchema,
  pageSchema,
  payoutFilterSchema,
  proposalFilterSchema,
  provenanceRecordFilterSchema,
  royaltyPeriodFilterSchema,
  workFilterSchema,
} from '../audit-index/index-queries.js';
import { provableKindNames } from '../proofs/record-proofs.js';
import { suiteServer } from '../test-support/suite-server.js';

/**
 * The zod enum of the domain model each GraphQL enum mirrors. GraphQL names cannot hold
 * "-", so `fund-escrow` is served as `fund_escrow`.
 */
const modelEnums: Readonly<Record<string, readonly string[]>> = {
  AcceptanceMode: acceptanceModes,
  ProvableRecordKind: provableKindNames,
  AgreementIndexSort: agreementFilterSchema.shape.sort.unwrap().options,
  CredentialIndexSort: credentialFilterSchema.shape.sort.unwrap().options,
  IndexSortDirection: pageSchema.shape.direction.unwrap().options,
  MilestoneIndexSort: milestoneFilterSchema.shape.sort.unwrap().options,
  PayoutIndexSort: payoutFilterSchema.shape.sort.unwrap().options,
  ProposalIndexSort: proposalFilterSchema.shape.sort.unwrap().options,
  WorkIndexSort: workFilterSchema.shape.sort.unwrap().options,
  LicenceIndexSort: licenceFilterSchema.shape.sort.unwrap().options,
  LicenceOfferIndexSort: licenceOfferFilterSchema.shape.sort.unwrap().options,
  RoyaltyPeriodIndexSort: royaltyPeriodFilterSchema.shape.sort.unwrap().options,
  ProvenanceRecordIndexSort: provenanceRecordFilterSchema.shape.sort.unwrap().options,
  AgreementStatus: agreementStatuses,
  AuditRecordKind: auditRecordKinds,
  ComplianceOutcome: complianceCheckSchema.shape.outcome.options,
  CredentialStatus: credentialStatuses,
  CredentialType: credentialTypes,
  InstructionKind: instructionKinds,
  InstructionStatus: instructionStatuses,
  IpAssignment: ipAssignments,
  MilestoneKind: milestoneKinds,
  MilestoneStatus: milestoneStatuses,
  OwnershipChangeStatus: ownershipChangeStatuses,
  PartyRole: partyQueryRoles,
  PartySide: partySides,
  ProposalPhase: proposalPhases,
  RatePer: rateSchema.shape.per.options,
  SettlementCause: settlementCauses,
  SettlementOutcome: settlementOutcomes,
  TaskStatus: taskStatuses,
  VoteChoice: voteChoices,
  WorkKind: workKinds,
};

describe('GraphQL enums and the domain model', () => {
  const server = suiteServer({ GRAPHQL_INTROSPECTION: 'true' });

  it('serves every enum with exactly the values of the zod enum it mirrors', async () => {
    const response = await server().request('POST', '/graphql', {
      body: { query: '{ __schema { types { name kind enumValues { name } } } }' },
    });
    const types = (
      response.body as {
        data: { __schema: { types: { name: string; kind: string; enumValues: { name: string }[] }[] } };
      }
    ).data.__schema.types;
    const served = types.filter((type) => type.kind === 'ENUM' && !type.name.startsWith('__'));
    expect(served.map((type) => type.name).sort()).toEqual(Object.keys(modelEnums).sort());
    for (const type of served) {
      const expected = (modelEnums[type.name] ?? []).map((value) => value.replaceAll('-', '_'));
      expect({ [type.name]: type.enumValues.map((value) => value.name).sort() }).toEqual({
        [type.name]: [...expected].sort(),
      });
    }
  });
});
