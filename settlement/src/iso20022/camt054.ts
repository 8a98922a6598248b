import { validateIBAN } from 'ibantools';
import { formatMinorAmount, parseMinorAmount } from './amount.js';
import { Camt054Error, Iso20022Error } from './errors.js';
import { maxIdentifierLength } from './identifiers.js';
import { readPain001 } from './pain001.js';
import { textProblem } from './text.js';
import { at, attribute, buildXml, children, parseXml, text, textAt, type XmlElement } from './xml.js';

/** Namespace of the notification version this module writes. Reading accepts every `camt.054.001.NN`. */
export const camt054Namespace = 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08';

/** What one notified transaction means for the payment it belongs to. */
export type Camt054Outcome = 'paid' | 'failed' | 'pending';

/** One transaction of a `camt.054`, as the settlement service needs it. */
export interface Camt054Transaction {
  /** `Refs/EndToEndId` as sent in the `pain.001`; `undefined` when absent or `NOTPROVIDED`. */
  readonly endToEndId: string | undefined;
  readonly creditDebit: 'CRDT' | 'DBIT';
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly outcome: Camt054Outcome;
  /** Why a payment failed: the return reason code and the bank's words, when given. */
  readonly reason?: string;
  /** The bank's reference of the booking (`AcctSvcrRef`), unique per booking. */
  readonly providerReference: string;
  /** Booking date or date-time (ISO 8601), else the notification's creation time. */
  readonly bookedAt: string;
  /** True when the bank reports a return (`RtrInf`) or reversal of an earlier booking. */
  readonly returned: boolean;
  readonly remittanceInformation: readonly string[];
}

/** A parsed `camt.054` BankToCustomerDebitCreditNotification. */
export interface Camt054Notification {
  readonly messageId: string;
  readonly createdAt: string;
  readonly transactions: readonly Camt054Transaction[];
}

/** Words for the return reason codes banks use most (ISO 20022 ExternalReturnReason1Code). */
const returnReasons: Readonly<Record<string, string>> = {
  AC01: 'incorrect account number',
  AC04: 'closed account',
  AC06: 'blocked account',
  AG01: 'transaction forbidden on this account',
  AG02: 'invalid bank operation code',
  AM04: 'insufficient funds',
  AM05: 'duplicate payment',
  BE04: 'missing creditor address',
  FOCR: 'returned after a cancellation request',
  MD07: 'end customer deceased',
  MS02: 'reason not specified by the customer',
  MS03: 'reason not specified by the agent',
  RC01: 'incorrect BIC',
  RR01: 'missing debtor account or identification',
};

function failure(file: string, code: 'MALFORMED_FILE', message: string, cause?: unknown): never {
  throw new Camt054Error(code, `${file}: ${message}`, { fileName: file, cause });
}

/**
 * Reads a `camt.054` BankToCustomerDebitCreditNotification (any `camt.054.001.NN`
 * version that keeps the usual structure; written for .001.08) into one
 * {@link Camt054Transaction} per transaction detail, or per entry when an entry has none.
 *
 * Outcomes: an entry with status `RJCT`, or a booked (`BOOK`) entry that carries return
 * information (`RtrInf`) or the reversal indicator, is `failed` with the reason; any other
 * `BOOK` entry is `paid`; everything else (`PDNG`, `INFO`, ...) is `pending`. Amounts
 * come back as integer minor units of their currency.
 *
 * @param fileName named in every error, so that an operator can find the file.
 * @throws {@link Camt054Error} `MALFORMED_FILE` for XML that is not well-formed, not a
 * camt.054, or lacks a required element; `INVALID_AMOUNT` / `UNKNOWN_CURRENCY` naming the
 * file and the entry, e.g. for an amount with more decimals than its currency allows.
 */
