/**
 * Polls a condition until it holds. Tests wait on positions (an acked sequence, a checkpoint, a
 * delivered count), never on fixed sleeps; the interval is only how often the position is read.
 * The probe's answer is "not yet" while it is `undefined`, `null` or `false` (a field the contract
 * sets to null until it holds, such as a policy's `throttled`, is not yet there), and the value
 * waited for otherwise.
 */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  {
    timeoutMs = 10_000,
    intervalMs = 20,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
