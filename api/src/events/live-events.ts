import type { EventTopic } from './agreement-event-feed.js';

/** The last item of a stream whose caller may no longer follow it, and why. */
export interface CallerLapsed {
  readonly lapsed: string;
  /** The caller's credential stands, but the record followed is no longer theirs to read (a grant revoked or lapsed). */
  readonly recordLost?: true;
}

/** Why a caller may no longer follow a stream: its credential (a sentence), or the record it follows. */
export type Lapse = string | { readonly recordLost: string };

/**
 * Live events from the feed that pass `accept` (which may ask the ledger, answering a
 * promise), until the consumer stops. The feed is
 * joined at once rather than on the first pull, so that once the subscription is
 * acknowledged no committed event is missed; stopping leaves the feed at once too,
 * even while no event is arriving.
 *
 * With `standing`, the caller is re-checked before every event it would receive and
 * every `feed.recheckIntervalMs` while none arrives; once it answers a reason (the token
 * expired, the key was revoked, the account was disabled, or the record followed is no
 * longer readable) the stream yields a {@link CallerLapsed} instead of any further event
 * and ends.
 */
export function liveEvents<Message>(
  feed: EventTopic<Message>,
  accept: (message: Message) => boolean | Promise<boolean>,
  standing?: () => Promise<Lapse | undefined>,
): AsyncIterableIterator<Message | CallerLapsed> {
  const controller = new AbortController();
  const source = feed.subscribe(controller.signal);
  // The generator runs to its first await, attaching its listener, inside this call.
  let first: Promise<IteratorResult<Message>> | undefined = source.next();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let ended = false;
  let lapse: (reason: Lapse) => void = () => undefined;
  const lapsed = new Promise<{ reason: Lapse }>((resolve) => {
    lapse = (reason) => {
      resolve({ reason });
    };
  });
  // A failed re-check ends the stream too: it cannot vouch for the caller any more.
  const recheck = async (): Promise<Lapse | undefined> =>
    standing === undefined ? undefined : standing().catch(() => 'the credential could not be re-checked');
  const timer =
    standing === undefined
      ? undefined
      : setInterval(() => {
          void recheck().then((reason) => {
            if (reason !== undefined) lapse(reason);
          });
        }, feed.recheckIntervalMs);
  timer?.unref();
  const stop = (): void => {
    ended = true;
    clearInterval(timer);
    controller.abort();
  };
  const end = (reason: Lapse): IteratorYieldResult<CallerLapsed> => {
    stop();
    return {
      done: false,
      value: typeof reason === 'string' ? { lapsed: reason } : { lapsed: reason.recordLost, recordLost: true },
    };
  };
  return {
    async next() {
      if (ended) return done;
      for (;;) {
        const pending = first ?? source.next();
        first = undefined;
        const winner = await Promise.race([pending.then((step) => ({ step })), lapsed]);
        if ('reason' in winner) return end(winner.reason);
        const { step } = winner;
        if (step.done === true) {
          stop();
          return done;
        }
        const accepted = accept(step.value);
        if (accepted === false) continue;
        // A caller whose credential lapsed is told so even about an event it would not have been shown.
        const reason = await recheck();
        if (reason !== undefined) return end(reason);
        if (accepted !== true && !(await accepted)) continue;
        return step;
      }
    },
    return() {
      stop();
      return Promise.resolve(done);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
