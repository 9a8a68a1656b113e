import type { RunningService } from '@bifrost/service';
import { serviceInstances } from './service-instances';

/** A stand-in instance that only counts how often it was closed. */
function instance(name: string): RunningService & { closed: number } {
  const service = {
    closed: 0,
    url: `http://${name}`,
    close: async () => {
      service.closed += 1;
    },
  };
  return service as unknown as RunningService & { closed: number };
}

describe('serviceInstances', () => {
  it('should start with the given arguments, stop one, and close only those still running', async () => {
    const started: string[] = [];
    const instances = serviceInstances(async (name: string) => {
      started.push(name);
      return instance(name);
    });

    const a = (await instances.start('a')) as ReturnType<typeof instance>;
    const b = (await instances.start('b')) as ReturnType<typeof instance>;
    await instances.stop(a);
    await instances.closeAll();
    await instances.closeAll();

    expect(started).toEqual(['a', 'b']);
    expect([a.closed, b.closed]).toEqual([1, 1]);
    expect(instances.running).toEqual([]);
  });

  it('should close an instance it did not start without touching the others', async () => {
    const instances = serviceInstances(async () => instance('kept'));
    const kept = (await instances.start()) as ReturnType<typeof instance>;
    const stranger = instance('stranger');

    await instances.stop(stranger);

    expect(stranger.closed).toBe(1);
    expect(instances.running).toEqual([kept]);
    expect(kept.closed).toBe(0);
  });
});
