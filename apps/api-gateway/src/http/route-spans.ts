import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { recordHttpRoute } from '@bifrost/observability';

/**
 * Names each HTTP server span after its route template (`GET /api/v1/decisions/:id`, with
 * `http.route`) rather than the bare method: the HTTP instrumentation sees only the path, Fastify
 * knows the route. `onRequest` runs right after routing, still in the server span's context, so
 * requests refused by the guard are named too.
 */
@Injectable()
export class RouteSpans implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url;
      if (route !== undefined) recordHttpRoute(route);
      done();
    });
  }
}
