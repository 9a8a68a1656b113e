import type { RunningService } from '@bifrost/service';

/**
 * The instances of one service a test starts, stops and restarts: `start` runs the given starter
 * and remembers the instance, `stop` closes one, `closeAll` closes those still running (an
 * afterEach, or a test stopping every instance at once before it starts a fresh one).
 */
export interface ServiceInstances<A extends unknown[]> {
  start(...args: A): Promise<RunningService>;
  stop(service: RunningService): Promise<void>;
  closeAll(): Promise<void>;
  readonly running: readonly RunningService[];
}

export function serviceInstances<A extends unknown[]>(
  starter: (...args: A) => Promise<RunningService>,
): ServiceInstances<A> {
  const running: RunningService[] = [];
  return {
    running,
    start: async (...args) => {
      const service = await starter(...args);
      running.push(service);
      return service;
    },
    stop: async (service) => {
      const index = running.indexOf(service);
      if (index >= 0) running.splice(index, 1);
      await service.close();
    },
    closeAll: async () => {
      await Promise.all(running.splice(0).map((service) => service.close()));
    },
  };
}