export function parseCamt054(xml: string, fileName = 'camt.054 file'): Camt054Notification {
  let document: ReturnType<typeof parseXml>;
  try {
    document = parseXml(xml);
  } catch (error) {
    return failure(fileName, 'MALFORMED_FILE', error instanceof Error ? error.message : String(error), error);
  }
  const notification = children(document.root, 'BkToCstmrDbtCdtNtfctn')[0];
  if (
    document.name !== 'Document' ||
    !/^urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.\d\d$/.test(document.namespace ?? '') ||
    notification === undefined
  ) {
    return failure(
      fileName,
      'MALFORMED_FILE',
      `not a camt.054 BankToCustomerDebitCreditNotification (namespace ${document.namespace ?? 'none'})`,
    );
  }
  const messageId =
    textAt(notification, 'GrpHdr', 'MsgId') ?? failure(fileName, 'MALFORMED_FILE', 'the group header has no MsgId');
  const createdAt =
    textAt(notification, 'GrpHdr', 'CreDtTm') ?? failure(fileName, 'MALFORMED_FILE', 'the group header has no CreDtTm');

  const transactions: Camt054Transaction[] = [];
  children(notification, 'Ntfctn').forEach((account, accountIndex) => {
    children(account, 'Ntry').forEach((entry, entryIndex) => {
      const label = `entry ${textAt(entry, 'NtryRef') ?? textAt(entry, 'AcctSvcrRef') ?? `#${entryIndex + 1}`} of notification ${textAt(account, 'Id') ?? `#${accountIndex + 1}`}`;
      transactions.push(
        ...readEntry(entry, {
          fileName,
          label,
          messageId,
          createdAt,
          position: `${accountIndex + 1}.${entryIndex + 1}`,
        }),
      );
    });
  });
  return { messageId, createdAt, transactions };
}

interface EntryContext {
  readonly fileName: string;
  readonly label: string;
  readonly messageId: string;
  readonly createdAt: string;
  readonly position: string;
}

function readEntry(entry: XmlElement, context: EntryContext): Camt054Transaction[] {
  const { fileName, label } = context;
  const malformed = (message: string): never => failure(fileName, 'MALFORMED_FILE', `${label}: ${message}`);
  const amountOf = (element: XmlElement | undefined): { amountMinor: bigint; currency: string } | undefined => {
    const value = text(element);
    const currency = attribute(element, 'Ccy');
    if (value === undefined) return undefined;
    if (currency === undefined) return malformed(`amount ${value} has no currency`);
    try {
      return { amountMinor: parseMinorAmount(value, currency), currency };
    } catch (error) {
      if (!(error instanceof Iso20022Error)) throw error;
      throw new Camt054Error(error.code, `${fileName}: ${label}: ${error.detail}`, {
        fileName,
        cause: error,
      });
    }
  };

  const entryAmount = amountOf(children(entry, 'Amt')[0]) ?? malformed('has no amount');
  const entryDirection = creditDebit(textAt(entry, 'CdtDbtInd')) ?? malformed('has no valid CdtDbtInd');
  const status =
    textAt(entry, 'Sts', 'Cd') ?? textAt(entry, 'Sts', 'Prtry') ?? textAt(entry, 'Sts') ?? malformed('has no status');
  const reversal = ['true', '1'].includes(textAt(entry, 'RvslInd') ?? '');
  const bookedAt =
    textAt(entry, 'BookgDt', 'DtTm') ?? textAt(entry, 'BookgDt', 'Dt') ?? textAt(entry, 'BookgDt') ?? context.createdAt;
  const entryReference = textAt(entry, 'AcctSvcrRef') ?? textAt(entry, 'NtryRef');

  const details = children(entry, 'NtryDtls').flatMap((group) => children(group, 'TxDtls'));
  const items = details.length > 0 ? details : [undefined];
  return items.map((detail, detailIndex) => {
    // The amount as instructed comes first: it is in the order's currency, while the
    // transaction's own amount is in the account's (a payout in USD from a EUR account).
    const amount =
      amountOf(at(detail, 'AmtDtls', 'InstdAmt', 'Amt')) ??
      amountOf(children(detail, 'Amt')[0]) ??
      amountOf(at(detail, 'AmtDtls', 'TxAmt', 'Amt')) ??
      (items.length === 1 ? entryAmount : malformed(`transaction ${detailIndex + 1} of a batch entry has no amount`));
    const endToEndId = textAt(detail, 'Refs', 'EndToEndId');
    const returnInformation = children(detail, 'RtrInf')[0];
    const returned = returnInformation !== undefined || reversal;
    const outcome: Camt054Outcome =
      status === 'RJCT' || (status === 'BOOK' && returned) ? 'failed' : status === 'BOOK' ? 'paid' : 'pending';
    const reason = outcome === 'failed' ? describeFailure(status, reversal, returnInformation) : undefined;
    return {
      endToEndId: endToEndId === undefined || endToEndId === 'NOTPROVIDED' ? undefined : endToEndId,
      creditDebit: creditDebit(textAt(detail, 'CdtDbtInd')) ?? entryDirection,
      ...amount,
      outcome,
      ...(reason === undefined ? {} : { reason }),
      providerReference:
        textAt(detail, 'Refs', 'AcctSvcrRef') ??
        (entryReference === undefined
          ? `${context.messageId}/${context.position}.${detailIndex + 1}`
          : items.length === 1
            ? entryReference
            : `${entryReference}/${detailIndex + 1}`),
      bookedAt,
      returned,
      remittanceInformation: children(children(detail, 'RmtInf')[0], 'Ustrd').flatMap((line) => text(line) ?? []),
    };
  });
}

