import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export type CorsOptions = NonNullable<Parameters<NestFastifyApplication['enableCors']>[0]>;

/**
 * CORS for a browser console served from another origin (seed 002: `CORS_ALLOWED_ORIGINS`).
 * `GATEWAY_CORS_ALLOWED_ORIGINS` lists the origins, comma-separated (`*`: any); empty (the
 * default) sends no CORS headers, so browsers on other origins are refused as before. Credentials
 * travel in headers (`X-Api-Key`, `Authorization`), never cookies: no `Allow-Credentials`.
 */
export function corsOptions(allowed: string): CorsOptions | undefined {
  const origins = allowed
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (origins.length === 0) return undefined;
  for (const origin of origins) {
    if (origin !== '*' && !isOrigin(origin)) {
      throw new Error(
        `GATEWAY_CORS_ALLOWED_ORIGINS: "${origin}" is not an origin (http(s)://host[:port], no path) or *`,
      );
    }
  }
  return {
    origin: origins.includes('*') ? '*' : origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // A 429's or 503's wait, for a console that backs off as the SDK does.
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  };
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}
