import { Injectable } from '@nestjs/common';

/** How long a task may wait for its turn, and the error its caller gets when it waited too long. */
export interface TurnDeadline {
  readonly waitMs: number;
  readonly late: () => Error;
}

/**
 * Runs tasks with the same key one after another (FIFO) and tasks with different keys freely: a
 * service's commands on one aggregate never race each other for the same append in this process.
 */
@Injectable()
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * `task` once the tasks queued before it under `key` are done. With a `deadline`, a task whose
   * turn has not come within `waitMs` is dropped from the queue: its caller gets `late()` then, and
   * the task never runs (a task that has started is not cut short).
   */
  run<T>(key: string, task: () => Promise<T>, deadline?: TurnDeadline): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false;
    const turn = (): Promise<T> | undefined => {
      if (abandoned) return undefined;
      clearTimeout(timer);
      return task();
    };
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(turn, turn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    if (!deadline) return result as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        reject(deadline.late());
      }, deadline.waitMs);
      result.then(resolve as (value: T | undefined) => void, reject);
    });
  }
}
