import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { auditHash } from '@bifrost/audit';
import { createNaming } from '@bifrost/contracts';
import {
  gateEvents,
  publishAll,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';
import { verifyAuditLog } from '@bifrost/persistence';
import { canonicalEnvelope, linkEntries } from './audit-chain';

const ROOT = resolve(__dirname, '../../../..');

describe('audit log', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('audit');
    const fx = gateEvents(h.ns.naming);
    const projector = h.startProjector();
    await publishAll(h.client, [
      fx.killSwitchEngaged(),
      fx.strategyRegistered('eng-1', 's-1'),
      fx.outcomeRecorded('eng-1', 's-1', 5),
      fx.killSwitchReleased(),
      fx.checklistFact('auditChainVerified', true),
    ]);
    await h.caughtUp();
    await projector.stop();
  });

  afterAll(() => h?.stop());

  describe('Given the chain framing of the projector', () => {
    it('should hash exactly as auditHash of @bifrost/audit', () => {
      const envelope = { id: 'x', type: 'gate.A', data: { n: 1e21, s: 'é😂', z: [0.1, -0] } };
      const canonical = canonicalEnvelope(envelope);
      if (!canonical.ok) throw new Error(canonical.reason);
      const [first, second] = linkEntries({ seq: 41, hash: 'f'.repeat(64) }, [
        {
          eventId: 'x',
          eventType: 'gate.A',
          stream: 'S',
          streamSeq: 1,
          occurredAt: '',
          canonical: canonical.canonical,
        },
        {
          eventId: 'y',
          eventType: 'gate.A',
          stream: 'S',
          streamSeq: 2,
          occurredAt: '',
          canonical: canonical.canonical,
        },
      ]);

      expect(first).toMatchObject({ seq: 42, prevHash: 'f'.repeat(64) });
      expect(first?.hash).toBe(auditHash({ seq: 42, prevHash: 'f'.repeat(64), event: envelope }));
      expect(second?.hash).toBe(auditHash({ seq: 43, prevHash: first!.hash, event: envelope }));
    });

    it('should refuse envelopes jsonb or JCS cannot hold', () => {
      expect(canonicalEnvelope({ s: 'a\u0000b' })).toMatchObject({ ok: false });
      expect(canonicalEnvelope({ s: '\ud800' })).toMatchObject({ ok: false });
      expect(canonicalEnvelope({ s: 'a\\u0000b' })).toMatchObject({ ok: true });
    });
  });

  describe('Given the application role', () => {
    it.each([
      ['UPDATE', `UPDATE audit_log SET event_type = 'x' WHERE seq = 1`],
      ['DELETE', `DELETE FROM audit_log WHERE seq = 1`],
      ['TRUNCATE', `TRUNCATE audit_log`],
    ])('should be refused %s', async (_op, sql) => {
      await expect(asAppRole(sql)).rejects.toThrow(/permission denied|append-only/);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 5 });
    });

    it('should be allowed to read and append only', async () => {
      const grants = await h.dataSource.query<{ privilege_type: string }[]>(
        `SELECT privilege_type FROM information_schema.role_table_grants
         WHERE grantee = 'bifrost_app' AND table_name = 'audit_log' ORDER BY 1`,
      );
      expect(grants.map((g) => g.privilege_type)).toEqual(['INSERT', 'SELECT']);
    });
  });

  describe('Given the table owner, a superuser, with the triggers in place', () => {
    it.each([
      ['UPDATE', `UPDATE audit_log SET event_type = 'x' WHERE seq = 1`],
      ['DELETE', `DELETE FROM audit_log WHERE seq = 1`],
      ['TRUNCATE', `TRUNCATE audit_log`],
    ])('should still be refused %s by the append-only trigger', async (_op, sql) => {
      await expect(h.dataSource.query(sql)).rejects.toThrow(/append-only/);
    });

    it.each([
      ['UPDATE', `UPDATE audit_log SET event_type = 'x' WHERE seq = 1`],
      ['DELETE', `DELETE FROM audit_log WHERE seq = 1`],
      ['TRUNCATE', `TRUNCATE audit_log`],
    ])(
      'should refuse %s in a session acting as a replica, where plain triggers do not fire',
      async (_op, sql) => {
        await expect(
          h.dataSource.transaction(async (tx) => {
            await tx.query(`SET LOCAL session_replication_role = replica`);
            await tx.query(sql);
          }),
        ).rejects.toThrow(/append-only/);
        await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 5 });
      },
    );
  });

  describe('Given a superuser who disabled the triggers', () => {
    it('should report the exact seq of an envelope changed by one byte', async () => {
      await tampered(
        `UPDATE audit_log SET envelope = jsonb_set(envelope, '{data,reason}', '"drawdowo"') WHERE seq = 4`,
        async () => {
          await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({
            ok: false,
            firstBadSeq: 4,
            reason: 'HASH_MISMATCH',
            count: 3,
          });
        },
      );
    });

    it.each([
      ['event_type', `SET event_type = 'gate.StrategyRegistered'`, 'event_type "gate.StrategyRegistered"'],
      ['event_id', `SET event_id = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51'`, 'event_id "0193a1b2-'],
      ['occurred_at', `SET occurred_at = occurred_at + interval '1 day'`, 'occurred_at "'],
      ['occurred_at by a microsecond', `SET occurred_at = occurred_at + interval '1 microsecond'`, '001Z"'],
    ])(
      'should report a row whose %s no longer copies its envelope, which filters rely on',
      async (_column, set, found) => {
        await tampered(`UPDATE audit_log ${set} WHERE seq = 4`, async () => {
          const result = await verifyAuditLog(h.dataSource);
          expect(result).toMatchObject({ ok: false, firstBadSeq: 4, reason: 'HASH_MISMATCH', count: 3 });
          expect(result).toHaveProperty('actual', expect.stringContaining(found));
        });
      },
    );

    it('should report a number changed to one a double cannot tell from the original', async () => {
      // pg reads jsonb with JSON.parse: 1.0000000000000000001 reads back as 1, which hashes as written.
      await tampered(
        `UPDATE audit_log SET envelope = jsonb_set(envelope, '{version}', '1.0000000000000000001') WHERE seq = 4`,
        async () => {
          await expect(verifyAuditLog(h.dataSource, { fetchSize: 2 })).resolves.toMatchObject({
            ok: false,
            firstBadSeq: 4,
            reason: 'HASH_MISMATCH',
            count: 3,
          });
        },
      );
    });

    it('should report the lower seq when two rows are swapped', async () => {
      await tampered(
        `UPDATE audit_log a SET envelope = b.envelope, prev_hash = b.prev_hash, hash = b.hash
         FROM audit_log b WHERE (a.seq, b.seq) IN ((2, 4), (4, 2))`,
        async () => {
          await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({
            ok: false,
            firstBadSeq: 2,
            reason: 'PREV_HASH_MISMATCH',
          });
        },
      );
    });

    it('should report a deleted row as a gap at its seq, from the command line too', async () => {
      await tampered(`DELETE FROM audit_log WHERE seq = 3`, async () => {
        const broken = await cli('verify', '--database-url', h.database.url);
        expect(broken.code).toBe(1);
        expect(broken.stdout).toContain('BROKEN at seq 3: GAP');
      });
      const intact = await cli('verify', '--database-url', h.database.url);
      expect(intact).toMatchObject({ code: 0 });
      expect(intact.stdout).toMatch(/intact: 5 rows, last seq 5, last hash [0-9a-f]{64}/);
    });

    it('should catch deleted newest rows only against an entry pinned from an earlier run', async () => {
      const [head] = await h.dataSource.query<{ hash: string }[]>(`SELECT hash FROM audit_log WHERE seq = 5`);
      const pin = `5:${head?.hash}`;
      expect(await cli('verify', '--database-url', h.database.url, '--expect', pin)).toMatchObject({
        code: 0,
      });
      // A hash copied from a tool that prints hex in upper case names the same entry.
      const upper = await cli('verify', '--database-url', h.database.url, '--expect', pin.toUpperCase());
      expect(upper).toMatchObject({ code: 0 });
      expect(upper.stdout).toContain(`last seq 5, last hash ${head?.hash}`);

      await tampered(`DELETE FROM audit_log WHERE seq >= 4`, async () => {
        // What is left is a valid chain: on its own, the table cannot tell.
        expect(await cli('verify', '--database-url', h.database.url)).toMatchObject({ code: 0 });
        const truncated = await cli('verify', '--database-url', h.database.url, '--expect', pin);
        expect(truncated.code).toBe(1);
        expect(truncated.stdout).toContain('expected entry 5 is missing (the log ends at seq 3)');
      });
      const wrong = await cli('verify', '--database-url', h.database.url, '--expect', `5:${'A'.repeat(64)}`);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain(
        `audit log BROKEN: the expected entry 5 is hashed ${head?.hash}, not ${'a'.repeat(64)}`,
      );
      expect(await cli('verify', '--database-url', h.database.url, '--expect', '5:nothex')).toMatchObject({
        code: 2,
      });
      // An unset shell variable (`--expect "$PIN"`) must not quietly verify without the entry.
      const empty = await cli('verify', '--database-url', h.database.url, '--expect', '');
      expect(empty).toMatchObject({ code: 2, stdout: '' });
    }, 30_000);

    it('should accept nothing for another namespace than the log was written for, and create nothing there', async () => {
      const typo = `${h.ns.namespace}typo`;
      const refused = await cli(
        'accept',
        '--database-url',
        h.database.url,
        '--nats-url',
        h.ns.natsUrl,
        '--namespace',
        typo,
        '--reason',
        'restored',
        '--operator',
        'op-1',
      );

      expect(refused).toMatchObject({ code: 2 });
      expect(refused.stderr).toContain('is the namespace right?');
      await expect(h.client.jsm.streams.info(createNaming(typo).streams.events.name)).rejects.toThrow();
    }, 30_000);

    it('should refuse words and options that belong to the other command, rather than ignore them', async () => {
      const url = ['--database-url', h.database.url];
      expect(await cli('verify', ...url)).toMatchObject({ code: 0 });
      expect(await cli('verify', ...url, 'accept')).toMatchObject({ code: 2 });
      expect(await cli('verify', ...url, '--reason', 'r', '--operator', 'o')).toMatchObject({ code: 2 });
      expect(
        await cli('accept', ...url, '--reason', 'r', '--operator', 'o', '--expect', `5:${'a'.repeat(64)}`),
      ).toMatchObject({ code: 2 });
    }, 30_000);
  });

  async function asAppRole(sql: string): Promise<void> {
    const runner = h.dataSource.createQueryRunner();
    try {
      await runner.query('SET ROLE bifrost_app');
      await runner.query(sql);
    } finally {
      await runner.query('RESET ROLE').catch(() => undefined);
      await runner.release();
    }
  }

  /** Runs `sql` with the triggers disabled, checks, then puts every row back as it was. */
  async function tampered(sql: string, check: () => Promise<void>): Promise<void> {
    const original = await h.dataSource.query(`SELECT * FROM audit_log ORDER BY seq`);
    await h.dataSource.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    try {
      await h.dataSource.query(sql);
      await check();
    } finally {
      await h.dataSource.query('DELETE FROM audit_log');
      for (const row of original) {
        await h.dataSource.query(
          `INSERT INTO audit_log (seq, event_id, event_type, stream, stream_seq, occurred_at, recorded_at, envelope, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            row.seq,
            row.event_id,
            row.event_type,
            row.stream,
            row.stream_seq,
            row.occurred_at,
            row.recorded_at,
            row.envelope,
            row.prev_hash,
            row.hash,
          ],
        );
      }
      await h.dataSource.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');
    }
  }

  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((done) => {
      execFile(
        'node',
        [resolve(ROOT, 'scripts/bifrost-audit.cjs'), ...args],
        // Anywhere, as a cron job runs it: not only from the repository's root.
        { cwd: tmpdir() },
        (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
  }
});
