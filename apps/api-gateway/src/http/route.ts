import {
  applyDecorators,
  Controller,
  createParamDecorator,
  Delete,
  type ExecutionContext,
  Get,
  HttpCode,
  Patch,
  Post,
  Put,
  SetMetadata,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { TObject, TSchema } from '@sinclair/typebox';
import type { Principal as PrincipalType, Role } from '../auth/roles';
import { GatewayGuard } from './gateway.guard';
import { ProblemFilter } from './problem.filter';

/** Who may call a route: a role (and above), any authenticated principal, or anyone. */
export type Access = Role | 'any' | 'public';

/** Everything about one route, declared once: it drives routing, auth, validation and OpenAPI. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the controller's prefix, Nest style (`:engineId/pause`). */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly params?: TObject;
  readonly query?: TObject;
  /**
   * Optional request headers the handler reads, by lowercase name: OpenAPI header parameters. The
   * guard leaves them alone; the handler checks them and answers its own problem codes.
   */
  readonly headers?: TObject;
  readonly body?: TSchema;
  readonly response: TSchema;
  /** Success status, 200 by default. */
  readonly status?: number;
  readonly example?: { readonly body?: unknown; readonly response?: unknown };
  /** An engine principal may only name its own engine (`engineId` in params or body). */
  readonly engineScoped?: boolean;
  /** Response media type, JSON unless said otherwise (the SSE stream). */
  readonly produces?: string;
  /**
   * Refusals of a public route that checks a credential of its own (in its body), by status: the
   * OpenAPI document lists them as it lists 401/403 for the routes the guard authenticates.
   */
  readonly refusals?: Readonly<Partial<Record<401 | 403, string>>>;
}

export const ROUTE_SPEC = 'api-gateway:route';
export const API_TAG = 'api-gateway:tag';
export const API_PREFIX = 'api/v1';

const METHODS = { GET: Get, POST: Post, PUT: Put, PATCH: Patch, DELETE: Delete } as const;

/** A controller under `/api/v1/<prefix>` whose errors are problem documents. */
export function ApiController(prefix: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(prefix === '' ? API_PREFIX : `${API_PREFIX}/${prefix}`),
    UseFilters(ProblemFilter),
    SetMetadata(API_TAG, tag),
  );
}

/** Declares a route from its spec: method, path, status, and the guard that enforces the spec. */
export function Route(spec: RouteSpec): MethodDecorator {
  return applyDecorators(
    METHODS[spec.method](spec.path),
    HttpCode(spec.status ?? 200),
    SetMetadata(ROUTE_SPEC, spec),
    UseGuards(GatewayGuard),
  );
}

/** What the guard leaves on the request for the handler. */
export interface GatewayRequestState {
  principal?: PrincipalType;
  validQuery?: Record<string, unknown>;
  validParams?: Record<string, unknown>;
}

const stateOf = (ctx: ExecutionContext) => ctx.switchToHttp().getRequest<GatewayRequestState>();

/** The authenticated principal. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => stateOf(ctx).principal,
);
/** Query parameters after conversion and validation against the route's query schema. */
export const ValidQuery = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => stateOf(ctx).validQuery ?? {},
);
/** Path parameters after validation against the route's params schema. */
export const ValidParams = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => stateOf(ctx).validParams ?? {},
);
