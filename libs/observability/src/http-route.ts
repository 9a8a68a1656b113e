import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/**
 * Tells the HTTP instrumentation which route template (`/api/v1/decisions/:id`) the request being
 * handled matched; call it while routing the request. When the response ends, the instrumentation
 * names the server span `<METHOD> <route>` and sets `http.route`, as the OpenTelemetry HTTP
 * conventions ask (and as its Fastify and Express instrumentations do). A request that matched no
 * route keeps the bare method as its name: the path itself would be unbounded. Does nothing while
 * tracing is off.
 */
export function recordHttpRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}
