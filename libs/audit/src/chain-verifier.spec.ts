import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ChainVerifier, verifyChain, type StoredAuditRow } from './chain-verifier';
import { auditHash, chain, chainRows, GENESIS_HASH, type AuditRow } from './hash-chain';
import { generatedEnvelope } from './audit-events.fixture';

describe('Audit chain verification', () => {
  describe('Given an intact chain', () => {
    it('should verify every row and report the last position', async () => {
      const rows = aChain(10);
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: true,
        count: 10,
        lastSeq: 10,
        lastHash: rows[9]?.hash,
      });
    });

    it('should verify an empty chain as genesis', async () => {
      await expect(verifyChain(stream([]))).resolves.toEqual({
        ok: true,
        count: 0,
        lastSeq: 0,
        lastHash: GENESIS_HASH,
      });
    });

    it('should accept seq as Postgres bigint text or as a bigint', async () => {
      const rows = aChain(3).map((row, i) => ({ ...row, seq: i === 1 ? String(row.seq) : BigInt(row.seq) }));
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({ ok: true, count: 3, lastSeq: 3 });
    });

    it('should accept a synchronous iterable', async () => {
      await expect(verifyChain(aChain(3))).resolves.toMatchObject({ ok: true, count: 3 });
    });

    it('should re-hash an envelope read back with its keys in another order', async () => {
      const rows = aChain(3).map((row) => ({ ...row, envelope: withKeysReversed(row.envelope) }));
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({ ok: true, count: 3 });
    });
  });

  describe('When one envelope byte is altered', () => {
    it('should report HASH_MISMATCH at that seq', async () => {
      const rows = aChain(10);
      const stored = rows[6] as AuditRow;
      const tampered = alterOneByte(stored.envelope);
      rows[6] = { ...stored, envelope: tampered };
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 7,
        reason: 'HASH_MISMATCH',
        expected: auditHash({ seq: 7, prevHash: stored.prevHash, event: tampered }),
        actual: stored.hash,
        count: 6,
      });
    });

    it('should report HASH_MISMATCH on the very first row too', async () => {
      const rows = aChain(3);
      rows[0] = { ...(rows[0] as AuditRow), envelope: alterOneByte(rows[0]?.envelope) };
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 1,
        reason: 'HASH_MISMATCH',
        count: 0,
      });
    });
  });

  describe('When a copy of an envelope field disagrees with its envelope', () => {
    const copiesOf = (envelope: unknown) => {
      const { id, type, occurredAt } = envelope as { id: string; type: string; occurredAt: string };
      return { id, type, occurredAt };
    };

    it('should verify rows whose copies agree', async () => {
      const rows = aChain(3).map((row) => ({ ...row, copies: copiesOf(row.envelope) }));
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({ ok: true, count: 3 });
    });

    it.each([
      ['type', 'gate.Other', 'event_type "gate.Other"'],
      ['id', 'another-id', 'event_id "another-id"'],
      ['occurredAt', '2030-01-01T00:00:00.000Z', 'occurred_at "2030-01-01T00:00:00.000Z"'],
    ] as const)('should report HASH_MISMATCH at that seq when %s differs', async (field, copy, actual) => {
      const rows: StoredAuditRow[] = aChain(5).map((row) => ({ ...row, copies: copiesOf(row.envelope) }));
      const stored = rows[2] as StoredAuditRow & { copies: Record<string, string> };
      rows[2] = { ...stored, copies: { ...copiesOf(stored.envelope), [field]: copy } };
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 3,
        reason: 'HASH_MISMATCH',
        expected: expect.stringContaining(`(the envelope's ${field})`),
        actual,
        count: 2,
      });
    });
  });

  describe('When the reader found the stored envelope differs from the value it hashed', () => {
    it('should report HASH_MISMATCH at that seq, though the hash matches', async () => {
      const rows: StoredAuditRow[] = aChain(5);
      rows[3] = { ...(rows[3] as StoredAuditRow), inexact: 'a number' };
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 4,
        reason: 'HASH_MISMATCH',
        expected: 'envelope stored exactly as hashed',
        actual: 'a number',
        count: 3,
      });
    });
  });

  describe('When a stored hash is altered', () => {
    it('should report HASH_MISMATCH at that seq', async () => {
      const rows = aChain(5);
      const stored = rows[4] as AuditRow;
      rows[4] = { ...stored, hash: flipLastHexDigit(stored.hash) };
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 5,
        reason: 'HASH_MISMATCH',
        expected: stored.hash,
        actual: flipLastHexDigit(stored.hash),
        count: 4,
      });
    });
  });

  describe('When two rows are swapped', () => {
    it('should report HASH_MISMATCH at the first when only their envelopes were swapped', async () => {
      const rows = aChain(10);
      const [fifth, sixth] = [rows[4] as AuditRow, rows[5] as AuditRow];
      rows[4] = { ...fifth, envelope: sixth.envelope };
      rows[5] = { ...sixth, envelope: fifth.envelope };
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 5,
        reason: 'HASH_MISMATCH',
        count: 4,
      });
    });

    it('should report PREV_HASH_MISMATCH at the first when whole rows were swapped under the same seqs', async () => {
      const rows = aChain(10);
      const [fifth, sixth] = [rows[4] as AuditRow, rows[5] as AuditRow];
      rows[4] = { ...sixth, seq: 5 };
      rows[5] = { ...fifth, seq: 6 };
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 5,
        reason: 'PREV_HASH_MISMATCH',
        expected: fifth.prevHash,
        actual: sixth.prevHash,
        count: 4,
      });
    });

    it('should report a GAP at the first when the rows arrive out of order', async () => {
      const rows = aChain(10);
      [rows[4], rows[5]] = [rows[5] as AuditRow, rows[4] as AuditRow];
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 5,
        reason: 'GAP',
        expected: '5',
        actual: '6',
        count: 4,
      });
    });
  });

  describe('When a row is missing', () => {
    it('should report a GAP at the missing seq', async () => {
      const rows = aChain(10);
      rows.splice(3, 1);
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 4,
        reason: 'GAP',
        expected: '4',
        actual: '5',
        count: 3,
      });
    });

    it('should report a GAP at 1 when the chain does not start at 1', async () => {
      await expect(verifyChain(stream(aChain(5).slice(1)))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 1,
        reason: 'GAP',
        expected: '1',
        actual: '2',
        count: 0,
      });
    });
  });

  describe('When a row is repeated', () => {
    it('should report a GAP at the seq after the repeated one', async () => {
      const rows = aChain(5);
      rows.splice(3, 0, rows[2] as AuditRow);
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 4,
        reason: 'GAP',
        expected: '4',
        actual: '3',
        count: 3,
      });
    });
  });

  describe('When a seq is not a positive integer', () => {
    it.each([['1.5'], ['abc'], [''], [0], [-1]])('should report a GAP for seq %p', async (seq) => {
      const rows: StoredAuditRow[] = aChain(2);
      rows[0] = { ...(rows[0] as AuditRow), seq };
      await expect(verifyChain(stream(rows))).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 1,
        reason: 'GAP',
        actual: String(seq),
      });
    });
  });

  describe('When a prevHash link is broken', () => {
    it('should report PREV_HASH_MISMATCH even when the row hash was recomputed to match', async () => {
      const rows = aChain(6);
      const stored = rows[3] as AuditRow;
      const forgedPrev = flipLastHexDigit(stored.prevHash);
      rows[3] = {
        ...stored,
        prevHash: forgedPrev,
        hash: auditHash({ seq: 4, prevHash: forgedPrev, event: stored.envelope }),
      };
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 4,
        reason: 'PREV_HASH_MISMATCH',
        expected: stored.prevHash,
        actual: forgedPrev,
        count: 3,
      });
    });
  });

  describe('When the first row does not start from genesis', () => {
    it('should report BAD_GENESIS at seq 1', async () => {
      const notGenesis = 'f'.repeat(64);
      const rows = chain([generatedEnvelope(1), generatedEnvelope(2)], 1, notGenesis);
      await expect(verifyChain(stream(rows))).resolves.toEqual({
        ok: false,
        firstBadSeq: 1,
        reason: 'BAD_GENESIS',
        expected: GENESIS_HASH,
        actual: notGenesis,
        count: 0,
      });
    });
  });

  describe('When an envelope cannot be canonicalised', () => {
    it('should report HASH_MISMATCH rather than throw', async () => {
      const rows = aChain(2);
      rows[1] = { ...(rows[1] as AuditRow), envelope: { data: { note: 'lone \ud800' } } };
      const result = await verifyChain(stream(rows));
      expect(result).toMatchObject({ ok: false, firstBadSeq: 2, reason: 'HASH_MISMATCH', count: 1 });
      expect(result.ok === false && result.expected).toMatch(/^unhashable envelope: .*lone surrogate/);
    });
  });

  describe('When the chain breaks early in a long stream', () => {
    it('should stop reading at the first bad row and close the source', async () => {
      const rows = aChain(20);
      rows[2] = { ...(rows[2] as AuditRow), hash: GENESIS_HASH };
      let read = 0;
      let closed = false;
      async function* source() {
        try {
          for (const row of rows) {
            read += 1;
            yield row;
          }
        } finally {
          closed = true;
        }
      }
      await expect(verifyChain(source())).resolves.toMatchObject({ ok: false, firstBadSeq: 3 });
      expect(read).toBe(3);
      expect(closed).toBe(true);
    });
  });

  describe('Given an entry the chain must hold (expect)', () => {
    it('should verify a chain that holds it, at its end or before', async () => {
      const rows = aChain(5);
      const at = (i: number) => ({ seq: i + 1, hash: (rows[i] as AuditRow).hash });
      await expect(verifyChain(stream(rows), { expect: at(4) })).resolves.toMatchObject({
        ok: true,
        count: 5,
      });
      await expect(verifyChain(stream(rows), { expect: at(1) })).resolves.toMatchObject({
        ok: true,
        count: 5,
      });
    });

    it('should report TRUNCATED where the rows start missing when the newest rows were deleted', async () => {
      const rows = aChain(5);
      const pinned = { seq: 5, hash: (rows[4] as AuditRow).hash };
      // On its own, what is left is a valid chain.
      await expect(verifyChain(stream(rows.slice(0, 3)))).resolves.toMatchObject({ ok: true, count: 3 });
      await expect(verifyChain(stream(rows.slice(0, 3)), { expect: pinned })).resolves.toEqual({
        ok: false,
        firstBadSeq: 4,
        reason: 'TRUNCATED',
        expected: '5',
        actual: '3',
        count: 3,
      });
      await expect(verifyChain(stream([]), { expect: pinned })).resolves.toMatchObject({
        ok: false,
        firstBadSeq: 1,
        reason: 'TRUNCATED',
        count: 0,
      });
    });

    it('should report REWRITTEN at its seq when the log was rewritten consistently before it', async () => {
      const rows = aChain(5);
      const pinned = { seq: 4, hash: (rows[3] as AuditRow).hash };
      // Rows 3 on replaced by other envelopes, each linked and hashed correctly.
      const forged = [
        ...rows.slice(0, 2),
        ...chain(
          [1, 2, 3].map((i) => generatedEnvelope(100 + i)),
          3,
          rows[1]?.hash,
        ),
      ];
      await expect(verifyChain(stream(forged))).resolves.toMatchObject({ ok: true, count: 5 });
      await expect(verifyChain(stream(forged), { expect: pinned })).resolves.toEqual({
        ok: false,
        firstBadSeq: 4,
        reason: 'REWRITTEN',
        expected: pinned.hash,
        actual: forged[3]?.hash,
        count: 3,
      });
    });

    it('should report a break before the entry as that break', async () => {
      const rows = aChain(5);
      const pinned = { seq: 5, hash: (rows[4] as AuditRow).hash };
      await expect(
        verifyChain(stream([...rows.slice(0, 2), ...rows.slice(3)]), { expect: pinned }),
      ).resolves.toMatchObject({ ok: false, firstBadSeq: 3, reason: 'GAP' });
    });

    it.each([[0], [4], [2.5]])('should refuse an entry at seq %p, not after the start (4)', (seq) => {
      expect(
        () =>
          new ChainVerifier({ after: { seq: 4, hash: GENESIS_HASH }, expect: { seq, hash: GENESIS_HASH } }),
      ).toThrow(RangeError);
    });
  });

  describe('ChainVerifier, pushed one row at a time', () => {
    it('should report the position after each intact row', () => {
      const rows = aChain(3);
      const verifier = new ChainVerifier();
      expect(verifier.result()).toEqual({ ok: true, count: 0, lastSeq: 0, lastHash: GENESIS_HASH });
      expect(verifier.push(rows[0] as AuditRow)).toBe(true);
      expect(verifier.push(rows[1] as AuditRow)).toBe(true);
      expect(verifier.result()).toEqual({ ok: true, count: 2, lastSeq: 2, lastHash: rows[1]?.hash });
    });

    it('should stay broken at the first break whatever comes next', () => {
      const rows = aChain(4);
      const verifier = new ChainVerifier();
      verifier.push(rows[0] as AuditRow);
      expect(verifier.push(rows[2] as AuditRow)).toBe(false);
      expect(verifier.push(rows[1] as AuditRow)).toBe(false);
      expect(verifier.push(rows[2] as AuditRow)).toBe(false);
      expect(verifier.result()).toMatchObject({ ok: false, firstBadSeq: 2, reason: 'GAP', count: 1 });
    });

    it('should resume after an already verified position', () => {
      const rows = aChain(6);
      const checkpoint = rows[3] as AuditRow;
      const verifier = new ChainVerifier({ after: { seq: checkpoint.seq, hash: checkpoint.hash } });
      expect(verifier.push(rows[4] as AuditRow)).toBe(true);
      expect(verifier.push(rows[5] as AuditRow)).toBe(true);
      expect(verifier.result()).toEqual({ ok: true, count: 2, lastSeq: 6, lastHash: rows[5]?.hash });
    });

    it('should report PREV_HASH_MISMATCH, not BAD_GENESIS, when resuming from the wrong hash', () => {
      const rows = aChain(6);
      const verifier = new ChainVerifier({ after: { seq: 4, hash: GENESIS_HASH } });
      expect(verifier.push(rows[4] as AuditRow)).toBe(false);
      expect(verifier.result()).toMatchObject({
        ok: false,
        firstBadSeq: 5,
        reason: 'PREV_HASH_MISMATCH',
        expected: GENESIS_HASH,
        actual: rows[3]?.hash,
      });
    });

    it.each([[-1], [1.5], [NaN]])('should refuse to start after seq %p', (seq) => {
      expect(() => new ChainVerifier({ after: { seq, hash: GENESIS_HASH } })).toThrow(RangeError);
    });
  });

  describe('Given a generated stream of 100 000 rows', () => {
    it('should verify it with flat memory, holding no array of rows', async () => {
      const total = 100_000;
      const gc = exposeGc();
      const heapSamples: number[] = [];
      async function* source() {
        let produced = 0;
        for (const row of chainRows(envelopes(total))) {
          if (produced % 10_000 === 1_000) {
            gc();
            heapSamples.push(process.memoryUsage().heapUsed);
          }
          produced += 1;
          yield row;
        }
      }

      const result = await verifyChain(source());

      expect(result).toMatchObject({ ok: true, count: total, lastSeq: total });
      expect(heapSamples).toHaveLength(10);
      // Each row is ~1.5 kB on the heap: keeping them would add > 100 MB; a few MB is noise.
      const growth = Math.max(...heapSamples) - (heapSamples[0] as number);
      expect(growth).toBeLessThan(8 * 1024 * 1024);
    }, 60_000);
  });
});

function aChain(length: number): AuditRow[] {
  return chain(envelopes(length));
}

function* envelopes(count: number) {
  for (let i = 1; i <= count; i++) yield generatedEnvelope(i);
}

async function* stream<T>(rows: readonly T[]): AsyncGenerator<T> {
  for (const row of rows) yield row;
}

// What a superuser with the trigger disabled could do: change one byte of the stored JSON text.
function alterOneByte(envelope: unknown): unknown {
  const text = JSON.stringify(envelope);
  const at = text.indexOf('"occurredAt":"') + '"occurredAt":"'.length + 3;
  const altered = text.slice(0, at) + (text[at] === '6' ? '7' : '6') + text.slice(at + 1);
  expect(altered).not.toBe(text);
  return JSON.parse(altered);
}

function flipLastHexDigit(hash: string): string {
  return hash.slice(0, -1) + (hash.endsWith('0') ? '1' : '0');
}

function withKeysReversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withKeysReversed);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, member]) => [key, withKeysReversed(member)]),
  );
}

// Jest does not pass --expose-gc; V8 lets a running process turn it on for new contexts.
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
