/** Injection token of the service's prom-client `Registry` (see {@link ObservabilityModule}). */
export const METRICS_REGISTRY = 'bifrost:METRICS_REGISTRY';
