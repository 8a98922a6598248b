/**
 * Makes the chaincode server end normally when it is asked to stop (SIGTERM from the
 * network's process registry, `docker stop` or Kubernetes; SIGINT from a terminal).
 *
 * Node's default for these signals ends the process without running its exit path, so
 * `node --cpu-prof` never writes the profile, and as PID 1 in a container Node ignores
 * SIGTERM altogether until the runtime kills it. fabric-shim's CLI keeps its gRPC server
 * to itself, so the server cannot be closed here; exiting closes its listening socket and
 * the peers' streams, and a peer re-dials the next server on its next invocation.
 */
export function exitOnStopSignals(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      process.exit(0);
    });
  }
}
