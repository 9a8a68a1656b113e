import { waitFor } from './wait-for';

describe('waitFor', () => {
  const answers = <T>(...values: T[]) => {
    let asked = 0;
    return { probe: () => values[Math.min(asked++, values.length - 1)], asked: () => asked };
  };

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['false', false],
  ])('should keep polling while the probe answers %s, and return the first value', async (_, notYet) => {
    const { probe, asked } = answers<unknown>(notYet, notYet, { since: 'now' });

    await expect(waitFor(probe, { intervalMs: 1 })).resolves.toEqual({ since: 'now' });
    expect(asked()).toBe(3);
  });

  it.each([
    ['0', 0],
    ['an empty string', ''],
  ])('should take %s as the value waited for', async (_, value) => {
    await expect(waitFor(() => value, { intervalMs: 1 })).resolves.toBe(value);
  });

  it('should time out naming what it waited for', async () => {
    await expect(waitFor(() => null, { timeoutMs: 20, intervalMs: 1, what: 'the throttle' })).rejects.toThrow(
      /timed out after 20 ms waiting for the throttle/,
    );
  });
});
