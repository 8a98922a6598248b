/**
 * Stable codes of the ISO 20022 file layer. Callers branch on the code, never on the
 * sentence that follows it.
 */
export type Iso20022ErrorCode =
  /** An order or option cannot be expressed in a valid message (bad account, amount, text). */
  | 'INVALID_PAYMENT'
  /** A file's XML could not be read, or does not have the structure of its message. */
  | 'MALFORMED_FILE'
  /** An amount has more decimals than its currency allows, or is not a decimal at all. */
  | 'INVALID_AMOUNT'
  /** A currency is not an active ISO 4217 code. */
  | 'UNKNOWN_CURRENCY';

/** Base of every error of the ISO 20022 file layer: a code, a sentence and what it concerns. */
export class Iso20022Error extends Error {
  readonly code: Iso20022ErrorCode;
  /** The ledger instruction concerned, when there is one. */
  readonly instructionId: string | undefined;
  /** The file concerned (its base name), when there is one. */
  readonly fileName: string | undefined;
  /** The sentence without the code, for wrapping into a message with more context. */
  readonly detail: string;

  constructor(
    code: Iso20022ErrorCode,
    message: string,
    options: { instructionId?: string | undefined; fileName?: string | undefined; cause?: unknown } = {},
  ) {
    super(`${code}: ${message}`, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = message;
    this.instructionId = options.instructionId;
    this.fileName = options.fileName;
  }
}

/** A `pain.001` file could not be built from the orders given (or read back). */
export class Pain001Error extends Iso20022Error {}

/** A `camt.054` notification could not be built or read. */
export class Camt054Error extends Iso20022Error {}
