/**
 * Wraps an async task so that at most one run is in flight: callers that arrive while it runs get
 * that run's result; the next call after it settles (fulfilled or rejected) starts a new run.
 */
export function singleFlight<T>(task: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= task().finally(() => {
      running = undefined;
    });
    return running;
  };
}
