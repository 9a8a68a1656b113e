import { commitBisecting, isDataError } from './bisect';

describe('commitBisecting', () => {
  const refused = Object.assign(new Error('value out of range'), { severity: 'ERROR', code: '22003' });

  /** Commits a part unless it holds a bad item; records what was committed and what was set aside. */
  function ledger(bad: ReadonlySet<number>) {
    const committed: number[][] = [];
    const faulty: number[] = [];
    return {
      committed,
      faulty,
      commit: (part: readonly number[]) => {
        if (part.some((item) => bad.has(item))) return Promise.reject(refused);
        committed.push([...part]);
        return Promise.resolve(part.length);
      },
      isolate: (item: number) => {
        faulty.push(item);
        return Promise.resolve(0);
      },
    };
  }

  describe('Given a batch Postgres takes', () => {
    it('should commit it once, whole', async () => {
      const l = ledger(new Set());
      await commitBisecting([1, 2, 3], l.commit, isDataError, l.isolate);
      expect(l.committed).toEqual([[1, 2, 3]]);
    });
  });

  describe('Given one or more items Postgres refuses', () => {
    it('should set aside exactly those and commit everything else in order', async () => {
      const l = ledger(new Set([3, 7]));
      const results = await commitBisecting([1, 2, 3, 4, 5, 6, 7, 8], l.commit, isDataError, l.isolate);
      expect(l.faulty).toEqual([3, 7]);
      expect(l.committed.flat()).toEqual([1, 2, 4, 5, 6, 8]);
      expect(results.reduce((n, r) => n + r, 0)).toBe(6);
    });
  });

  describe('Given a failure that is not about the data', () => {
    it('should give up at once, setting nothing aside', async () => {
      const lost = Object.assign(new Error('terminating connection'), { severity: 'FATAL', code: '57P01' });
      const faulty: number[] = [];
      await expect(
        commitBisecting(
          [1, 2],
          () => Promise.reject(lost),
          isDataError,
          (item) => {
            faulty.push(item);
            return Promise.resolve(0);
          },
        ),
      ).rejects.toBe(lost);
      expect(faulty).toEqual([]);
    });
  });
});

describe('isDataError', () => {
  const reported = (code: string) => ({ severity: 'ERROR', code });

  it('should take what Postgres reported with SQLSTATE class 21, 22, 23 or 54, also wrapped by TypeORM', () => {
    expect(isDataError(reported('21000'))).toBe(true); // a row updated twice by one statement
    expect(isDataError(reported('22007'))).toBe(true);
    expect(isDataError(reported('23505'))).toBe(true);
    expect(isDataError(reported('54000'))).toBe(true); // a value too big for an index
    expect(isDataError({ message: 'query failed', driverError: reported('22008') })).toBe(true);
  });

  it('should not take any other failure', () => {
    expect(isDataError(reported('40001'))).toBe(false); // serialization failure
    expect(isDataError(reported('57014'))).toBe(false); // statement timeout
    expect(isDataError({ code: 'EPIPE' })).toBe(false); // a socket, not Postgres
    expect(isDataError(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});
