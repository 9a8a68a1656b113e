import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { compile, formatIssues, object } from '@bifrost/contracts';
import { ForbiddenError } from '@bifrost/event-sourcing';
import { holdsUnstorableText, MAX_JSON_DEPTH, nestedDeeperThan } from '@bifrost/messaging';
import { AuthService } from '../auth/auth.service';
import { hasRole, type Principal } from '../auth/roles';
import { ProblemError } from './problem';
import { RateLimits } from './rate-limit.service';
import { ROUTE_SPEC, type GatewayRequestState, type RouteSpec } from './route';

/**
 * Enforces a route's spec, in this order: refuse a body nested deeper than {@link MAX_JSON_DEPTH}
 * levels, and text Postgres cannot store, as malformed (400, like a body that is not JSON), authenticate (401), take a rate-limit
 * token (429), authorize the role (403), validate params, query and body (400), and keep an engine
 * to its own engine id (403). Nothing reaches a handler, so nothing changes, unless all of them pass.
 */
@Injectable()
export class GatewayGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(RateLimits) private readonly rateLimits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.get<RouteSpec | undefined>(ROUTE_SPEC, context.getHandler());
    if (!spec) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & GatewayRequestState>();
    // Fastify parsed the body without recursion; the schema check, JSON.stringify towards the
    // services and their hashing recurse, and a few kB of `[[[[…` overflow their stacks.
    if (nestedDeeperThan(request.body, MAX_JSON_DEPTH)) {
      throw new ProblemError(
        'malformed',
        `body is nested deeper than ${MAX_JSON_DEPTH} levels`,
        'REQUEST.MALFORMED',
      );
    }
    // Postgres cannot store it: a key name, a reason or an action holding it would take effect
    // and be missing from the audit log (and an id in a path would reach a query).
    if ([request.body, request.params, request.query].some(holdsUnstorableText)) {
      throw new ProblemError(
        'malformed',
        'the request holds U+0000 or an unpaired UTF-16 surrogate (a lone \\uD800-\\uDFFF escape), which cannot be stored or audited',
        'REQUEST.MALFORMED',
      );
    }
    const now = new Date();

    if (spec.access === 'public') {
      this.rateLimits.take({ address: request.ip }, now.getTime());
    } else {
      // Guessing credentials costs the guesser's address its anonymous budget: before the database
      // is asked about a key this instance does not know (or a flood of made-up keys would cost a
      // query each, refused or not), after the refusal for any other bad credential.
      let charged = false;
      const chargeAddress = () => {
        charged = true;
        this.rateLimits.take({ address: request.ip }, now.getTime());
      };
      let principal: Principal | undefined;
      try {
        principal = await this.auth.authenticate(request.headers, now, chargeAddress);
      } catch (error) {
        if (!charged) chargeAddress();
        throw error;
      }
      if (!principal) {
        chargeAddress();
        throw new ProblemError(
          'unauthorized',
          'send "Authorization: Bearer <access token>" or "X-Api-Key: <key>"',
          'AUTH.UNAUTHORIZED',
          {
            'www-authenticate': 'Bearer realm="bifrost"',
          },
        );
      }
      // Before the role check: refused calls spend the caller's budget like any other, and the
      // refusal's log line names who was refused.
      request.principal = principal;
      // Timed now, not before the authentication (which may have waited for the database).
      this.rateLimits.take(principal, Date.now());
      if (spec.access !== 'any' && !hasRole(principal.role, spec.access)) {
        throw new ForbiddenError(
          `this route needs the ${spec.access} role; the caller is ${principal.role}`,
          {
            code: 'AUTH.FORBIDDEN',
          },
        );
      }
    }

    if (spec.params)
      request.validParams = validate('path', spec.params, convert(spec.params, request.params));
    // A route without query parameters or body refuses any, as the others refuse what they do not declare.
    const query = spec.query ?? NO_FIELDS;
    request.validQuery = validate('query', query, convert(query, request.query));
    validate('body', spec.body ?? NO_FIELDS, request.body ?? {});
    if (spec.engineScoped && request.principal?.role === 'engine') {
      const named = [
        request.validParams?.['engineId'],
        (request.body as Record<string, unknown> | undefined)?.['engineId'],
      ];
      const foreign = named.find((id) => id !== undefined && id !== request.principal?.engineId);
      if (foreign !== undefined) {
        throw new ForbiddenError(
          `this key acts for engine ${request.principal.engineId ?? '?'} only, not ${String(foreign)}`,
          { code: 'AUTH.FOREIGN_ENGINE_FORBIDDEN' },
        );
      }
    }
    return true;
  }
}

const NO_FIELDS = object({});

/** What a query or path string must look like to be read as a number of the schema's type. */
const NUMERALS: Readonly<Record<string, RegExp>> = {
  integer: /^-?\d+$/,
  number: /^-?\d+(\.\d+)?$/,
};

/**
 * Query and path values arrive as strings: convert them, then fill in the schema's defaults. A
 * number is converted only from plain decimal digits: TypeBox reads integers with `parseInt`, so
 * `2.5`, `1e3`, `0x3` and `true` would pass as 2, 1, 3 and 1; left as strings they fail validation.
 */
function convert(schema: TSchema, value: unknown): Record<string, unknown> {
  const raw = { ...((value as Record<string, unknown> | undefined) ?? {}) };
  const properties = ((schema as TObject).properties ?? {}) as Record<string, { type?: unknown }>;
  // Convert works on (and may change) the object it is given: the strings are read from `raw`.
  const converted = Value.Convert(schema, { ...raw }) as Record<string, unknown>;
  for (const [name, text] of Object.entries(raw)) {
    const type = String(properties[name]?.type);
    const numeral = NUMERALS[type];
    if (numeral === undefined || typeof text !== 'string') continue;
    // Left as text, the schema refuses it: not plain digits, or an integer past 2^53 − 1, which
    // would be read as another number (99999999999999999999 as 1e20).
    if (!numeral.test(text) || (type === 'integer' && !Number.isSafeInteger(Number(text))))
      converted[name] = text;
  }
  return Value.Default(schema, converted) as Record<string, unknown>;
}

function validate<T>(where: string, schema: TSchema, value: T): T {
  const result = compile(schema)(value);
  if (!result.ok) {
    throw new ProblemError(
      'invalid',
      `${where}: ${formatIssues(result.issues)}`,
      'REQUEST.INVALID',
      {},
      result.issues,
    );
  }
  return value;
}
