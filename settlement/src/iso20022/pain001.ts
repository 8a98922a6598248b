import type { BankAccount, PaymentOrder } from '../provider.js';
import { describeAccountProblems, validatePayoutAccount } from './accounts.js';
import { controlSum, formatMinorAmount, parseMinorAmount } from './amount.js';
import { Iso20022Error, Pain001Error } from './errors.js';
import { endToEndIdFor, maxIdentifierLength, shortIdentifier } from './identifiers.js';
import { sepaText, textProblem } from './text.js';
import { attribute, buildXml, children, parseXml, text, textAt, type XmlElement } from './xml.js';

/** Namespace of the message version this module writes and reads. */
export const pain001Namespace = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';

/** ISO 20022 `Ustrd` lines are `Max140Text`. */
const maxRemittanceLength = 140;
/** A party's `Nm` is `Max140Text`; SEPA keeps the same limit (EPC guidelines). */
const maxNameLength = 140;

/** The account payouts are paid from: the platform's escrow account. */
export interface Pain001Debtor {
  readonly name: string;
  readonly iban: string;
  readonly bic: string;
}

/** What a file needs besides its orders. Taken as given so that output is reproducible. */
export interface Pain001Options {
  /** `MsgId`: unique per file for the bank, at most 35 characters. */
  readonly messageId: string;
  /** `CreDtTm`: an ISO 8601 date-time, e.g. `2026-03-01T09:30:00Z`. */
  readonly createdAt: string;
  readonly debtor: Pain001Debtor;
  /** `ReqdExctnDt` (`YYYY-MM-DD`); the date of {@link createdAt} when left out. */
  readonly requestedExecutionDate?: string;
}

