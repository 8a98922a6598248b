export { PrimaryLink } from './primary-link.js';
export { PrimaryRateLimitStore } from './primary-rate-limit-store.js';
export { followPrimaryEvents, shareCredentialThrottle } from './worker-sharing.js';
export { superviseWorkers, type WorkerSupervisor, type WorkerSupervisorOptions } from './worker-supervisor.js';
export { answerMetricsQuestions, clusterMetricsRequest, clusterMetricsText } from './cluster-metrics.js';
