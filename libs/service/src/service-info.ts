/** Who this process is: filled in at start-up, served by the ping route and the logs. */
export class ServiceInfo {
  starts = 0;

  constructor(
    readonly service: string,
    readonly instanceId: string,
    readonly version: string,
    readonly startedAt: string,
  ) {}
}

/** Injection token of the service's pino logger (structured JSON, trace ids). */
export const SERVICE_LOGGER = 'bifrost:SERVICE_LOGGER';
