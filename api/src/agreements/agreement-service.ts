import { withTermsSalt } from './terms-salt.js';
import type { AccountService } from '../auth/account-service.js';
import { requireKnownParties } from '../auth/known-parties.js';
import type { z } from 'zod';
import {
  agreementTermsTransientKey,
  type agreementTransactions,
  type AgreementRecord,
  type AgreementTerms,
  type AgreementView,
  type PanelDispute,
  type Party,
  type PartyQueryRole,
  type ResultOf,
} from '@gigledger/chaincode/model';
import { RefusedError, type LedgerClient, type Submitted } from '@gigledger/gateway';
import type { HandAnswer } from '@gigledger/settlement';
import type { Principal } from '../auth/principal.js';
import { ApiError, forbidden, invalidInput, notFound } from '../errors/api-error.js';
import { committed, type Committed, type CommandRequest } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible } from '../ledger/visible.js';
import { readLedgerPage, type LedgerPage, type LedgerPageQuery } from '../http/ledger-pages.js';
import {
  isSameParty,
  listerRoles,
  partyOf,
  requireCommandRole,
  requireOneOfRoles,
  type AgreementCommand,
} from './agreement-gates.js';

type Transactions = typeof agreementTransactions;
/** A transaction's request after validation at the edge. */
/** A transaction's request as the service takes it: a command's with its request id settled. */
export type AgreementRequest<Name extends keyof Transactions> = Transactions[Name]['kind'] extends 'submit'
  ? CommandRequest<z.output<Transactions[Name]['request']>>
  : z.output<Transactions[Name]['request']>;
type Result<Name extends keyof Transactions> = ResultOf<Transactions[Name]>;

/** Which agreements to list: a party's (the caller's own by default), in one role, completed or not. */
export interface AgreementQuery {
  readonly party?: Party | undefined;
  readonly role?: PartyQueryRole | undefined;
  /** Keep only agreements whose milestones are all final (true) or not (false). */
  readonly completed?: boolean | undefined;
  /** The page: at most `first` agreements, starting at the cursor `after`. */
  readonly page?: LedgerPageQuery | undefined;
  /** Where the caller sent `after`, to name it in a refusal (`query.after`, `after`). */
  readonly afterField?: string | undefined;
}

/** Which of the calling arbitrator's disputes to list. */
export interface PanelDisputeQuery {
  /** Keep only disputes decided (true) or still awaiting a majority (false). */
  readonly decided?: boolean | undefined;
  readonly page?: LedgerPageQuery | undefined;
  /** Where the caller sent `after`, to name it in a refusal (`query.after`, `after`). */
  readonly afterField?: string | undefined;
}

/** One listed agreement; `completed` is known when the listing filtered by it. */
export interface ListedAgreement {
  readonly role: PartyQueryRole;
  readonly agreement: AgreementRecord;
  readonly completed?: boolean;
}

/** What the agreement service asks of the settlement service about answers given by hand. */
export interface SettlementDesk {
  /** MSP id of the organisation whose persons with role settlement may answer instructions (the chaincode's rule). */
  readonly organisation: string;
  handAnswerRefusal(instructionId: string, answer: HandAnswer): Promise<string | undefined>;
  /**
   * Why `payoutAccountId` cannot be the account an instruction was paid from or to: it is
   * not the account registered here for the instruction's counterparty in its currency.
   */
  payoutAccountRefusal(instructionId: string, payoutAccountId: string): Promise<string | undefined>;
  handAnswerRecorded(
    instructionId: string,
    answer: HandAnswer & { txId: string; by: { mspId: string; userId: string } },
  ): Promise<void>;
}

/**
 * Records a person's answer to one of the settlement service's instructions (a
 * milestone's or a licence's) with `record`, and keeps it on the instruction's outbox
 * row: only a person of the service's own organisation, and only for a dead letter (or
 * repeating the answer already recorded); see `SettlementService.handAnswerRefusal`.
 *
 * @param part Where the caller sent the answer, named in refusals: `body` (REST) or `input` (GraphQL).
 * @throws ApiError 403 FORBIDDEN for a person of another organisation; 409
 *   INVALID_STATE naming `<part>.instructionId` while the instruction is with its
 *   provider; 422 naming `<part>.payoutAccountId` for an account that is not the
 *   counterparty's registered one in the instruction's currency.
 */
