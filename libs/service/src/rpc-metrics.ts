import type { RpcObserver } from '@bifrost/messaging';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Counts every `bifrost.rpc.*` request a service answers, by route subject as registered (the
 * canonical `bifrost.rpc.<service>.<op>`, never the namespaced one) and outcome (`ok` or the code of
 * the error reply: `PAYLOAD.MALFORMED`, `RPC.VALIDATION_FAILED`, `RPC.PAYLOAD_TOO_LARGE`, a domain
 * code, `INTERNAL.ERROR`), and observes how long it took from receipt to reply. Requests refused
 * before the handler runs are counted like any other. The `ok` series of each route exists from the
 * start, so rate() and increase() see the first request.
 */
export function instrumentRpc(registry: Registry): RpcObserver {
  const requests = new Counter({
    name: 'bifrost_rpc_requests_total',
    help: 'NATS request-reply requests answered, by route subject and outcome (ok or the error code)',
    labelNames: ['subject', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'bifrost_rpc_request_duration_seconds',
    help: 'From receiving a NATS request to sending its reply, by route subject',
    labelNames: ['subject'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const preset = new Set<string>();
  // Label children looked up once per series, not on every request (the gate answers thousands a second).
  const counters = new Map<string, Counter.Internal>();
  const timers = new Map<string, Histogram.Internal<'subject'>>();
  return {
    serving: (subject) => {
      // Once: a route served again (a new leader's, say) keeps its counts; `zero()` would reset them.
      if (preset.has(subject)) return;
      preset.add(subject);
      requests.inc({ subject, outcome: 'ok' }, 0);
      duration.zero({ subject });
    },
    answered: (subject, outcome, seconds) => {
      const key = `${subject} ${outcome}`;
      let counter = counters.get(key);
      if (!counter) counters.set(key, (counter = requests.labels(subject, outcome)));
      counter.inc();
      let timer = timers.get(subject);
      if (!timer) timers.set(subject, (timer = duration.labels(subject)));
      timer.observe(seconds);
    },
  };
}
