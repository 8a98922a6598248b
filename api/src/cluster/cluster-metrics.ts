import { AggregatorRegistry, type Registry } from 'prom-client';
import type { PrimaryLink } from './primary-link.js';
import type { WorkerSupervisor } from './worker-supervisor.js';

/** The question the primary asks each worker, and the request a worker sends the primary, for `/metrics`. */
export const clusterMetricsRequest = 'metrics';

/** How long the primary waits for the workers' metrics before it answers without the late ones. */
export const workerMetricsTimeoutMs = 2_000;

/** In a worker: answers the primary's question for this worker's metrics (prom-client's JSON form). */
export function answerMetricsQuestions(link: PrimaryLink, registry: Registry): void {
  link.answer(clusterMetricsRequest, () => registry.getMetricsAsJSON());
}

/**
 * In the primary: the Prometheus text of the whole cluster, the primary's own metrics
 * (settlement outbox, event followers, its process) with every worker's (HTTP requests,
 * ledger calls, their processes), each metric summed over the processes or combined by
 * the aggregator prom-client gives it (its `AggregatorRegistry`, as for any node:cluster).
 * A worker that does not answer within {@link workerMetricsTimeoutMs} is left out.
 */
export async function clusterMetricsText(own: Registry, supervisor: WorkerSupervisor): Promise<string> {
  const [primary, workers] = await Promise.all([
    own.getMetricsAsJSON(),
    supervisor.askWorkers(clusterMetricsRequest, workerMetricsTimeoutMs),
  ]);
  return AggregatorRegistry.aggregate([primary, ...(workers as object[])]).metrics();
}
