/**
 * Why a transaction was sent for ordering again (always the same signed transaction,
 * with the same id):
 *
 * - `unreachable`: no orderer took it (the gateway peer's Submit answered UNAVAILABLE),
 *   so nothing was ordered and the copy cannot land twice;
 * - `overdue`: its commit status has not come within the poll interval; a copy of a
 *   transaction that was not lost lands as DUPLICATE_TXID.
 */
export type ResubmitReason = 'unreachable' | 'overdue';
