import type { Context } from 'fabric-contract-api';
import {
  agreementRecordSchema,
  milestoneRecordSchema,
  type AgreementRecord,
  type Party,
} from '../../model/agreement-records';
import { reputationEvents, type AttestRequest } from '../../model/reputation';
import type { AttestationRecord } from '../../model/reputation-records';
import { attesterWeight } from '../../model/reputation-score';
import { requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { readRecord } from '../../ledger/state';
import { agreementKey, milestoneKey } from '../agreement/store';
import type { Tx } from '../agreement/tx';
import { describeParty, readCredentialsOfSubject, sameParty } from '../credential/store';
import { emitReputationEvent } from './events';
import { attestationKey, keyExists, writeAttestation } from './store';

async function requireAgreementAt(ctx: Context, agreementId: string, field: string): Promise<AgreementRecord> {
  const agreement = await readRecord(ctx, agreementRecordSchema, agreementKey(ctx, agreementId));
  if (agreement === undefined) refuse('NOT_FOUND', `agreement ${agreementId} does not exist`, field);
  return agreement;
}

/**
 * An agreement's work period: from its acceptance to its latest milestone due date, or
 * to its cancellation when that came first. Reads each milestone by its own key.
 *
 * @throws RefusalError INVALID_STATE when the freelancer never accepted the agreement.
 */
async function workPeriod(ctx: Context, agreement: AgreementRecord): Promise<{ start: number; end: number }> {
  if (agreement.acceptedAt === undefined) {
    refuse(
      'INVALID_STATE',
      `agreement ${agreement.agreementId} is ${agreement.status} and was never accepted, so no work was shared on it`,
    );
  }
  let end = Date.parse(agreement.acceptedAt);
  for (const milestoneId of agreement.milestoneIds) {
    const milestone = await readRecord(
      ctx,
      milestoneRecordSchema,
      milestoneKey(ctx, agreement.agreementId, milestoneId),
    );
    if (milestone !== undefined) end = Math.max(end, Date.parse(milestone.dueDate));
  }
  if (agreement.cancellation !== undefined) end = Math.min(end, Date.parse(agreement.cancellation.at));
  return { start: Date.parse(agreement.acceptedAt), end };
}

/**
 * The attester's credentials that are active and unexpired at `at`.
 *
 * This is the one range read of `attest`, and it is safe under load: it covers only the
 * attester's own `credentialBySubject` index entries, which nothing but issuing a
 * credential *to the attester* inserts into, and then reads each of those credentials by
 * its key, which nothing but a status change of that credential writes. Completions and
 * attestations for other freelancers never write there, so they cannot cause a phantom
 * read (or MVCC) conflict; an issuance to or revocation of the attester concurrent with
 * the attestation does, correctly, because it changes the weight.
 */
async function activeCredentialCount(ctx: Context, attester: Party, at: string): Promise<number> {
  const credentials = await readCredentialsOfSubject(ctx, attester);
  return credentials.filter(
    (credential) =>
      credential.status === 'active' &&
      (credential.expirationDate === undefined || Date.parse(credential.expirationDate) > Date.parse(at)),
  ).length;
}

/**
 * A freelancer vouches for another's skill on work they shared: the subject was the
 * freelancer of `agreementId`, the attester of `attesterAgreementId`, both for the same
 * client, with overlapping work periods. The weight, from the attester's active
 * credentials, is stored on the record.
 *
 * Besides that range over the attester's own credential index (see
 * {@link activeCredentialCount}), reads only single keys: the two agreements, their
 * milestones and the attestation key itself.
 *
 * @throws RefusalError NOT_FOUND for an unknown agreement; FORBIDDEN when the subject or
 *   the attester was not the freelancer of the agreement named for them, the clients
 *   differ or the work periods do not overlap; INVALID_STATE when an agreement was never
 *   accepted; ALREADY_EXISTS when the attester already vouched for the subject on that agreement.
 */
export async function attest(tx: Tx, request: AttestRequest): Promise<AttestationRecord> {
  const { ctx } = tx;
  const attester = { mspId: tx.caller.mspId, userId: requireUserId(tx.caller, 'attest a skill') };
  const subjectAgreement = await requireAgreementAt(ctx, request.agreementId, 'agreementId');
  if (!sameParty(subjectAgreement.freelancer, request.subject)) {
    refuse(
      'FORBIDDEN',
      `${describeParty(request.subject)} was not the freelancer of agreement ${request.agreementId}`,
      'agreementId',
    );
  }
  const attesterAgreement = await requireAgreementAt(ctx, request.attesterAgreementId, 'attesterAgreementId');
  if (!sameParty(attesterAgreement.freelancer, attester)) {
    refuse(
      'FORBIDDEN',
      `the attester ${describeParty(attester)} was not the freelancer of agreement ${request.attesterAgreementId}`,
      'attesterAgreementId',
    );
  }
  if (!sameParty(subjectAgreement.client, attesterAgreement.client)) {
    refuse(
      'FORBIDDEN',
      `agreements ${request.agreementId} and ${request.attesterAgreementId} have different clients, so the work was not shared`,
      'attesterAgreementId',
    );
  }
  const subjectPeriod = await workPeriod(ctx, subjectAgreement);
  const attesterPeriod = await workPeriod(ctx, attesterAgreement);
  if (subjectPeriod.start > attesterPeriod.end || attesterPeriod.start > subjectPeriod.end) {
    refuse(
      'FORBIDDEN',
      `the work periods of agreements ${request.agreementId} and ${request.attesterAgreementId} do not overlap, so the work was not shared`,
      'attesterAgreementId',
    );
  }
  const ref = { subject: request.subject, attester, agreementId: request.agreementId };
  if (await keyExists(ctx, attestationKey(ctx, ref))) {
    refuse(
      'ALREADY_EXISTS',
      `${describeParty(attester)} has already vouched for ${describeParty(request.subject)} on agreement ${request.agreementId}`,
      'agreementId',
    );
  }
  const activeCredentials = await activeCredentialCount(ctx, attester, tx.at);
  const attestation: AttestationRecord = {
    ...ref,
    attesterAgreementId: request.attesterAgreementId,
    client: subjectAgreement.client,
    skill: request.skill,
    level: request.level,
    ...(request.comment === undefined ? {} : { comment: request.comment }),
    attesterActiveCredentials: activeCredentials,
    weight: attesterWeight(activeCredentials),
    recordedAt: tx.at,
    txId: tx.txId,
  };
  await writeAttestation(ctx, attestation);
  emitReputationEvent(tx, reputationEvents.attestationRecorded, request.subject, { attestation });
  return attestation;
}