export async function answerByHand<Answered extends { transactionId: string }>(
  principal: Principal,
  desk: SettlementDesk,
  answer: HandAnswer & { instructionId: string; payoutAccountId?: string | undefined },
  record: () => Promise<Answered>,
  part: 'body' | 'input',
): Promise<Answered> {
  if (principal.mspId !== desk.organisation) {
    // Whatever organisations the consortium lists for settlement, the answers to what this
    // server's service sends come from its providers; the outbox is not others' to learn about.
    throw forbidden(
      `this server's settlement service records its providers' answers; only a person of ${desk.organisation} answers one of its dead letters by hand`,
    );
  }
  const refusal = await desk.handAnswerRefusal(answer.instructionId, answer);
  if (refusal !== undefined) throw new ApiError(409, 'INVALID_STATE', refusal, `${part}.instructionId`);
  if (answer.payoutAccountId !== undefined) {
    // The ledger would keep any id; the one a person names must be one this service knows.
    const wrongAccount = await desk.payoutAccountRefusal(answer.instructionId, answer.payoutAccountId);
    if (wrongAccount !== undefined) throw invalidInput(`${part}.payoutAccountId`, wrongAccount);
  }
  const answered = await record();
  await desk.handAnswerRecorded(answer.instructionId, {
    outcome: answer.outcome,
    providerReference: answer.providerReference,
    txId: answered.transactionId,
    by: { mspId: principal.mspId, userId: principal.userId },
  });
  return answered;
}

/**
 * Every agreement operation, for REST and GraphQL alike. Each call is signed with the
 * caller's own Fabric identity, so the chaincode applies its rules to the real caller.
 *
 * Authorisation at the edge comes in two steps: the caller's role must be one the
 * chaincode could ever accept for the command (otherwise 403, without touching the
 * ledger), and the agreement must be readable by the caller (otherwise 404 whether it
 * exists or not, so that ids cannot be probed). The second is the chaincode's own
 * first check of every command; a refused command is answered from a read of the
 * agreement as the caller, as a query is.
 */
export class AgreementService {
  readonly #ledger: LedgerAccess;
  readonly #accounts: Pick<AccountService, 'roleOfIdentity'>;
  readonly #settlementDesk: SettlementDesk | undefined;

  /**
   * @param accounts who this server enrols: a draft's freelancer and evaluator must exist there (see requireKnownParties).
   * @param settlementDesk the settlement service this server runs, if any: a person's
   *   settlement answers are then checked against its outbox (see {@link confirmSettlement}).
   */
  constructor(ledger: LedgerAccess, accounts: Pick<AccountService, 'roleOfIdentity'>, settlementDesk?: SettlementDesk) {
    this.#ledger = ledger;
    this.#accounts = accounts;
    this.#settlementDesk = settlementDesk;
  }

  /**
   * The agreement with its milestones, completion and history.
   *
   * @throws ApiError 404 when it does not exist or the caller may not read it.
   */
  async getAgreement(as: Requester, agreementId: string): Promise<AgreementView> {
    return this.#readable(await this.#client(as), agreementId);
  }

  /**
   * One page of a party's agreements: the caller's own, or anyone's for auditors, admins
   * and HR systems. The chaincode applies the `completed` filter in the evaluation that
   * lists the page, reading on past the agreements it leaves out; past many left out in a
   * row a page may hold fewer agreements than asked for, even none, with more to follow.
   *
   * @throws ApiError 403 when the caller may not list that party's agreements; 422 naming
   *   `afterField` for a cursor that is not this list's.
   */
  async listAgreements(as: Requester, query: AgreementQuery): Promise<LedgerPage<ListedAgreement>> {
    const party = query.party ?? partyOf(as.principal);
    if (!isSameParty(party, partyOf(as.principal))) {
      requireOneOfRoles(as.principal, listerRoles, "list another person's agreements");
    }
    const client = await this.#client(as);
    const page = await readLedgerPage(query.page ?? {}, query.afterField ?? 'after', (paging) =>
      client.agreements.listAgreementsByParty({
        mspId: party.mspId,
        userId: party.userId,
        ...(query.role === undefined ? {} : { role: query.role }),
        ...(query.completed === undefined ? {} : { completed: query.completed }),
        ...paging,
      }),
    );
    const completed = query.completed;
    if (completed === undefined) return page;
    return { items: page.items.map((entry) => ({ ...entry, completed })), endCursor: page.endCursor };
  }

