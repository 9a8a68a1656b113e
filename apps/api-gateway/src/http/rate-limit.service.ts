import { isIPv6 } from 'node:net';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Principal, Role } from '../auth/roles';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError } from './problem';
import { TokenBuckets, type RateLimit } from './rate-limiter';

/** Per-principal (and per-address for anonymous calls) token buckets with the configured limits. */
@Injectable()
export class RateLimits implements OnModuleDestroy {
  private readonly buckets = new TokenBuckets();
  private readonly limits: Record<Role | 'anonymous', RateLimit>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const limit = (perSecond: number): RateLimit => ({
      perSecond,
      burst: Math.max(1, perSecond * config.GATEWAY_RATE_BURST_SECONDS),
    });
    this.limits = {
      viewer: limit(config.GATEWAY_RATE_LIMIT_VIEWER),
      operator: limit(config.GATEWAY_RATE_LIMIT_OPERATOR),
      admin: limit(config.GATEWAY_RATE_LIMIT_ADMIN),
      owner: limit(config.GATEWAY_RATE_LIMIT_OWNER),
      engine: limit(config.GATEWAY_RATE_LIMIT_ENGINE),
      anonymous: limit(config.GATEWAY_RATE_LIMIT_ANONYMOUS),
    };
    this.sweeper = setInterval(() => this.buckets.sweep((key) => this.limitOfKey(key), Date.now()), 60_000);
    this.sweeper.unref();
  }

  /** Takes one request from the caller's bucket or throws 429 with Retry-After. */
  take(caller: Principal | { address: string }, now: number): void {
    const [key, limit] =
      'role' in caller
        ? [`${caller.role}|${caller.id}`, this.limits[caller.role]]
        : [`anonymous|${clientNetwork(caller.address)}`, this.limits.anonymous];
    const decision = this.buckets.take(key, limit, now);
    if (!decision.allowed) {
      throw new ProblemError(
        'rateLimited',
        `rate limit of ${limit.perSecond}/s exceeded; retry in ${decision.retryAfterSeconds} s`,
        'RATE.LIMITED',
        { 'retry-after': String(decision.retryAfterSeconds) },
      );
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private limitOfKey(key: string): RateLimit {
    const role = key.slice(0, key.indexOf('|')) as Role | 'anonymous';
    return this.limits[role];
  }
}

/**
 * The network an anonymous bucket belongs to: an IPv4 address (also as a dual-stack socket names
 * it, `::ffff:a.b.c.d`), or the /64 of an IPv6 one. A /64 is the least a subscriber is given, so
 * one client has all of its 2^64 addresses to pick from: per address, it could pick a fresh bucket
 * for every request. Written in one canonical form, so other spellings of it share the bucket.
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  const plain = address.split('%')[0] ?? address;
  if (!isIPv6(plain)) return address;
  // An IPv4 tail (`::1.2.3.4`) is two groups, which only places the groups before it.
  const groups = (text: string) =>
    text === '' ? [] : text.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const [head = '', tail] = plain.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
