import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

const rate = (perSecond: number) => Type.Number({ exclusiveMinimum: 0, default: perSecond });

export const GatewayConfig = Type.Object({
  ...CommonConfigProperties,
  DATABASE_URL: Type.String({ minLength: 1 }),
  /** HS256 signing key of access tokens. */
  GATEWAY_JWT_SECRET: Type.String({ minLength: 32 }),
  /** On start, creates an owner key with exactly this secret when no active owner key exists. */
  GATEWAY_BOOTSTRAP_OWNER_KEY: Type.Optional(Type.String({ minLength: 32 })),
  GATEWAY_ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 10, default: 15 * 60 }),
  // Seed 004 C1: a 15-minute access token and a 7-day refresh token.
  GATEWAY_REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 60 * 60 }),
  /**
   * Longest an operator session lasts from its login (`POST /auth/token`), however often it is
   * refreshed: a refresh token never outlives it, and a refresh after it is refused.
   */
  GATEWAY_SESSION_MAX_AGE_SECONDS: Type.Integer({ minimum: 60, default: 30 * 24 * 60 * 60 }),
  /** How long an authenticated key is trusted without a database lookup (revocation delay on other instances). */
  GATEWAY_KEY_CACHE_MS: Type.Integer({ minimum: 0, default: 5_000 }),
  /** Sustained requests per second per principal, by role; the bucket holds `GATEWAY_RATE_BURST_SECONDS` of it. */
  GATEWAY_RATE_LIMIT_VIEWER: rate(20),
  GATEWAY_RATE_LIMIT_OPERATOR: rate(20),
  GATEWAY_RATE_LIMIT_ADMIN: rate(20),
  GATEWAY_RATE_LIMIT_OWNER: rate(20),
  GATEWAY_RATE_LIMIT_ENGINE: rate(500),
  /** Per client address, for requests without a valid credential (token issue, failed auth). */
  GATEWAY_RATE_LIMIT_ANONYMOUS: rate(5),
  /**
   * Proxies in front of the gateway (an Ingress, a load balancer) whose `X-Forwarded-For` names the
   * client: 0 (default) takes the connection's address as the client's, 1 the address the nearest
   * proxy saw. Set it only behind proxies that set the header: a client could otherwise choose its
   * own address (and its anonymous rate limit).
   */
  GATEWAY_TRUST_PROXY_HOPS: Type.Integer({ minimum: 0, maximum: 10, default: 0 }),
  /** Origins a browser console may call from, comma-separated (`*`: any); empty: no CORS (http/cors.ts). */
  GATEWAY_CORS_ALLOWED_ORIGINS: Type.String({ default: '' }),
  GATEWAY_RATE_BURST_SECONDS: Type.Number({ minimum: 1, default: 2 }),
  /** Live decision streams (`GET /decisions/stream`) one principal may hold open on one gateway instance. */
  GATEWAY_MAX_STREAMS_PER_PRINCIPAL: Type.Integer({ minimum: 1, default: 4 }),
  /** How often an open stream sends a keep-alive and re-checks its credential (revoked key, expired token). */
  GATEWAY_STREAM_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /**
   * Oldest `Occurred-At` an engine fact may carry, in seconds before its arrival (docs/api.md,
   * "When it happened"); default 30 days, the default retention of BIFROST_INGEST.
   */
  GATEWAY_FACT_MAX_AGE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 100 * 365 * 86_400,
    default: 30 * 86_400,
  }),
  /**
   * Longest a client may take to send a whole request, body included (Node's `requestTimeout`,
   * checked every 30 s); past it, 408 and the connection closed. Without it a client that sends its
   * headers and then trickles its body held a connection open for ever. Streams are not affected:
   * their request is complete once the headers are in.
   */
  GATEWAY_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 30_000 }),
  /** How long the gateway waits for the owning service's rpc reply. */
  GATEWAY_RPC_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
});
export type GatewayConfig = Static<typeof GatewayConfig>;

/** DI token of the validated config. */
export const GATEWAY_CONFIG = 'api-gateway:CONFIG';
