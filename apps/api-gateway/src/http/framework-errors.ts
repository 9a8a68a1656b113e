import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemDocument, type ProblemKind } from './problem';

/**
 * Refusals Fastify and Node answer before any route, filter or error handler runs, as problem
 * documents like every other error of the API: a path that is no URL (a broken percent-encoding),
 * and requests the HTTP parser gives up on (headers too large, too slow, not HTTP).
 */
export const problemFrameworkErrors: Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> = {
  frameworkErrors(error: Error, request: FastifyRequest, reply: FastifyReply) {
    const problem = problemDocument('malformed', error.message, {
      instance: request.url.split('?')[0] ?? request.url,
      code: 'REQUEST.MALFORMED',
    });
    void reply
      .status(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem));
  },
  clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
    // A reset connection has nobody left to answer (Node's own rule for 'clientError').
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [kind, code, detail] = clientRefusal(error.code);
    const problem = problemDocument(kind, detail, { code });
    const body = JSON.stringify(problem);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  },
};

function clientRefusal(code: string | undefined): [ProblemKind, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        'headersTooLarge',
        'REQUEST.HEADERS_TOO_LARGE',
        'the request headers exceed the server’s limit',
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['timeout', 'REQUEST.TIMEOUT', 'the request did not arrive in time'];
    default:
      return ['malformed', 'REQUEST.MALFORMED', 'the request is not HTTP the server can read'];
  }
}
