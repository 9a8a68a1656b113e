import { ConnectionLoop } from './connection.loop';
import type { ConnectionState } from './sdk.types';

describe('Connection loop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  describe('When every attempt fails and retries are limited to 2', () => {
    it('should try at once, retry after 1 s and 2 s, then give up for good', async () => {
      const server = fakeServer([]);
      const loop = server.loop(2);

      loop.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(server.attempts).toBe(1);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(server.attempts).toBe(2);
      await jest.advanceTimersByTimeAsync(2_000);

      expect(server.attempts).toBe(3);
      expect(server.states).toEqual(['connecting', 'failed']);
      expect(loop.state).toBe('failed');
      // Nothing left scheduled: a process with nothing else to do can exit.
      expect(jest.getTimerCount()).toBe(0);
    });

    it('should stay failed: no proof of life or loss starts it again, only stop() ends it', async () => {
      const server = fakeServer([true]);
      const loop = server.loop(2);
      loop.start();
      await jest.advanceTimersByTimeAsync(0);
      server.answers.push(false, false, false);

      loop.lost();
      await jest.advanceTimersByTimeAsync(3_000);
      expect(loop.state).toBe('failed');
      loop.found();
      loop.lost();
      await jest.advanceTimersByTimeAsync(600_000);

      expect(server.attempts).toBe(4);
      expect(loop.state).toBe('failed');
      loop.stop();
      expect(server.states).toEqual(['connecting', 'connected', 'reconnecting', 'failed', 'closed']);
    });
  });

  describe('When retries are limited to 0', () => {
    it('should give up after the first attempt fails', async () => {
      const server = fakeServer([]);
      server.loop(0).start();

      await jest.advanceTimersByTimeAsync(0);

      expect(server.attempts).toBe(1);
      expect(server.states).toEqual(['connecting', 'failed']);
    });
  });

  describe('When an outage ends within the limit', () => {
    it('should count the retries of the next outage afresh', async () => {
      // Outage 1: fails twice, then connects; outage 2: fails twice, then connects.
      const server = fakeServer([false, false, true, false, false, true]);
      const loop = server.loop(2);
      loop.start();
      await jest.advanceTimersByTimeAsync(3_000);
      expect(loop.state).toBe('connected');

      loop.lost();
      await jest.advanceTimersByTimeAsync(3_000);

      expect(server.attempts).toBe(6);
      expect(server.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    });
  });

  describe('Without a limit (the default)', () => {
    it('should keep retrying, at most 72 s apart (60 s + 20 %) once at the cap', async () => {
      const server = fakeServer([]);
      const loop = new ConnectionLoop(
        () => server.attempt(),
        (state) => server.states.push(state),
      );
      loop.start();

      await jest.advanceTimersByTimeAsync(3_600_000);

      expect(server.attempts).toBeGreaterThanOrEqual(50);
      expect(loop.state).toBe('connecting');
      loop.stop();
    });
  });
});

/** Answers attempts from `answers` in order (false once they run out), counting them; no jitter. */
function fakeServer(answers: boolean[]) {
  const server = {
    answers,
    attempts: 0,
    states: [] as ConnectionState[],
    attempt: async () => {
      server.attempts += 1;
      return server.answers.shift() ?? false;
    },
    loop: (maxRetries: number) =>
      new ConnectionLoop(
        () => server.attempt(),
        (state) => server.states.push(state),
        maxRetries,
        () => 0.5,
      ),
  };
  return server;
}
