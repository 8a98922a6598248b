/** The signals that ask a foreground command to stop what it started. */
const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Resolves on the first stop signal and keeps every later one from ending the process.
 *
 * Ctrl-C under `npm start` delivers SIGINT twice: the terminal sends it to the whole
 * foreground process group, and npm forwards its own copy to the child. With a one-shot
 * listener the second copy meets Node's default action and kills the command halfway
 * through stopping the processes it started, which then run on without an owner.
 * The listeners stay for the life of the process, so no later signal falls through.
 * They do not hold Node's event loop open: a command that fails before any signal still
 * ends, and one that waits for a signal holds its loop by its own work (servers, timers).
 *
 * @param onRepeat told of each signal after the first (e.g. to say it is still stopping).
 */
export function untilStopSignal(onRepeat: (signal: NodeJS.Signals) => void = () => undefined): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const listener = (signal: NodeJS.Signals): void => {
      if (received) {
        onRepeat(signal);
        return;
      }
      received = true;
      resolve(signal);
    };
    for (const signal of stopSignals) process.on(signal, listener);
  });
}
