import * as grpc from '@grpc/grpc-js';
import { Semaphore } from 'async-mutex';

/**
 * How many unary calls to a peer's Gateway service (Evaluate, Endorse, Submit,
 * CommitStatus) one process keeps in flight by default. Fabric's peer refuses calls
 * beyond `peer.limits.concurrency.gatewayService` (500 by default) with
 * "too many requests for /gateway.Gateway, exceeding concurrency limit"; staying below
 * it turns a burst into a short queue here instead of failed commands.
 */
export const defaultGatewayCallsInFlight = 400;

const gatewayService = '/gateway.Gateway/';

/** What a call that waited its whole deadline for a slot says in its status details. */
function unsentForSlot(waitedMs: number, path: string): string {
  return `waited ${waitedMs} ms for a free slot to call ${path}`;
}
const unsentForSlotDetails = /waited \d+ ms for a free slot to call \/gateway\.Gateway\//;

/**
 * Whether a failed Gateway call never left this process: it waited its deadline for a
 * slot (a gRPC status, or fabric-gateway's error wrapping one as its cause).
 */
export function waitedUnsentForSlot(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 3; depth += 1) {
    const details = (current as { details?: unknown }).details;
    if (typeof details === 'string' && unsentForSlotDetails.test(details)) return true;
    if (unsentForSlotDetails.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * The call option that tells {@link gatewayCallLimit} how many slots a call takes: a
 * whole number from 1 (the default) up to the limit. Extra call options reach a gRPC
 * client's interceptors unchanged, which is how a caller of fabric-gateway's
 * `Proposal.evaluate(options)` passes it.
 */
export const gatewayCallWeight = 'gatewayCallWeight';

/** Call options carrying a call's {@link gatewayCallWeight}. */
export function weightedCallOptions(weight: number): grpc.CallOptions {
  return { [gatewayCallWeight]: weight } as grpc.CallOptions;
}

/**
 * A gRPC client interceptor that holds unary calls to the peer's Gateway service until
 * they fit within `maxInFlight` slots on this connection, first come first sent. A call
 * takes one slot, or the slots its {@link gatewayCallWeight} option names (a page of 500
 * records costs the peer about five pages of 100: weighing it so keeps the work at the
 * peer, not just the count of calls, within what it finishes inside a deadline). A call
 * holds its slots from its start until its status arrives. Streams (chaincode events)
 * and other services (block delivery) pass untouched.
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
  const slots = new Semaphore(maxInFlight);
  let waitingCalls = 0;
  return (options, nextCall) => {
    const { path, requestStream, responseStream } = options.method_definition;
    if (!path.startsWith(gatewayService) || requestStream || responseStream) {
      return new grpc.InterceptingCall(nextCall(options));
    }
    const weight = weightOf(options, maxInFlight);
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
                endWaiting(grpc.status.DEADLINE_EXCEEDED, unsentForSlot(budgetMs, path));
              }, budgetMs);
        endWaiting = (code, details) => {
          if (state !== 'waiting') return;
          state = 'ended';
          clearTimeout(queueTimer);
          listener.onReceiveStatus({ code, details, metadata: new grpc.Metadata() });
        };
        // The semaphore hands out slots first come first served, so a call waits whenever
        // another one already does, even if its own weight would fit.
        const mustWait = waitingCalls > 0 || slots.getValue() < weight;
        if (mustWait) {
          waitingCalls += 1;
          onQueued?.(waitingCalls);
        }
        void slots.acquire(weight).then(([, release]) => {
          if (mustWait) waitingCalls -= 1;
          if (state !== 'waiting') {
            release();
            return;
          }
          state = 'sent';
          clearTimeout(queueTimer);
          const deadlineTimer =
            budgetMs === undefined
              ? undefined
              : setTimeout(() => {
                  call.cancelWithStatus(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
                }, budgetMs);
          next(metadata, {
            onReceiveStatus: (status, pass) => {
              clearTimeout(deadlineTimer);
              release();
              pass(status);
            },
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

/** The slots a call takes: its weight option as a whole number within 1..maxInFlight. */
function weightOf(options: grpc.CallOptions, maxInFlight: number): number {
  const weight = (options as Record<string, unknown>)[gatewayCallWeight];
  if (typeof weight !== 'number' || !Number.isFinite(weight)) return 1;
  return Math.min(maxInFlight, Math.max(1, Math.ceil(weight)));
}

/** Milliseconds from now to the deadline; undefined for none. */
function budgetOf(deadline: grpc.Deadline | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
