import { ConnectionLoop, MIN_HELD_CONNECTION_MS } from './connection.loop';
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
      await jest.advanceTimersByTimeAsync(MIN_HELD_CONNECTION_MS);
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
      await jest.advanceTimersByTimeAsync(3_000 + MIN_HELD_CONNECTION_MS);
      expect(loop.state).toBe('connected');

      loop.lost();
      await jest.advanceTimersByTimeAsync(3_000);

      expect(server.attempts).toBe(6);
      expect(server.states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    });
  });

  describe('When every connection is lost right after it is made (a server that drops each publish)', () => {
    it('should not reconnect at once but after 1, 2, 4, 8 s, as if the attempts had failed', async () => {
      const server = fakeServer([true, true, true, true]);
      const loop = server.loop(Number.POSITIVE_INFINITY);
      const attemptsAt: number[] = [];
      const started = Date.now();
      server.onAttempt = () => attemptsAt.push(Date.now() - started);
      loop.start();

      for (let i = 0; i < 4; i += 1) {
        await jest.advanceTimersByTimeAsync(0);
        loop.lost();
        await jest.advanceTimersByTimeAsync(2 ** i * 1_000);
      }

      expect(attemptsAt).toEqual([0, 1_000, 3_000, 7_000, 15_000]);
      expect(server.states).toEqual([
        'connecting',
        ...Array.from({ length: 4 }, () => ['connected', 'reconnecting']).flat(),
      ]);
      loop.stop();
    });

    it('should count those connections toward the limit, and give up after it', async () => {
      const server = fakeServer([true, true, true]);
      const loop = server.loop(2);
      loop.start();

      for (const wait of [1_000, 2_000, 0]) {
        await jest.advanceTimersByTimeAsync(0);
        loop.lost();
        await jest.advanceTimersByTimeAsync(wait);
      }

      expect(server.attempts).toBe(3);
      expect(loop.state).toBe('failed');
      expect(jest.getTimerCount()).toBe(0);
    });

    it('should start over, at once and then at 1 s, once a connection has held', async () => {
      const server = fakeServer([true, true, true, false]);
      const loop = server.loop(Number.POSITIVE_INFINITY);
      loop.start();
      await jest.advanceTimersByTimeAsync(0);
      loop.lost();
      await jest.advanceTimersByTimeAsync(1_000);
      loop.lost();
      await jest.advanceTimersByTimeAsync(2_000);
      expect(server.attempts).toBe(3);

      await jest.advanceTimersByTimeAsync(MIN_HELD_CONNECTION_MS);
      loop.lost();
      await jest.advanceTimersByTimeAsync(0);
      expect(server.attempts).toBe(4);
      await jest.advanceTimersByTimeAsync(1_000);

      expect(server.attempts).toBe(5);
      loop.stop();
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
    onAttempt: () => undefined as unknown,
    states: [] as ConnectionState[],
    attempt: async () => {
      server.attempts += 1;
      server.onAttempt();
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
