/** Who this process is: filled in at start-up, served by the ping route and the logs. */
export class ServiceInfo {
  starts = 0;
  private markServing!: () => void;
  /**
   * Resolves once the service serves: its state rebuilt (start-up hooks done), its NATS routes
   * subscribed and its HTTP server listening. Work that needs the service's own routes (the
   * canary's probe of its own ping route) waits for it.
   */
  readonly serving = new Promise<void>((resolve) => (this.markServing = resolve));

  constructor(
    readonly service: string,
    readonly instanceId: string,
    readonly version: string,
    readonly startedAt: string,
  ) {}

  /** Called by `startService` once the service serves. */
  served(): void {
    this.markServing();
  }
}

/** Injection token of the service's pino logger (structured JSON, trace ids). */
export const SERVICE_LOGGER = 'bifrost:SERVICE_LOGGER';
