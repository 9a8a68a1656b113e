import { singleFlight } from './single-flight';

describe('singleFlight', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('should give callers that arrive during a run that run’s result, and start one run only', async () => {
    // Given a task that is still running
    const run = deferred<number>();
    const task = jest.fn(() => run.promise);
    const shared = singleFlight(task);
    const first = shared();

    // When two more callers arrive before it settles
    const second = shared();
    const third = shared();
    run.resolve(7);

    // Then all three get its result, from one run
    expect(await Promise.all([first, second, third])).toEqual([7, 7, 7]);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('should start a new run after the previous one settled, also after a failure', async () => {
    // Given a run that failed
    const results = [Promise.reject(new Error('down')), Promise.resolve(2)];
    const task = jest.fn(() => results.shift() as Promise<number>);
    const shared = singleFlight(task);
    await expect(shared()).rejects.toThrow('down');

    // When called again
    const next = await shared();

    // Then it ran again and gives the new result
    expect(next).toBe(2);
    expect(task).toHaveBeenCalledTimes(2);
  });
});
