import type { ProbeConfig } from '@bifrost/contracts';

/** Failures in a row before a probe is DOWN, unless a probe says otherwise (the "3 consecutive failures"). */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** Passes in a row before a DOWN probe counts as recovered (flapping suppression). */
export const DEFAULT_RECOVERY_THRESHOLD = 3;
export const DEFAULT_PROBE_INTERVAL_MS = 10_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

export interface DefaultProbeTargets {
  /** A request-reply subject answered through the NATS server (the canary's own ping). */
  readonly natsSubject: string;
  /** `$DATABASE_URL` when the canary has a database configured; no Postgres probe otherwise. */
  readonly postgres?: string;
  /** Every Bifrost service whose `/health/ready` is probed: name → base URL. */
  readonly services: Readonly<Record<string, string>>;
}

/**
 * The probes defined on first start. All of them only alert: a service that is not running (every
 * one of them in a test, most of them in a partial dev stack) must not kill trading, and the
 * canary cannot tell "down" from "not deployed here". Operators escalate a probe to pause_engine
 * or kill_switch with an upsert once the deployment is known (docs/canary.md).
 */
export function defaultProbes(targets: DefaultProbeTargets): ProbeConfig[] {
  const base = {
    intervalMs: DEFAULT_PROBE_INTERVAL_MS,
    timeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
    failureThreshold: DEFAULT_FAILURE_THRESHOLD,
    recoveryThreshold: DEFAULT_RECOVERY_THRESHOLD,
    action: 'alert_only' as const,
  };
  const probes: ProbeConfig[] = [{ ...base, name: 'nats', kind: 'nats', target: targets.natsSubject }];
  if (targets.postgres)
    probes.push({ ...base, name: 'postgres', kind: 'postgres', target: targets.postgres });
  for (const [service, url] of Object.entries(targets.services).sort(([a], [b]) => a.localeCompare(b))) {
    probes.push({
      ...base,
      name: `${service}-ready`,
      kind: 'http',
      target: `${url.replace(/\/+$/, '')}/health/ready`,
    });
  }
  return probes;
}
