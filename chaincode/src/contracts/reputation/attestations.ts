import type { Context } from 'fabric-contract-api';
import { agreementRecordSchema, milestoneRecordSchema, type AgreementRecord } from '../../model/agreement-records';
import { type Party } from '../../model/party';
import { reputationEvents, type AttestRequest } from '../../model/reputation';
import type { AttestationRecord } from '../../model/reputation-records';
import { attesterWeight } from '../../model/reputation-score';
import { requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { readRecord } from '../../ledger/state';
import { canReadAgreement } from '../agreement/access';
import { agreementKey, milestoneKey } from '../agreement/store';
import type { Tx } from '../../ledger/tx';
import { describeParty, readCredentialsOfSubject, sameParty } from '../credential/store';
import { emitReputationEvent } from './events';
import { attestationKey, keyExists, writeAttestation } from './store';

/**
 * The answer for an agreement id that names nothing the caller may rely on: the same
 * code, field and sentence whether the agreement is missing or merely hidden.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
function refuseAsMissing(agreementId: string, field: string): never {
  refuse('NOT_FOUND', `agreement ${agreementId} does not exist`, field);
}

/**
 * An agreement's work period: from its acceptance to its latest milestone due date, or
 * to its cancellation when that came first; undefined when the freelancer never
 * accepted it, so no work was shared on it. Reads each milestone by its own key.
 */
async function workPeriod(
  ctx: Context,
  agreement: AgreementRecord,
): Promise<{ start: number; end: number } | undefined> {
  if (agreement.acceptedAt === undefined) return undefined;
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
 * The attester's own agreement, with its work period. The attester may read it, so
 * what is wrong with it is said plainly.
 *
 * @throws RefusalError NOT_FOUND when it does not exist or the caller may not read it;
 *   FORBIDDEN when the attester was not its freelancer; INVALID_STATE when it was never accepted.
 */
async function requireAttesterAgreement(
  tx: Tx,
  attester: Party,
  agreementId: string,
): Promise<{ agreement: AgreementRecord; period: { start: number; end: number } }> {
  const field = 'attesterAgreementId';
  const agreement = await readRecord(tx.ctx, agreementRecordSchema, agreementKey(tx.ctx, agreementId));
  if (agreement === undefined || !canReadAgreement(tx.caller, agreement)) refuseAsMissing(agreementId, field);
  if (!sameParty(agreement.freelancer, attester)) {
    refuse(
      'FORBIDDEN',
      `the attester ${describeParty(attester)} was not the freelancer of agreement ${agreementId}`,
      field,
    );
  }
  const period = await workPeriod(tx.ctx, agreement);
  if (period === undefined) {
    refuse(
      'INVALID_STATE',
      `agreement ${agreementId} is ${agreement.status} and was never accepted, so no work was shared on it`,
      field,
    );
  }
  return { agreement, period };
}

/**
 * Why the subject's agreement does not show shared work with the attester's, or
 * undefined when it does: the subject was its freelancer, it has the same client, was
 * accepted, and its work period overlaps the attester's.
 */
async function sharedWorkFailure(
  tx: Tx,
  request: AttestRequest,
  subjectAgreement: AgreementRecord,
  attesterWork: { agreement: AgreementRecord; period: { start: number; end: number } },
): Promise<string | undefined> {
  const { agreementId, attesterAgreementId } = request;
  if (!sameParty(subjectAgreement.freelancer, request.subject)) {
    return `${describeParty(request.subject)} was not the freelancer of agreement ${agreementId}`;
  }
  if (!sameParty(subjectAgreement.client, attesterWork.agreement.client)) {
    return `agreements ${agreementId} and ${attesterAgreementId} have different clients, so the work was not shared`;
  }
  const period = await workPeriod(tx.ctx, subjectAgreement);
  if (period === undefined) return `agreement ${agreementId} was never accepted, so no work was shared on it`;
  if (period.start > attesterWork.period.end || attesterWork.period.start > period.end) {
    return `the work periods of agreements ${agreementId} and ${attesterAgreementId} do not overlap, so the work was not shared`;
  }
  return undefined;
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
 * The attester is not a party to the subject's agreement and may not read it, so
 * whatever keeps it from showing shared work (it does not exist, names another
 * freelancer or client, was never accepted, or its period does not overlap) gets the
 * one answer a missing agreement gets; only a caller who may read that agreement (an
 * evaluator or overseer of it holding role freelancer) is told which condition failed.
 *
 * Besides that range over the attester's own credential index (see
 * {@link activeCredentialCount}), reads only single keys: the two agreements, their
 * milestones and the attestation key itself.
 *
 * @throws RefusalError NOT_FOUND when either agreement does not exist or may not be read
 *   by the caller, or the subject's agreement shows no work shared with the attester;
 *   FORBIDDEN when the attester was not the freelancer of their own agreement (or, to a
 *   caller who may read the subject's agreement, when a condition of shared work fails);
 *   INVALID_STATE when the attester's agreement was never accepted; ALREADY_EXISTS when
 *   the attester already vouched for the subject on that agreement.
 */
export async function attest(tx: Tx, request: AttestRequest): Promise<AttestationRecord> {
  const { ctx } = tx;
  const attester = { mspId: tx.caller.mspId, userId: requireUserId(tx.caller, 'attest a skill') };
  const attesterWork = await requireAttesterAgreement(tx, attester, request.attesterAgreementId);
  const subjectAgreement = await readRecord(ctx, agreementRecordSchema, agreementKey(ctx, request.agreementId));
  if (subjectAgreement === undefined) refuseAsMissing(request.agreementId, 'agreementId');
  const failure = await sharedWorkFailure(tx, request, subjectAgreement, attesterWork);
  if (failure !== undefined) {
    if (!canReadAgreement(tx.caller, subjectAgreement)) refuseAsMissing(request.agreementId, 'agreementId');
    refuse('FORBIDDEN', failure, 'agreementId');
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
