import * as grpc from '@grpc/grpc-js';
import pLimit from 'p-limit';

/**
 * How many unary calls to a peer's Gateway service (Evaluate, Endorse, Submit,
 * CommitStatus) one process keeps in flight by default. Fabric's peer refuses calls
 * beyond `peer.limits.concurrency.gatewayService` (500 by default) with
 * "too many requests for /gateway.Gateway, exceeding concurrency limit"; staying below
 * it turns a burst into a short queue here instead of failed commands.
 */
export const defaultGatewayCallsInFlight = 400;

const gatewayService = '/gateway.Gateway/';

/**
 * A gRPC client interceptor that holds unary calls to the peer's Gateway service until
 * fewer than `maxInFlight` of them are in flight on this connection. A call counts from
 * its start until its status arrives. Streams (chaincode events) and other services
 * (block delivery) pass untouched.
 *
 * A call's deadline is a budget for the peer's work: it runs from the moment the call
 * is sent, not while it waits here, so a burst does not fail calls that never reached
 * the peer. A call waits here for at most that budget too, then ends with
 * DEADLINE_EXCEEDED unsent; a call its caller cancels while waiting ends with CANCELLED.
 *
 * @param onQueued told how many calls wait whenever one has to wait (for metrics and tests).
 * @throws RangeError when `maxInFlight` is not a positive whole number.
 */
export function gatewayCallLimit(maxInFlight: number, onQueued?: (waiting: number) => void): grpc.Interceptor {
  if (!Number.isInteger(maxInFlight) || maxInFlight <= 0) {
    throw new RangeError(`maxInFlight must be a positive whole number, got ${maxInFlight}`);
  }
  const limit = pLimit(maxInFlight);
  return (options, nextCall) => {
    const { path, requestStream, responseStream } = options.method_definition;
    if (!path.startsWith(gatewayService) || requestStream || responseStream) {
      return new grpc.InterceptingCall(nextCall(options));
    }
    const budgetMs = budgetOf(options.deadline);
    // gRPC would start the deadline's clock now; the clock is started here when the call is sent.
    const call = nextCall({ ...options, deadline: Infinity });
    let state: 'waiting' | 'sent' | 'ended' = 'waiting';
    let endWaiting: (code: grpc.status, details: string) => void = () => undefined;
    return new grpc.InterceptingCall(call, {
      start(metadata, listener, next) {
        const queueTimer =
          budgetMs === undefined
            ? undefined
            : setTimeout(() => {
                endWaiting(grpc.status.DEADLINE_EXCEEDED, `waited ${budgetMs} ms for a free slot to call ${path}`);
              }, budgetMs);
        endWaiting = (code, details) => {
          if (state !== 'waiting') return;
          state = 'ended';
          clearTimeout(queueTimer);
          listener.onReceiveStatus({ code, details, metadata: new grpc.Metadata() });
        };
        if (limit.activeCount >= maxInFlight) onQueued?.(limit.pendingCount + 1);
        void limit(() => {
          if (state !== 'waiting') return Promise.resolve();
          state = 'sent';
          clearTimeout(queueTimer);
          const deadlineTimer =
            budgetMs === undefined
              ? undefined
              : setTimeout(() => {
                  call.cancelWithStatus(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
                }, budgetMs);
          return new Promise<void>((finished) => {
            next(metadata, {
              onReceiveStatus: (status, pass) => {
                clearTimeout(deadlineTimer);
                finished();
                pass(status);
              },
            });
          });
        });
      },
      cancel(next) {
        endWaiting(grpc.status.CANCELLED, `cancelled while waiting to call ${path}`);
        next();
      },
    });
  };
}

/** Milliseconds from now to the deadline; undefined for none. */
function budgetOf(deadline: grpc.Deadline | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
