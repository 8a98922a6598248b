/**
 * Thrown by a probe when waiting longer cannot help (the process waited for has exited):
 * {@link waitUntil} gives up at once with it instead of polling to its deadline, so a
 * supervisor's restart of a node that dies while starting fails in a second, not a minute.
 */
export class StopWaiting extends Error {}

/**
 * Polls until `probe` returns a value other than undefined; a probe's error counts as
 * "not yet", except {@link StopWaiting}.
 *
 * @throws StopWaiting as the probe threw it.
 * @throws Error naming what was awaited, with the last failure, after `timeoutMs`.
 */
export async function waitUntil<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${description}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
