import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Optional,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError } from 'rxjs';
import { isBifrostError } from '@bifrost/event-sourcing';
import { RpcError } from '@bifrost/messaging';
import { SERVICE_LOGGER } from '@bifrost/service';
import type { Logger } from '@bifrost/observability';
import {
  PROBLEM_CONTENT_TYPE,
  PROBLEMS,
  ProblemError,
  problemDocument,
  problemKindOf,
  type Problem,
  type ProblemKind,
} from './problem';
import type { GatewayRequestState } from './route';

/**
 * The one place an HTTP error becomes an RFC 9457 problem: the gateway's own errors, Bifrost
 * errors and rpc error replies (by code), framework errors (unknown route, unparsable body) and
 * anything else (500, details only in the log). RPC contexts pass through to the transport.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(SERVICE_LOGGER) private readonly logger?: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') return throwError(() => exception);
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest & GatewayRequestState>();
    const reply = http.getResponse<FastifyReply>();
    const path = request.url.split('?')[0] ?? request.url;
    const { problem, headers } = this.toProblem(exception, path, request.headers['content-type']);
    if (problem.status === 503) {
      // With the words the caller does not get (see toProblem).
      const { message } = (exception ?? {}) as { message?: unknown };
      this.logger?.warn(
        { url: request.url, code: problem.code },
        typeof message === 'string' ? message : problem.detail,
      );
    } else if (problem.status >= 500)
      this.logger?.error({ err: loggable(exception), url: request.url }, problem.detail);
    else if (problem.status === 401 || problem.status === 403) {
      // Who was refused what, for the security log (at info, as an access log would be): never the
      // credential, only the key id once known.
      this.logger?.info(
        {
          method: request.method,
          path,
          status: problem.status,
          code: problem.code,
          ip: request.ip,
          principal: request.principal?.id ?? null,
        },
        `refused: ${problem.detail}`,
      );
    }
    // RFC 9110 §15.5.2: every 401 names the scheme to authenticate with, whatever refused the credential.
    const challenge = problem.status === 401 ? { 'www-authenticate': 'Bearer realm="bifrost"' } : {};
    void reply
      .status(problem.status)
      .headers({ ...challenge, ...headers, 'content-type': PROBLEM_CONTENT_TYPE })
      .send(problem);
    return undefined;
  }

  private toProblem(
    exception: unknown,
    instance: string,
    contentType: string | undefined,
  ): { problem: Problem; headers: Record<string, string> } {
    const make = (
      kind: ProblemKind,
      detail: string,
      extras: {
        code?: string;
        issues?: readonly { path: string; message: string }[];
        details?: unknown;
      } = {},
    ) => problemDocument(kind, detail, { instance, ...extras });
    /** The framework's refusals (no such route, a body that is not JSON, too large) get a code too. */
    const framework = (status: number, detail: string) =>
      make(kindOfStatus(status), detail, { code: FRAMEWORK_CODES[status] ?? `HTTP.${status}` });
    if (exception instanceof ProblemError) {
      return {
        problem: make(exception.kind, exception.message, {
          ...(exception.code ? { code: exception.code } : {}),
          ...(exception.issues ? { issues: exception.issues } : {}),
          ...(exception.details !== undefined ? { details: exception.details } : {}),
        }),
        headers: { ...exception.headers },
      };
    }
    if (exception instanceof RpcError || isBifrostError(exception)) {
      const kind = problemKindOf(exception.code);
      // A refusal's (4xx) details are the service's word to its caller, who gets them over NATS
      // too; an unavailable or internal service's are not the caller's business, nor are its words
      // (a namespaced subject, the NATS server's message): the code says what failed, the log the rest.
      const refusal = PROBLEMS[kind].status < 500;
      const details = refusal ? exception.details : undefined;
      return {
        problem: make(
          kind,
          refusal ? exception.message : kind === 'internal' ? 'internal error' : UNAVAILABLE_DETAIL,
          {
            code: exception.code,
            ...(details !== undefined ? { details } : {}),
          },
        ),
        headers: {},
      };
    }
    // Nest's HTTP exceptions, and Fastify's own errors (body parsing, content type, size) with a 4xx statusCode.
    const statusCode =
      exception instanceof HttpException
        ? exception.getStatus()
        : (exception as { statusCode?: unknown } | null)?.statusCode;
    if (statusCode === 415) {
      const detail = `send the body as application/json (the request's content-type: ${contentType ?? 'none'})`;
      return { problem: framework(415, detail), headers: {} };
    }
    if (
      exception instanceof HttpException ||
      (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500)
    ) {
      return { problem: framework(statusCode as number, (exception as Error).message), headers: {} };
    }
    if (databaseUnreachable(exception)) {
      return {
        problem: make('unavailable', 'the database cannot be reached: ask again shortly', {
          code: 'INFRA.DATABASE_UNAVAILABLE',
        }),
        headers: { 'retry-after': '5' },
      };
    }
    return { problem: make('internal', 'internal error', { code: 'INTERNAL.ERROR' }), headers: {} };
  }
}

/**
 * The error as logged: a failed query without its parameters and query text, which hold what the
 * caller sent (a key's hash, the caller's key id); Postgres' message and SQLSTATE are enough.
 */
function loggable(exception: unknown): unknown {
  if (!(exception instanceof Error) || !('parameters' in exception)) return exception;
  const { code } = (exception as { driverError?: { code?: string } }).driverError ?? {};
  return { message: exception.message, code, stack: exception.stack };
}

/**
 * Socket errors of a database that is not there; with the SQLSTATEs below (class 08, connection;
 * class 53, out of resources such as connections; 57P0x, shutting down).
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * A database down, restarting or out of connections (a read, or a key lookup): not a fault of the
 * request or the gateway, and gone by itself soon.
 */
export function databaseUnreachable(exception: unknown): boolean {
  // Duck-typed: a socket error is not always an `Error` of this realm (test runners, workers).
  if (typeof exception !== 'object' || exception === null) return false;
  const { code, driverError, message } = exception as {
    code?: unknown;
    driverError?: { code?: unknown };
    message?: unknown;
  };
  for (const c of [code, driverError?.code]) {
    if (typeof c === 'string' && (UNREACHABLE.has(c) || /^(08|53)|^57P0[123]$/.test(c))) return true;
  }
  // node-postgres' own words for a connection lost or never made.
  return (
    typeof message === 'string' &&
    /^Connection terminated|^timeout exceeded when trying to connect/.test(message)
  );
}

/** What a caller is told of an outage (503), whatever its words: the `code` names it. */
const UNAVAILABLE_DETAIL = 'a service or store this request needs is unavailable: ask again shortly';

const FRAMEWORK_CODES: Readonly<Record<number, string>> = {
  400: 'REQUEST.MALFORMED',
  404: 'NOT_FOUND.ROUTE',
  413: 'REQUEST.TOO_LARGE',
  415: 'REQUEST.MEDIA_TYPE',
};

function kindOfStatus(status: number): ProblemKind {
  switch (status) {
    case 400:
      return 'malformed';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'notFound';
    case 409:
      return 'conflict';
    case 413:
      return 'tooLarge';
    case 415:
      return 'mediaType';
    case 429:
      return 'rateLimited';
    default:
      return status >= 500 ? 'internal' : 'rejected';
  }
}
