import { type ChainVerification } from '@bifrost/audit';
import { Counter, Registry } from 'prom-client';
import { silentLogger } from '../testing/projector.fixtures';
import { AuditVerification, chainVerifiedData, type AuditChainVerifiedData } from './audit-verification';

const HEAD = 'c'.repeat(64);
const INTACT: ChainVerification = { ok: true, count: 7, lastSeq: 7, lastHash: HEAD };
const BROKEN: ChainVerification = {
  ok: false,
  firstBadSeq: 4,
  reason: 'PREV_HASH_MISMATCH',
  expected: 'a'.repeat(64),
  actual: 'b'.repeat(64),
  count: 3,
};

describe('audit log verification', () => {
  describe('Given a verification result', () => {
    it('should report an intact log with its row count and head', () => {
      expect(chainVerifiedData(INTACT, '2026-12-07T10:00:00.000Z', 12)).toEqual({
        intact: true,
        rowsVerified: 7,
        throughSeq: 7,
        headHash: HEAD,
        startedAt: '2026-12-07T10:00:00.000Z',
        durationMs: 12,
      });
    });

    it('should report a broken log through the last intact row, with where and why it breaks', () => {
      expect(chainVerifiedData(BROKEN, '2026-12-07T10:00:00.000Z', 5)).toEqual({
        intact: false,
        rowsVerified: 3,
        throughSeq: 3,
        break: { seq: 4, reason: 'PREV_HASH_MISMATCH' },
        startedAt: '2026-12-07T10:00:00.000Z',
        durationMs: 5,
      });
    });
  });

  describe('When runs are scheduled', () => {
    const setup = (options: {
      ready?: () => boolean;
      verify?: () => Promise<ChainVerification>;
      publish?: (data: AuditChainVerifiedData) => Promise<void>;
      intervalMs?: number;
    }) => {
      const runs = new Counter({
        name: 'runs',
        help: 'runs',
        labelNames: ['result'],
        registers: [new Registry()],
      });
      const published: AuditChainVerifiedData[] = [];
      const verification = new AuditVerification({
        intervalMs: options.intervalMs ?? 20,
        isReady: options.ready ?? (() => true),
        verify: options.verify ?? (async () => INTACT),
        publish: options.publish ?? (async (data) => void published.push(data)),
        logger: silentLogger,
        runs,
      });
      const count = async (result: string) =>
        (await runs.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0;
      return { verification, published, count };
    };
    const until = async (done: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await done()); i += 1) await new Promise((r) => setTimeout(r, 10));
    };

    it('should verify at once when ready, then every interval, and run no more once stopped', async () => {
      const { verification, published } = setup({});
      verification.start();
      await until(() => published.length >= 3);
      await verification.stop();
      const reported = published.length;
      await new Promise((r) => setTimeout(r, 60));

      expect(reported).toBeGreaterThanOrEqual(3);
      expect(published).toHaveLength(reported);
      expect(published[0]).toMatchObject({ intact: true, rowsVerified: 7 });
    });

    it('should not verify while the instance is not the caught-up writer', async () => {
      let ready = false;
      const { verification, published } = setup({ ready: () => ready });
      verification.start();
      await new Promise((r) => setTimeout(r, 60));
      expect(published).toHaveLength(0);

      ready = true;
      await until(() => published.length >= 1);
      await verification.stop();
      expect(published.length).toBeGreaterThanOrEqual(1);
    });

    it('should count a run that cannot read the log as an error and report nothing, then go on', async () => {
      let fail = true;
      const { verification, published, count } = setup({
        verify: async () => {
          if (fail) throw new Error('connection refused');
          return BROKEN;
        },
      });
      verification.start();
      await until(async () => (await count('error')) >= 1);
      expect(published).toHaveLength(0);

      fail = false;
      await until(() => published.length >= 1);
      await verification.stop();
      expect(published[0]).toMatchObject({ intact: false, break: { seq: 4 } });
      expect(await count('broken')).toBeGreaterThanOrEqual(1);
    });

    it('should survive a report it cannot publish', async () => {
      let attempts = 0;
      const { verification, count } = setup({
        publish: async () => {
          attempts += 1;
          throw new Error('no JetStream');
        },
      });
      verification.start();
      await until(() => attempts >= 2);
      await verification.stop();
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(await count('intact')).toBeGreaterThanOrEqual(2);
    });

    it('should never run with an interval of 0', async () => {
      const { verification, published } = setup({ intervalMs: 0 });
      verification.start();
      await new Promise((r) => setTimeout(r, 50));
      await verification.stop();
      expect(published).toHaveLength(0);
    });
  });
});
