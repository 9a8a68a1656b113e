import { canonicalize } from './canonical-json';
import { actionHash, auditHash, chain, chainRows, GENESIS_HASH, sha256Hex } from './hash-chain';
import { capacityReserved, killSwitchEngaged, maturityPromoted } from './audit-events.fixture';

// Expected hashes derived once, independently of this code, with Python's json + hashlib:
//   import hashlib, json
//   prev = "0" * 64
//   for seq, event in enumerate([kill_switch_engaged, capacity_reserved, maturity_promoted], 1):
//       text = json.dumps({"seq": seq, "prevHash": prev, "event": event},
//                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//       prev = hashlib.sha256(text.encode("utf-8")).hexdigest(); print(seq, prev)
// (the three events are those of audit-events.fixture.ts, written as Python dicts; ASCII keys
// and plain numbers, where Python's json and JCS agree).
const HASH_1 = '82a55f3e019c3849595016f213cf956b67cbbc0e54112922220913cd8f882353';
const HASH_2 = 'a27876927d35d5700e6b8bdffc942ee132e904e827150becfc3cdb4043f80544';
const HASH_3 = '73b1c142bdbdbb2c44e6c8428508d61fd4db7b5f7b710f919068e681ce9f6fbf';

describe('The audit hash chain', () => {
  describe('sha256Hex', () => {
    it('should hash the empty string to the well-known SHA-256 digest', () => {
      expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });

    it('should hash the UTF-8 bytes of non-ASCII text', () => {
      // python3 -c 'import hashlib; print(hashlib.sha256("péché €😂".encode()).hexdigest())'
      expect(sha256Hex('péché €😂')).toBe('dc25c83a6d3cf5825841f0a68067e8f737c3b7ccb0232477a7e7c277cac37bdb');
    });
  });

  describe('GENESIS_HASH', () => {
    it('should be 64 zeros', () => {
      expect(GENESIS_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
    });
  });

  describe('Given a known sequence of three envelopes', () => {
    const events = [killSwitchEngaged, capacityReserved, maturityPromoted];

    it('should hash the canonical JSON of { seq, prevHash, event }', () => {
      expect(canonicalize({ seq: 1, prevHash: GENESIS_HASH, event: killSwitchEngaged })).toBe(
        '{"event":{"actor":{"id":"op-7","kind":"operator"},"correlationId":"corr-1",' +
          '"data":{"hard":false,"reason":"drawdown","scope":"global"},' +
          '"id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51","occurredAt":"2026-11-21T20:42:55.123Z",' +
          '"source":"gate","subject":"bifrost.evt.gate.control.global",' +
          '"type":"gate.KillSwitchEngaged","version":1},' +
          '"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","seq":1}',
      );
    });

    it('should produce the hashes computed by hand', () => {
      expect(chain(events)).toEqual([
        { seq: 1, prevHash: GENESIS_HASH, hash: HASH_1, envelope: killSwitchEngaged },
        { seq: 2, prevHash: HASH_1, hash: HASH_2, envelope: capacityReserved },
        { seq: 3, prevHash: HASH_2, hash: HASH_3, envelope: maturityPromoted },
      ]);
    });

    it('should continue an existing chain from a given seq and prevHash', () => {
      expect(chain([maturityPromoted], 3, HASH_2)).toEqual([
        { seq: 3, prevHash: HASH_2, hash: HASH_3, envelope: maturityPromoted },
      ]);
    });

    it('should not depend on the key order of the stored envelope', () => {
      const reordered = withKeysReversed(capacityReserved);
      expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(capacityReserved));
      expect(auditHash({ seq: 2, prevHash: HASH_1, event: reordered })).toBe(HASH_2);
    });

    it('should change when the seq, the prevHash or one envelope byte changes', () => {
      const base = { seq: 2, prevHash: HASH_1, event: capacityReserved };
      expect(auditHash({ ...base, seq: 3 })).not.toBe(HASH_2);
      expect(auditHash({ ...base, prevHash: GENESIS_HASH })).not.toBe(HASH_2);
      expect(auditHash({ ...base, event: { ...capacityReserved, version: 2 } })).not.toBe(HASH_2);
    });
  });

  describe('auditHash', () => {
    it.each([['2'], [2n], [2]])('should accept seq %p as the JSON number 2', (seq) => {
      expect(auditHash({ seq, prevHash: HASH_1, event: capacityReserved })).toBe(HASH_2);
    });

    it.each([[0], [-1], [1.5], [NaN], [2 ** 53], ['01'], ['1e3'], [' 2'], [''], [0n], [2n ** 64n]])(
      'should reject seq %p',
      (seq) => {
        expect(() => auditHash({ seq, prevHash: GENESIS_HASH, event: killSwitchEngaged })).toThrow(
          RangeError,
        );
      },
    );

    it('should accept the largest safe seq', () => {
      expect(auditHash({ seq: Number.MAX_SAFE_INTEGER, prevHash: GENESIS_HASH, event: {} })).toMatch(
        /^[0-9a-f]{64}$/,
      );
    });

    it('should refuse an envelope JSON cannot represent', () => {
      expect(() => auditHash({ seq: 1, prevHash: GENESIS_HASH, event: { data: { pnl: NaN } } })).toThrow(
        TypeError,
      );
    });
  });

  describe('actionHash', () => {
    // python3: json.dumps(action, sort_keys=True, separators=(",", ":"), ensure_ascii=False) → sha256
    it('should hash the canonical JSON of the action', () => {
      expect(actionHash(anAction())).toBe('b82f00df40d08083dcec3c8edfff606db5f6e078b7fc500b8d6b0423bfeccdbc');
    });

    it('should bind the exact action: any change gives another hash', () => {
      expect(actionHash({ ...anAction(), notional: { amount: 125001, currency: 'USD' } })).not.toBe(
        actionHash(anAction()),
      );
    });
  });

  describe('chainRows', () => {
    it('should link lazily, pulling envelopes only as rows are read', () => {
      let pulled = 0;
      function* endless() {
        for (;;) {
          pulled += 1;
          yield { n: pulled };
        }
      }
      const rows = chainRows(endless());
      const first = rows.next().value;
      const second = rows.next().value;
      expect(pulled).toBe(2);
      expect(second).toMatchObject({ seq: 2, prevHash: first?.hash });
    });

    it('should yield nothing for no envelopes', () => {
      expect(chain([])).toEqual([]);
    });
  });
});

function anAction() {
  return {
    engineId: 'eng-1',
    strategyId: 's-123',
    intent: 'open',
    symbol: 'BTC-USD',
    notional: { amount: 125000, currency: 'USD' },
  };
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