  /**
   * One page of the disputes whose panel holds the calling arbitrator, each with its
   * milestone (the dispute, votes and any decision) and agreement; `decided` keeps those
   * decided (true) or still open (false). The list comes from the panel seats the chaincode
   * records when a dispute is opened, so an arbitrator needs no agreement id from anyone.
   *
   * @throws ApiError 403 unless the caller holds role arbitrator; 422 naming `afterField`
   *   for a cursor that is not this list's.
   */
  async listPanelDisputes(as: Requester, query: PanelDisputeQuery): Promise<LedgerPage<PanelDispute>> {
    requireOneOfRoles(as.principal, ['arbitrator'], 'list the disputes whose panel holds them');
    const client = await this.#client(as);
    return readLedgerPage(query.page ?? {}, query.afterField ?? 'after', (paging) =>
      client.agreements.listPanelDisputes({
        ...(query.decided === undefined ? {} : { decided: query.decided }),
        ...paging,
      }),
    );
  }

  /**
   * Every version of a milestone, newest first.
   *
   * @throws ApiError 404 when the agreement is not visible or has no such milestone.
   */
  async milestoneHistory(
    as: Requester,
    request: AgreementRequest<'getMilestoneHistory'>,
  ): Promise<Result<'getMilestoneHistory'>> {
    const client = await this.#client(as);
    await this.#milestoneOf(client, request.agreementId, request.milestoneId);
    return client.agreements.getMilestoneHistory(request);
  }

  /**
   * The tasks of a batch milestone.
   *
   * @throws ApiError 404 when the agreement is not visible or has no such milestone.
   */
  async listTasks(as: Requester, request: AgreementRequest<'listTasks'>): Promise<Result<'listTasks'>> {
    const client = await this.#client(as);
    await this.#milestoneOf(client, request.agreementId, request.milestoneId);
    return client.agreements.listTasks(request);
  }

  /**
   * The confidential terms; the chaincode gives them to the two parties only.
   *
   * @throws ApiError 404 when the agreement is not visible.
   * @throws RefusedError FORBIDDEN (403) for a reader who is not a party.
   */
  async getTerms(as: Requester, agreementId: string): Promise<Result<'getTerms'>> {
    const client = await this.#client(as);
    // The terms go to the two parties only, who may always read the agreement: a read
    // before would cost every answer one more evaluation, so it runs only after a refusal.
    return this.#answeredAsRead(client, { agreementId }, () => client.agreements.getTerms({ agreementId }));
  }

  /**
   * Checks a terms document against the hash on the agreement.
   *
   * @throws ApiError 404 when the agreement is not visible.
   */
  async verifyTerms(as: Requester, request: AgreementRequest<'verifyTerms'>): Promise<Result<'verifyTerms'>> {
    const client = await this.#client(as);
    await this.#readable(client, request.agreementId);
    return client.agreements.verifyTerms(request);
  }