function creditDebit(value: string | undefined): 'CRDT' | 'DBIT' | undefined {
  return value === 'CRDT' || value === 'DBIT' ? value : undefined;
}

function describeFailure(status: string, reversal: boolean, returnInformation: XmlElement | undefined): string {
  const code = textAt(returnInformation, 'Rsn', 'Cd') ?? textAt(returnInformation, 'Rsn', 'Prtry');
  const words = code === undefined ? undefined : returnReasons[code];
  const additional = children(returnInformation, 'AddtlInf').flatMap((line) => text(line) ?? []);
  const what =
    status === 'RJCT'
      ? 'rejected by the bank'
      : returnInformation !== undefined
        ? 'returned by the bank'
        : reversal
          ? 'reversed by the bank'
          : 'failed';
  const parts = [
    code === undefined ? undefined : words === undefined ? code : `${code} ${words}`,
    ...additional,
  ].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? what : `${what}: ${parts.join('; ')}`;
}

/** One entry a bank (or a test bank) reports in a notification it builds. */
export interface Camt054EntryInput {
  readonly endToEndId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly creditDebit: 'CRDT' | 'DBIT';
  /** `BOOK` booked, `PDNG` pending, `INFO` for information; `RJCT` is read as a rejection. */
  readonly status: 'BOOK' | 'PDNG' | 'INFO' | 'RJCT';
  /** `YYYY-MM-DD`. */
  readonly bookingDate?: string;
  /** The bank's unique reference of the booking, at most 35 characters. */
  readonly accountServicerReference: string;
  /** Makes the entry the return of a payment: ISO return reason code (e.g. `AC04`) and words. */
  readonly returnReason?: { readonly code: string; readonly additionalInformation?: string };
  readonly remittanceInformation?: readonly string[];
}

/** A notification to build: the account it reports on and its entries. */
export interface Camt054Input {
  readonly messageId: string;
  /** ISO 8601 date-time. */
  readonly createdAt: string;
  readonly notificationId: string;
  readonly accountIban: string;
  readonly entries: readonly Camt054EntryInput[];
}

function builderCheck(ok: boolean, message: string): void {
  if (!ok) throw new Camt054Error('INVALID_PAYMENT', message);
}

/**
 * Builds a `camt.054.001.08` notification, e.g. for a test bank answering `pain.001`
 * files. A returned payment is written the way banks write one: a credit booked back to
 * the account with bank transaction code `PMNT/ICDT/RRTN` and return information.
 *
 * @throws {@link Camt054Error} `INVALID_PAYMENT` for identifiers that are empty or longer
 * than 35 characters, an account that is not a valid IBAN, or a return reason code that
 * is not 1 to 4 characters; `INVALID_AMOUNT` / `UNKNOWN_CURRENCY` for amounts the message
 * cannot carry.
 */
