import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched: the path itself would be unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every HTTP answer by method, route template (`/api/v1/strategies/:engineId/:strategyId`,
 * never the path with its ids) and status, and observes how long it took. A live stream (SSE) is
 * observed when it ends.
 */
export function instrumentHttp(fastify: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'bifrost_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'bifrost_http_request_duration_seconds',
    help: 'From receiving an HTTP request to the end of its answer, by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}