  /**
   * Drafts an agreement; the terms travel in the transient map only, so they are
   * neither ordered nor written to the channel ledger (and never logged here). Terms
   * without a `salt` get one ({@link withTermsSalt}); the parties read it with the terms.
   *
   * @param part where the request's fields were sent, named in refusals: `body` (REST) or `input` (GraphQL).
   * @throws ApiError 403 unless the caller has role client and is the client the draft names;
   *   422 naming `<part>.freelancer.userId` / `<part>.evaluator.userId` for a party this
   *   server enrols who does not exist or has another role.
   * @throws RefusedError from the chaincode, e.g. ALREADY_EXISTS, REQUEST_ID_REUSED (409).
   */
  async draftAgreement(
    as: Requester,
    request: AgreementRequest<'draftAgreement'>,
    terms: AgreementTerms,
    part: 'body' | 'input' = 'body',
  ): Promise<Committed<Result<'draftAgreement'>>> {
    requireCommandRole(as.principal, 'draftAgreement');
    if (!isSameParty(request.client, partyOf(as.principal))) {
      throw forbidden(
        `only the client named in the draft may draft it; the caller is ${as.principal.mspId} user ${as.principal.userId}`,
      );
    }
    await requireKnownParties(this.#accounts, [
      { party: request.freelancer, field: `${part}.freelancer`, roles: ['freelancer'] },
      ...(request.evaluator === undefined
        ? []
        : [{ party: request.evaluator, field: `${part}.evaluator`, roles: ['evaluator'] as const }]),
    ]);
    const client = await this.#client(as);
    // The same request sent again gets the same salt, so its hash, as the ledger's idempotency check needs.
    const salted = withTermsSalt(terms, [
      'agreement terms',
      as.principal.mspId,
      as.principal.userId,
      request.requestId,
    ]);
    const submitted = await client.agreements.draftAgreement(request, {
      transient: { [agreementTermsTransientKey]: salted },
    });
    return committed(submitted, request.requestId);
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  acceptAgreement(as: Requester, request: AgreementRequest<'acceptAgreement'>) {
    return this.#command(as, 'acceptAgreement', request, (client) => client.agreements.acceptAgreement(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  declineAgreement(as: Requester, request: AgreementRequest<'declineAgreement'>) {
    return this.#command(as, 'declineAgreement', request, (client) => client.agreements.declineAgreement(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  cancelAgreement(as: Requester, request: AgreementRequest<'cancelAgreement'>) {
    return this.#command(as, 'cancelAgreement', request, (client) => client.agreements.cancelAgreement(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  fundMilestone(as: Requester, request: AgreementRequest<'fundMilestone'>) {
    return this.#command(as, 'fundMilestone', request, (client) => client.agreements.fundMilestone(request));
  }

