import { Controller, Get, Inject, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { type Registry } from 'prom-client';
import { HealthRegistry, type HealthCheckResult } from './health';
import { METRICS_REGISTRY } from './tokens';

/** The bits of a Fastify reply (or Express response) the controller needs. */
interface Reply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

export interface LivenessBody {
  readonly status: 'ok';
}

export interface ReadinessBody {
  readonly status: 'ok' | 'unavailable';
  readonly checks: Record<string, HealthCheckResult>;
}

/**
 * `/health/live`, `/health/ready` and `/metrics`. Statuses are set on the reply directly rather
 * than thrown, so an app-wide exception filter (the gateway's problem+json) cannot reshape them.
 */
@Controller({ version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    // Explicit token: a type-only reference would erase the decorator metadata Nest injects by.
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health/live')
  live(): LivenessBody {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res({ passthrough: true }) reply: Reply): Promise<ReadinessBody> {
    const { ok, checks } = await this.health.readiness();
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }

  @Get('metrics')
  async metrics(@Res({ passthrough: true }) reply: Reply): Promise<string> {
    const body = await this.registry.metrics();
    reply.header('content-type', this.registry.contentType);
    return body;
  }
}
