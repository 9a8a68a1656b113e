import type { Type as Class } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { Problem } from './problem';
import { API_TAG, ROUTE_SPEC, type RouteSpec } from './route';

type Json = Record<string, unknown>;

/** A route as found on a controller: its full OpenAPI path, tag and spec. */
export interface DeclaredRoute {
  readonly path: string;
  readonly tag: string;
  readonly spec: RouteSpec;
}

/** Every `@Route` of the given controllers, in declaration order. */
export function declaredRoutes(controllers: readonly Class[]): DeclaredRoute[] {
  return controllers.flatMap((controller) => {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const tag = String(Reflect.getMetadata(API_TAG, controller) ?? 'api');
    const proto = controller.prototype as Record<string, unknown>;
    return Object.getOwnPropertyNames(proto).flatMap((name) => {
      const spec =
        typeof proto[name] === 'function'
          ? (Reflect.getMetadata(ROUTE_SPEC, proto[name]) as RouteSpec | undefined)
          : undefined;
      if (!spec) return [];
      const path = `/${[prefix, spec.path].filter((p) => p !== '').join('/')}`
        .replace(/\/+/g, '/')
        .replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      return [{ path, tag, spec }];
    });
  });
}

// TypeBox keeps its own markers under symbol keys, which JSON drops; `$id`s would clash once inlined.
function schema(value: unknown): Json {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === '$id' ? undefined : v))) as Json;
}

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problemRef } },
});

function parameters(spec: RouteSpec): Json[] {
  const of = (where: 'path' | 'query' | 'header', object: RouteSpec['params']) =>
    Object.entries((object?.properties ?? {}) as Record<string, unknown>).map(([name, s]) => ({
      name,
      in: where,
      // A query parameter with a default (`limit`) may be left out, though the validated object has it.
      required:
        where === 'path' ||
        ((object?.required ?? []).includes(name) && (s as { default?: unknown }).default === undefined),
      schema: schema(s),
    }));
  return [...of('path', spec.params), ...of('query', spec.query), ...of('header', spec.headers)];
}

function operation(route: DeclaredRoute): Json {
  const { spec } = route;
  const status = String(spec.status ?? 200);
  const media = spec.produces ?? 'application/json';
  const responses: Json = {
    [status]: {
      description: spec.summary,
      content: {
        [media]: {
          schema: schema(spec.response),
          ...(spec.example?.response !== undefined ? { example: spec.example.response } : {}),
        },
      },
    },
  };
  if (spec.body || spec.params || spec.query)
    responses['400'] = problemResponse('The request does not match the schema');
  if (spec.access !== 'public') {
    responses['401'] = problemResponse('No valid credential');
    responses['403'] = problemResponse(
      `Needs the ${spec.access} role${spec.engineScoped ? ' (engines: their own engine id only)' : ''}`,
    );
  }
  for (const [status, description] of Object.entries(spec.refusals ?? {})) {
    responses[status] = problemResponse(description);
  }
  responses['429'] = {
    ...problemResponse('Rate limit exceeded'),
    headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
  };
  responses['default'] = problemResponse(
    'Any other problem, by its code (docs/api.md "Errors"): 404 unknown, 409 conflict with the current state, 422 refused by the owning service, 503 service unavailable (a decision route fails closed)',
  );
  return {
    operationId: `${spec.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/(^|[/-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase())}`,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [route.tag],
    'x-required-role': spec.access,
    security:
      spec.access === 'public'
        ? []
        : spec.access === 'engine'
          ? [{ apiKey: [] }]
          : [{ bearerAuth: [] }, { apiKey: [] }],
    ...(parameters(spec).length > 0 ? { parameters: parameters(spec) } : {}),
    ...(spec.body
      ? {
          requestBody: {
            // The gateway reads a missing body as `{}`: a body whose fields are all optional may be left out.
            required: (spec.body.required ?? []).length > 0,
            content: {
              'application/json': {
                schema: schema(spec.body),
                ...(spec.example?.body !== undefined ? { example: spec.example.body } : {}),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the given controllers' routes (3.1: TypeBox emits JSON Schema with `const`). */
export function buildOpenApi(controllers: readonly Class[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of declaredRoutes(controllers)) {
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.spec.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bifrost API',
      version,
      description:
        'Operator and engine API of Bifrost. Operators authenticate with a Bearer access token (POST /api/v1/auth/token) or X-Api-Key; engines with X-Api-Key. Errors are RFC 9457 problem documents.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: schema(Problem) },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}
