import { Inject, Injectable, Optional } from '@nestjs/common';

export interface HealthCheckResult {
  readonly ok: boolean;
  readonly detail?: string;
}

/** One dependency readiness depends on (Postgres, NATS, a consumer loop…). */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<HealthCheckResult> | HealthCheckResult;
}

export interface Readiness {
  readonly ok: boolean;
  readonly checks: Record<string, HealthCheckResult>;
}

export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = 2_000;
/** Optional injection token overriding the per-check timeout (milliseconds). */
export const HEALTH_CHECK_TIMEOUT_MS = 'bifrost:HEALTH_CHECK_TIMEOUT_MS';

/** The indicators behind `/health/ready`; services register theirs at start. */
@Injectable()
export class HealthRegistry {
  private readonly indicators = new Map<string, HealthIndicator>();
  private readonly timeoutMs: number;

  constructor(@Optional() @Inject(HEALTH_CHECK_TIMEOUT_MS) timeoutMs?: number) {
    this.timeoutMs = timeoutMs ?? DEFAULT_HEALTH_CHECK_TIMEOUT_MS;
  }

  /** Adds an indicator; returns a function that removes it again. Names must be unique. */
  register(indicator: HealthIndicator): () => void {
    if (this.indicators.has(indicator.name)) {
      throw new Error(`A health indicator named "${indicator.name}" is already registered`);
    }
    this.indicators.set(indicator.name, indicator);
    return () => {
      if (this.indicators.get(indicator.name) === indicator) this.indicators.delete(indicator.name);
    };
  }

  /** Runs every check concurrently; a check that throws or outlasts the timeout counts as not ok. */
  async readiness(): Promise<Readiness> {
    const results = await Promise.all(
      [...this.indicators.values()].map(
        async (indicator) => [indicator.name, await this.run(indicator)] as const,
      ),
    );
    return { ok: results.every(([, result]) => result.ok), checks: Object.fromEntries(results) };
  }

  private async run(indicator: HealthIndicator): Promise<HealthCheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HealthCheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `timed out after ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => indicator.check()), timeout]);
      return result.detail === undefined ? { ok: result.ok } : { ok: result.ok, detail: result.detail };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Readiness of a Postgres connection (a TypeORM DataSource, a pg Pool or Client): `SELECT 1`. */
export function postgresHealthIndicator(dataSource: {
  query(sql: string): Promise<unknown>;
}): HealthIndicator {
  return {
    name: 'postgres',
    async check() {
      await dataSource.query('SELECT 1');
      return { ok: true };
    },
  };
}
