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
        : [`anonymous|${caller.address}`, this.limits.anonymous];
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