/** One credit transfer as written in a file. */
export interface Pain001Transaction {
  readonly instructionId: string;
  /** What the bank echoes in its notifications; see {@link endToEndIdFor}. */
  readonly endToEndId: string;
  readonly paymentInformationId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** A built `pain.001` file. */
export interface Pain001File {
  readonly messageId: string;
  readonly xml: string;
  readonly transactions: readonly Pain001Transaction[];
  /** `CtrlSum` of the group header: all amounts added up as decimals, whatever their currency. */
  readonly controlSum: string;
}

/** A payout order whose counterparty is known to be a bank account. */
export type BankPayoutOrder = PaymentOrder & { readonly counterparty: BankAccount };

const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

function refuse(order: PaymentOrder, message: string, cause?: unknown): never {
  throw new Pain001Error('INVALID_PAYMENT', `instruction ${order.instructionId}: ${message}`, {
    instructionId: order.instructionId,
    cause,
  });
}

/**
 * Checks that an order can be paid by an ISO 20022 credit transfer: a payout, to a
 * valid IBAN and BIC, of a positive amount in an active currency that fits the
 * message, with a remittance text the message can carry.
 *
 * @throws {@link Pain001Error} `INVALID_PAYMENT` naming the instruction and the first reason.
 */
export function checkPayoutOrder(order: PaymentOrder): asserts order is BankPayoutOrder {
  if (order.direction !== 'payout') {
    refuse(order, 'a collection cannot be paid by a credit transfer (pain.001 only pays out)');
  }
  if (order.counterparty.kind !== 'iban') {
    refuse(order, 'the counterparty is a provider account, not a bank account with an IBAN');
  }
  const problems = validatePayoutAccount(order.counterparty);
  if (problems.length > 0) refuse(order, `counterparty account: ${describeAccountProblems(problems)}`);
  if (order.amountMinor <= 0n) refuse(order, `amount must be positive, not ${order.amountMinor}`);
  try {
    formatMinorAmount(order.amountMinor, order.currency);
  } catch (error) {
    if (!(error instanceof Iso20022Error)) throw error;
    refuse(order, error.detail, error);
  }
  if (order.remittanceInformation !== '') {
    const problem = textProblem(order.remittanceInformation, maxRemittanceLength);
    if (problem !== undefined) refuse(order, `remittance information ${problem}`);
  }
}

function checkOptions(options: Pain001Options): void {
  const invalid = (message: string): never => {
    throw new Pain001Error('INVALID_PAYMENT', message);
  };
  const idProblem = textProblem(options.messageId, maxIdentifierLength);
  if (idProblem !== undefined) invalid(`message id ${idProblem}`);
  if (!dateTimePattern.test(options.createdAt))
    invalid(`creation time ${options.createdAt} is not an ISO 8601 date-time`);
  if (options.requestedExecutionDate !== undefined && !datePattern.test(options.requestedExecutionDate)) {
    invalid(`requested execution date ${options.requestedExecutionDate} is not a YYYY-MM-DD date`);
  }
  const problems = validatePayoutAccount({ kind: 'iban', holderName: options.debtor.name, ...options.debtor });
  if (problems.length > 0) invalid(`debtor account: ${describeAccountProblems(problems)}`);
}

/** Unstructured remittance lines: the order's text, then the full instruction id when the EndToEndId had to be shortened. */
function remittanceLines(order: PaymentOrder, endToEndId: string): string[] {
  const lines = order.remittanceInformation === '' ? [] : [order.remittanceInformation];
  if (endToEndId !== order.instructionId) {
    const characters = Array.from(order.instructionId);
    for (let start = 0; start < characters.length; start += maxRemittanceLength) {
      lines.push(characters.slice(start, start + maxRemittanceLength).join(''));
    }
  }
  return lines;
}

/**
 * Builds one ISO 20022 `pain.001.001.09` CustomerCreditTransferInitiation paying each
 * order out of the debtor (escrow) account.
 *
 * One payment information block (`PmtInf`) is written per currency, in code order, so
 * that a bank can book each block against one account currency. EUR blocks ask for the
 * SEPA service level with charges shared per scheme (`SLEV`); other currencies ask for
 * shared charges (`SHAR`). Each transaction's `EndToEndId` (also its `InstrId`) is the
 * instruction id, or a deterministic 35-character short form of it (see
 * {@link endToEndIdFor}) with the full id added as extra `Ustrd` lines. Amounts are
 * written with the currency's ISO 4217 exponent (JPY `5000`, EUR `12.50`, BHD `1.250`).
 *
 * @throws {@link Pain001Error} `INVALID_PAYMENT` for an empty batch, bad options, an order
 * {@link checkPayoutOrder} refuses, an instruction id given twice, or control sums too
 * large for the message.
 */
export function buildPain001(orders: readonly PaymentOrder[], options: Pain001Options): Pain001File {
  checkOptions(options);
  if (orders.length === 0) throw new Pain001Error('INVALID_PAYMENT', 'a pain.001 file needs at least one order');

  const byCurrency = new Map<string, { order: BankPayoutOrder; endToEndId: string }[]>();
  const endToEndIds = new Map<string, string>();
  for (const order of orders) {
    checkPayoutOrder(order);
    const endToEndId = endToEndIdFor(order.instructionId);
    const previous = endToEndIds.get(endToEndId);
    if (previous !== undefined) {
      refuse(
        order,
        previous === order.instructionId ? 'given twice in one file' : `has the same EndToEndId as ${previous}`,
      );
    }
    endToEndIds.set(endToEndId, order.instructionId);
    const group = byCurrency.get(order.currency) ?? [];
    group.push({ order, endToEndId });
    byCurrency.set(order.currency, group);
  }

  const { debtor } = options;
  const transactions: Pain001Transaction[] = [];
  const blocks = [...byCurrency.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, group]) => {
      const paymentInformationId = shortIdentifier(`${options.messageId}/${currency}`);
      for (const { order, endToEndId } of group) {
        transactions.push({
          instructionId: order.instructionId,
          endToEndId,
          paymentInformationId,
          amountMinor: order.amountMinor,
          currency,
        });
      }
      const sepa = currency === 'EUR';
      return {
        PmtInfId: paymentInformationId,
        PmtMtd: 'TRF',
        // One booking per payout, so that each comes back in camt.054 under its own EndToEndId.
        BtchBookg: 'false',
        NbOfTxs: String(group.length),
        CtrlSum: sum(group.map(({ order }) => order)),
        ...(sepa ? { PmtTpInf: { SvcLvl: { Cd: 'SEPA' } } } : {}),
        ReqdExctnDt: { Dt: options.requestedExecutionDate ?? options.createdAt.slice(0, 10) },
        Dbtr: { Nm: debtor.name },
        DbtrAcct: { Id: { IBAN: debtor.iban } },
        DbtrAgt: { FinInstnId: { BICFI: debtor.bic } },
        ChrgBr: sepa ? 'SLEV' : 'SHAR',
        CdtTrfTxInf: group.map(({ order, endToEndId }) => {
          const lines = remittanceLines(order, endToEndId);
          return {
            PmtId: { InstrId: endToEndId, EndToEndId: endToEndId },
            Amt: { InstdAmt: { '@_Ccy': currency, '#text': formatMinorAmount(order.amountMinor, currency) } },
            CdtrAgt: { FinInstnId: { BICFI: order.counterparty.bic } },
            // The holder's name as registered may hold any character; a SEPA file may not.
            Cdtr: { Nm: sepa ? sepaText(order.counterparty.holderName, maxNameLength) : order.counterparty.holderName },
            CdtrAcct: { Id: { IBAN: order.counterparty.iban } },
            ...(lines.length > 0 ? { RmtInf: { Ustrd: lines } } : {}),
          };
        }),
      };
    });

  const total = sum(orders);
  const xml = buildXml({
    Document: {
      '@_xmlns': pain001Namespace,
      CstmrCdtTrfInitn: {
        GrpHdr: {
          MsgId: options.messageId,
          CreDtTm: options.createdAt,
          NbOfTxs: String(orders.length),
          CtrlSum: total,
          InitgPty: { Nm: debtor.name },
        },
        PmtInf: blocks,
      },
    },
  });
  return { messageId: options.messageId, xml, transactions, controlSum: total };
}

