import type { FastifyInstance, FastifyRequest } from 'fastify';

type Done = (error: Error | null, body?: unknown) => void;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Request bodies are JSON, parsed by Fastify's own parser (which refuses `__proto__` and
 * `constructor.prototype` keys), with two differences for clients:
 * - an empty body is no body, whatever its content type (clients that send
 *   `content-type: application/json` on every call, a DELETE among them, or a form type with no
 *   body at all); a body of another type than JSON is refused with 415;
 * - a refused body says why: the syntax error, the forbidden key, or text that is not UTF-8.
 */
export function useJsonBodies(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: string | Buffer, done: Done) => {
      let text: string;
      try {
        text = typeof body === 'string' ? body : utf8.decode(body);
      } catch {
        return done(Object.assign(new Error('the body is not valid UTF-8'), { statusCode: 400 }));
      }
      if (text.trim() === '') return done(null, undefined);
      parse(request, text, (error: Error | null, value?: unknown) =>
        error ? done(refusal(error, text)) : done(null, value),
      );
    },
  );
  // Any other type: no body is no body (`curl -d ''` says form-urlencoded); a body is refused with 415.
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: string | Buffer, done: Done) => {
      if (body.length === 0) return done(null, undefined);
      const type = request.headers['content-type'] ?? 'none';
      done(
        Object.assign(new Error(`unsupported media type: ${type}`), {
          statusCode: 415,
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        }),
      );
    },
  );
}

/** The parser's error with its reason: the text's syntax error, else the key it refused. */
function refusal(error: Error, text: string): Error {
  let detail: string;
  try {
    JSON.parse(text);
    detail = 'the body is JSON, but a key named __proto__ or constructor.prototype is not accepted';
  } catch (syntax) {
    detail = `the body is not valid JSON: ${(syntax as Error).message}`;
  }
  return Object.assign(new Error(detail), { statusCode: 400, code: (error as { code?: string }).code });
}
