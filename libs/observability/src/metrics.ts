import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A Prometheus registry for one service: every series carries `service`, and the default process
 * metrics are collected with the `bifrost_` prefix. Services add their own `bifrost_*` Counters and
 * Histograms with `registers: [registry]`.
 */
export function createMetricsRegistry(service: string): Registry {
  const register = new Registry();
  register.setDefaultLabels({ service });
  collectDefaultMetrics({ register, prefix: 'bifrost_' });
  return register;
}