function sum(orders: readonly PaymentOrder[]): string {
  try {
    return controlSum(orders);
  } catch (error) {
    if (!(error instanceof Iso20022Error)) throw error;
    throw new Pain001Error('INVALID_PAYMENT', `control sum: ${error.detail}`, { cause: error });
  }
}

/** A credit transfer as read back from a `pain.001` file. */
export interface Pain001ReadTransaction {
  readonly endToEndId: string;
  readonly paymentInformationId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly creditorName: string | undefined;
  readonly creditorIban: string | undefined;
  readonly remittanceInformation: readonly string[];
}

/** The parts of a `pain.001` file that a bank (or a test bank) needs to answer it. */
export interface Pain001Read {
  readonly messageId: string;
  readonly createdAt: string;
  readonly debtorIban: string | undefined;
  readonly transactions: readonly Pain001ReadTransaction[];
}

/**
 * Reads a `pain.001` file (version .001.09 or an earlier one of the same shape):
 * message id, debtor account and every credit transfer with its amount in minor units.
 * Used to recover after a crash and by test banks answering files.
 *
 * @param fileName named in errors.
 * @throws {@link Pain001Error} `MALFORMED_FILE` for XML that is not well-formed or not a
 * pain.001 document, `INVALID_AMOUNT` / `UNKNOWN_CURRENCY` naming the transaction.
 */
export function readPain001(xml: string, fileName?: string): Pain001Read {
  const malformed = (message: string, cause?: unknown): never => {
    throw new Pain001Error('MALFORMED_FILE', `${fileName ?? 'pain.001 file'}: ${message}`, { fileName, cause });
  };
  let document: ReturnType<typeof parseXml>;
  try {
    document = parseXml(xml);
  } catch (error) {
    return malformed(error instanceof Error ? error.message : String(error), error);
  }
  const initiation = children(document.root, 'CstmrCdtTrfInitn')[0];
  if (
    document.name !== 'Document' ||
    !/^urn:iso:std:iso:20022:tech:xsd:pain\.001\.001\.\d\d$/.test(document.namespace ?? '') ||
    initiation === undefined
  ) {
    return malformed(`not a pain.001 CustomerCreditTransferInitiation (namespace ${document.namespace ?? 'none'})`);
  }
  const messageId = textAt(initiation, 'GrpHdr', 'MsgId') ?? malformed('the group header has no MsgId');
  const createdAt = textAt(initiation, 'GrpHdr', 'CreDtTm') ?? malformed('the group header has no CreDtTm');
  const transactions: Pain001ReadTransaction[] = [];
  let debtorIban: string | undefined;
  for (const block of children(initiation, 'PmtInf')) {
    const paymentInformationId = textAt(block, 'PmtInfId') ?? malformed('a payment information block has no PmtInfId');
    debtorIban ??= textAt(block, 'DbtrAcct', 'Id', 'IBAN');
    for (const transaction of children(block, 'CdtTrfTxInf')) {
      transactions.push(readTransaction(transaction, paymentInformationId, malformed, fileName));
    }
  }
  return { messageId, createdAt, debtorIban, transactions };
}

function readTransaction(
  transaction: XmlElement,
  paymentInformationId: string,
  malformed: (message: string) => never,
  fileName: string | undefined,
): Pain001ReadTransaction {
  const endToEndId = textAt(transaction, 'PmtId', 'EndToEndId') ?? malformed('a transaction has no EndToEndId');
  const amount = children(transaction, 'Amt')[0];
  const instructed = children(amount, 'InstdAmt')[0];
  const currency = attribute(instructed, 'Ccy');
  const value = textAt(amount, 'InstdAmt');
  if (currency === undefined || value === undefined)
    return malformed(`transaction ${endToEndId} has no instructed amount`);
  let amountMinor: bigint;
  try {
    amountMinor = parseMinorAmount(value, currency);
  } catch (error) {
    if (!(error instanceof Iso20022Error)) throw error;
    throw new Pain001Error(error.code, `${fileName ?? 'pain.001 file'}: transaction ${endToEndId}: ${error.detail}`, {
      fileName,
      cause: error,
    });
  }
  return {
    endToEndId,
    paymentInformationId,
    amountMinor,
    currency,
    creditorName: textAt(transaction, 'Cdtr', 'Nm'),
    creditorIban: textAt(transaction, 'CdtrAcct', 'Id', 'IBAN'),
    remittanceInformation: children(children(transaction, 'RmtInf')[0], 'Ustrd').flatMap((line) => text(line) ?? []),
  };
}
