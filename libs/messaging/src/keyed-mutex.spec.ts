import { KeyedMutex } from './keyed-mutex';

/** A task that runs until `release()`, recording that it started. */
function held() {
  let release!: () => void;
  const state = { started: false };
  const task = () => {
    state.started = true;
    return new Promise<string>((resolve) => (release = () => resolve('held')));
  };
  return { task, state, release: () => release() };
}

const late = () => new Error('late');

describe('KeyedMutex', () => {
  it('runs the tasks of one key one after another, in the order given, and other keys alongside', async () => {
    const locks = new KeyedMutex();
    const first = held();
    const order: string[] = [];

    const a1 = locks.run('a', first.task);
    const a2 = locks.run('a', async () => order.push('a2'));
    await expect(locks.run('b', async () => order.push('b'))).resolves.toBe(1);
    expect(order).toEqual(['b']);

    first.release();
    await expect(a1).resolves.toBe('held');
    await a2;
    expect(order).toEqual(['b', 'a2']);
  });

  it('runs the next task after one that failed', async () => {
    const locks = new KeyedMutex();
    const failed = locks.run('a', () => Promise.reject(new Error('boom')));
    await expect(locks.run('a', async () => 'next')).resolves.toBe('next');
    await expect(failed).rejects.toThrow('boom');
  });

  describe('with a deadline for the turn', () => {
    it('answers late() when the turn has not come within waitMs, and never runs the task', async () => {
      const locks = new KeyedMutex();
      const holder = held();
      const holding = locks.run('a', holder.task);
      const waiter = held();

      const started = Date.now();
      await expect(locks.run('a', waiter.task, { waitMs: 30, late })).rejects.toThrow('late');
      expect(Date.now() - started).toBeGreaterThanOrEqual(25);

      holder.release();
      await holding;
      // The queue moves past the dropped task to the one after it.
      await expect(locks.run('a', async () => 'after', { waitMs: 30, late })).resolves.toBe('after');
      expect(waiter.state.started).toBe(false);
    });

    it('lets a task whose turn came in time run to its end, past waitMs', async () => {
      const locks = new KeyedMutex();
      const task = held();

      const running = locks.run('a', task.task, { waitMs: 10, late });
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(task.state.started).toBe(true);
      task.release();

      await expect(running).resolves.toBe('held');
    });

    it('passes on the failure of a task that ran', async () => {
      const locks = new KeyedMutex();
      await expect(
        locks.run('a', () => Promise.reject(new Error('boom')), { waitMs: 1_000, late }),
      ).rejects.toThrow('boom');
    });
  });
});