export function buildCamt054(input: Camt054Input): string {
  for (const [what, value] of [
    ['message id', input.messageId],
    ['notification id', input.notificationId],
  ] as const) {
    const problem = textProblem(value, maxIdentifierLength);
    builderCheck(problem === undefined, `${what} ${problem ?? ''}`);
  }
  builderCheck(validateIBAN(input.accountIban).valid, `account ${input.accountIban} is not a valid IBAN`);

  const entries = input.entries.map((entry) => {
    for (const [what, value] of [
      ['EndToEndId', entry.endToEndId],
      ['account servicer reference', entry.accountServicerReference],
    ] as const) {
      const problem = textProblem(value, maxIdentifierLength);
      builderCheck(problem === undefined, `${what} ${JSON.stringify(value)} ${problem ?? ''}`);
    }
    const reason = entry.returnReason;
    builderCheck(
      reason === undefined || /^[A-Z0-9]{1,4}$/.test(reason.code),
      `return reason code ${reason?.code ?? ''} must be 1 to 4 letters or digits`,
    );
    const amount = { '@_Ccy': entry.currency, '#text': formatMinorAmount(entry.amountMinor, entry.currency) };
    const family =
      reason !== undefined ? ['ICDT', 'RRTN'] : entry.creditDebit === 'DBIT' ? ['ICDT', 'DMCT'] : ['RCDT', 'DMCT'];
    return {
      Amt: amount,
      CdtDbtInd: entry.creditDebit,
      Sts: { Cd: entry.status },
      ...(entry.bookingDate === undefined ? {} : { BookgDt: { Dt: entry.bookingDate } }),
      AcctSvcrRef: entry.accountServicerReference,
      BkTxCd: { Domn: { Cd: 'PMNT', Fmly: { Cd: family[0], SubFmlyCd: family[1] } } },
      NtryDtls: {
        TxDtls: {
          Refs: { AcctSvcrRef: entry.accountServicerReference, EndToEndId: entry.endToEndId },
          Amt: amount,
          CdtDbtInd: entry.creditDebit,
          ...(entry.remittanceInformation === undefined || entry.remittanceInformation.length === 0
            ? {}
            : { RmtInf: { Ustrd: entry.remittanceInformation } }),
          ...(reason === undefined
            ? {}
            : {
                RtrInf: {
                  Rsn: { Cd: reason.code },
                  ...(reason.additionalInformation === undefined ? {} : { AddtlInf: reason.additionalInformation }),
                },
              }),
        },
      },
    };
  });

  return buildXml({
    Document: {
      '@_xmlns': camt054Namespace,
      BkToCstmrDbtCdtNtfctn: {
        GrpHdr: { MsgId: input.messageId, CreDtTm: input.createdAt },
        Ntfctn: {
          Id: input.notificationId,
          CreDtTm: input.createdAt,
          Acct: { Id: { IBAN: input.accountIban } },
          ...(entries.length === 0 ? {} : { Ntry: entries }),
        },
      },
    },
  });
}

/** How a test bank treats the transactions of a `pain.001` it answers. */
export interface Pain001Answer {
  readonly messageId: string;
  readonly createdAt: string;
  /** `YYYY-MM-DD`, the booking date of every entry. */
  readonly bookingDate: string;
  /** Return reasons by EndToEndId: those transactions are booked and then returned. */
  readonly returns?: Readonly<Record<string, { readonly code: string; readonly additionalInformation?: string }>>;
}

/**
 * The `camt.054` a bank would send for a `pain.001` file: every transaction booked as a
 * debit of the debtor account, and each one listed in {@link Pain001Answer.returns}
 * credited back as a return. For test banks and sandboxes.
 *
 * @throws {@link Camt054Error} as {@link buildCamt054}; {@link Pain001Error} when the
 * pain.001 cannot be read.
 */
export function answerPain001(painXml: string, answer: Pain001Answer): string {
  const pain = readPain001(painXml);
  if (pain.debtorIban === undefined)
    throw new Camt054Error('MALFORMED_FILE', `pain.001 ${pain.messageId} names no debtor IBAN`);
  const entries: Camt054EntryInput[] = [];
  pain.transactions.forEach((transaction, index) => {
    const reference = `${answer.messageId.slice(0, 28)}-${String(index + 1).padStart(4, '0')}`;
    const common = {
      endToEndId: transaction.endToEndId,
      amountMinor: transaction.amountMinor,
      currency: transaction.currency,
      status: 'BOOK',
      bookingDate: answer.bookingDate,
      remittanceInformation: transaction.remittanceInformation,
    } as const;
    entries.push({ ...common, creditDebit: 'DBIT', accountServicerReference: `${reference}D` });
    const returnReason = answer.returns?.[transaction.endToEndId];
    if (returnReason !== undefined)
      entries.push({ ...common, creditDebit: 'CRDT', accountServicerReference: `${reference}R`, returnReason });
  });
  return buildCamt054({
    messageId: answer.messageId,
    createdAt: answer.createdAt,
    notificationId: answer.messageId,
    accountIban: pain.debtorIban,
    entries,
  });
}
