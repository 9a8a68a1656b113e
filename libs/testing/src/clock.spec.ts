import { clearOfMidnight } from './clock';

describe('clearOfMidnight', () => {
  const at = (iso: string) => () => Date.parse(iso);

  it('should not wait with the margin or more left of the day', async () => {
    await expect(clearOfMidnight(60_000, at('2026-12-07T23:59:00.000Z'))).resolves.toBe(0);
    await expect(clearOfMidnight(60_000, at('2026-12-08T00:00:00.000Z'))).resolves.toBe(0);
  });

  it('should wait until a second into the next day with less than the margin left', async () => {
    jest.useFakeTimers();
    try {
      let waited: number | undefined;
      const waiting = clearOfMidnight(60_000, at('2026-12-07T23:59:30.000Z')).then((ms) => (waited = ms));

      await jest.advanceTimersByTimeAsync(30_999);
      expect(waited).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await waiting;
      expect(waited).toBe(31_000);
    } finally {
      jest.useRealTimers();
    }
  });
});