  /**
   * A person's answer to a settlement instruction. Where this server runs the settlement
   * service, its provider's verified answers are what the ledger records; a person
   * answers only what the service gave up on (a dead letter), or repeats the recorded
   * answer, and their answer is then kept on the outbox row too.
   *
   * @param part Where the caller sent the fields: `body` (REST) or `input` (GraphQL).
   * @throws ApiError 403 (role, or another organisation than the settlement service's) or
   *   404 (not visible); 409 INVALID_STATE naming
   *   `<part>.instructionId` when the instruction is with its provider; RefusedError from
   *   the chaincode.
   */
  async confirmSettlement(
    as: Requester,
    request: AgreementRequest<'confirmSettlement'>,
    part: 'body' | 'input' = 'body',
  ) {
    const record = () =>
      this.#command(as, 'confirmSettlement', request, (client) => client.agreements.confirmSettlement(request));
    const desk = this.#settlementDesk;
    if (desk === undefined) return record();
    requireCommandRole(as.principal, 'confirmSettlement');
    return answerByHand(as.principal, desk, request, record, part);
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode (COMPLIANCE_HOLD while still held). */
  retryHeldPayout(as: Requester, request: AgreementRequest<'retryHeldPayout'>) {
    return this.#command(as, 'retryHeldPayout', request, (client) => client.agreements.retryHeldPayout(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode (INVALID_STATE unless failed). */
  reissueFailedPayout(as: Requester, request: AgreementRequest<'reissueFailedPayout'>) {
    return this.#command(as, 'reissueFailedPayout', request, (client) =>
      client.agreements.reissueFailedPayout(request),
    );
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  submitDeliverable(as: Requester, request: AgreementRequest<'submitDeliverable'>) {
    return this.#command(as, 'submitDeliverable', request, (client) => client.agreements.submitDeliverable(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  acceptMilestone(as: Requester, request: AgreementRequest<'acceptMilestone'>) {
    return this.#command(as, 'acceptMilestone', request, (client) => client.agreements.acceptMilestone(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  rejectDeliverable(as: Requester, request: AgreementRequest<'rejectDeliverable'>) {
    return this.#command(as, 'rejectDeliverable', request, (client) => client.agreements.rejectDeliverable(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  claimAcceptance(as: Requester, request: AgreementRequest<'claimAcceptance'>) {
    return this.#command(as, 'claimAcceptance', request, (client) => client.agreements.claimAcceptance(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  postEvaluation(as: Requester, request: AgreementRequest<'postEvaluation'>) {
    return this.#command(as, 'postEvaluation', request, (client) => client.agreements.postEvaluation(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  releaseMilestone(as: Requester, request: AgreementRequest<'releaseMilestone'>) {
    return this.#command(as, 'releaseMilestone', request, (client) => client.agreements.releaseMilestone(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  openDispute(as: Requester, request: AgreementRequest<'openDispute'>) {
    return this.#command(as, 'openDispute', request, (client) => client.agreements.openDispute(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  castDisputeVote(as: Requester, request: AgreementRequest<'castDisputeVote'>) {
    return this.#command(as, 'castDisputeVote', request, (client) => client.agreements.castDisputeVote(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  submitTasks(as: Requester, request: AgreementRequest<'submitTasks'>) {
    return this.#command(as, 'submitTasks', request, (client) => client.agreements.submitTasks(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  reviewTasks(as: Requester, request: AgreementRequest<'reviewTasks'>) {
    return this.#command(as, 'reviewTasks', request, (client) => client.agreements.reviewTasks(request));
  }

  /** @throws ApiError 403 (role) or 404 (not visible); RefusedError from the chaincode. */
  claimTasksAcceptance(as: Requester, request: AgreementRequest<'claimTasksAcceptance'>) {
    return this.#command(as, 'claimTasksAcceptance', request, (client) =>
      client.agreements.claimTasksAcceptance(request),
    );
  }

  /**
   * Role gate, then the submission; only when the chaincode refuses is the agreement
   * (and milestone) read as the caller, so that the answer is the one the read gives
   * (404 whether missing or not visible) whenever that read fails.
   *
   * Why not read first: every agreement command refuses in its chaincode exactly when
   * that read would (it checks visibility before anything else, and resolves the
   * milestone), so reading first would cost every accepted command one more
   * evaluation for an answer that only a refused one needs.
   */
  async #command<Value>(
    as: Requester,
    command: AgreementCommand,
    target: { readonly agreementId: string; readonly milestoneId?: string; readonly requestId: string },
    send: (client: LedgerClient) => Promise<Submitted<Value>>,
  ): Promise<Committed<Value>> {
    requireCommandRole(as.principal, command);
    const client = await this.#client(as);
    return committed(await this.#answeredAsRead(client, target, () => send(client)), target.requestId);
  }

  /**
   * Runs a call whose refusals the chaincode makes exactly when reading the agreement
   * (and milestone) as the caller would fail, or later; after a refusal that read decides
   * the answer (404 whether missing, not visible or outside an auditor's grants), and the
   * call's own refusal stands when the read succeeds.
   */
  async #answeredAsRead<Value>(
    client: LedgerClient,
    target: { readonly agreementId: string; readonly milestoneId?: string },
    call: () => Promise<Value>,
  ): Promise<Value> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      if (target.milestoneId === undefined) await this.#readable(client, target.agreementId);
      else await this.#milestoneOf(client, target.agreementId, target.milestoneId);
      throw error;
    }
  }

  #client(as: Requester): Promise<LedgerClient> {
    return this.#ledger.clientFor(as.principal, as.log);
  }

  /**
   * Reads the agreement as the caller. A refusal to show it and its absence give the
   * same answer, so a caller learns nothing about agreements it may not read.
   */
  #readable(client: LedgerClient, agreementId: string): Promise<AgreementView> {
    return visible(`agreement ${agreementId}`, 'agreementId', () => client.agreements.getAgreement({ agreementId }));
  }

  async #milestoneOf(client: LedgerClient, agreementId: string, milestoneId: string): Promise<AgreementView> {
    const view = await this.#readable(client, agreementId);
    // The caller may read the agreement, so saying the milestone is missing reveals nothing new.
    if (!view.agreement.milestoneIds.includes(milestoneId)) {
      throw notFound(`milestone ${milestoneId} of agreement ${agreementId}`, 'milestoneId');
    }
    return view;
  }
}
