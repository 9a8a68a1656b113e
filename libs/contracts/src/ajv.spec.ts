import Ajv from 'ajv';
import { Type } from '@sinclair/typebox';
import { compile, forAjv } from './ajv';
import { ActorKind, isRealInstant, Timestamp } from './envelope';
import { LedgerEntry } from './messages/risk.messages';
import { object } from './schema';

const at = '2026-12-05T18:13:33.642Z';
const reservationId = '01a24769-4f4a-733e-bd01-6b8b2053ec91';
const actor = { kind: 'engine', id: 'e-1' };
const usd = (amount: number) => ({ amount, currency: 'USD' });

/** What TypeBox's `anyOf` accepts, checked by a plain Ajv: the reference for the tuned form. */
const plain = new Ajv({ strict: false }).addFormat('instant', { type: 'string', validate: isRealInstant });

describe('forAjv', () => {
  describe('Given a union of literals', () => {
    it('should become one enum', () => {
      expect(forAjv(ActorKind)).toEqual({ enum: ['engine', 'operator', 'system'] });
    });

    it('should accept and refuse exactly what the union does', () => {
      const tuned = compile(ActorKind);
      const reference = plain.compile(ActorKind);
      for (const value of ['engine', 'operator', 'system', 'Engine', '', 1, null, ['engine']])
        expect(tuned(value).ok).toBe(reference(value));
    });
  });

  describe('Given a union of objects told apart by a literal property', () => {
    const granted = {
      type: 'ReservationGranted',
      data: {
        reservationId,
        engineId: 'e-1',
        idempotencyKey: 'k-1',
        maxLoss: usd(100),
        exposure: usd(1_000),
        grantedAt: at,
        expiresAt: at,
        actor,
      },
    };
    const expired = { type: 'ReservationExpired', data: { reservationId, engineId: 'e-1', expiredAt: at } };

    it('should go straight to the branch its tag names', () => {
      expect(forAjv(LedgerEntry)).toMatchObject({
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: expect.arrayContaining([expect.objectContaining({ type: 'object' })]),
      });
    });

    it('should accept and refuse exactly what the union does', () => {
      const tuned = compile(LedgerEntry);
      const reference = plain.compile(LedgerEntry);
      const values = [
        granted,
        expired,
        { ...expired, type: 'ReservationGranted' },
        { ...granted, type: 'ReservationExpired' },
        { ...expired, type: 'ReservationVanished' },
        { data: expired.data },
        { ...expired, extra: true },
        { type: 7, data: {} },
        null,
      ];
      for (const value of values) expect(tuned(value).ok).toBe(reference(value));
    });

    it('should name the problem inside the branch its tag names', () => {
      const result = compile(LedgerEntry)({ ...expired, data: { ...expired.data, expiredAt: 'yesterday' } });
      expect(result).toEqual({
        ok: false,
        issues: [expect.objectContaining({ path: '/data/expiredAt' })],
      });
    });

    it('should refuse a tag no branch has', () => {
      expect(compile(LedgerEntry)({ ...expired, type: 'ReservationVanished' })).toMatchObject({
        ok: false,
        issues: [{ path: '/', message: 'value of tag "type" must be in oneOf' }],
      });
    });
  });

  describe('Given a union of bare types', () => {
    const union = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);

    it('should become one type list', () => {
      expect(forAjv(union)).toEqual({ type: ['number', 'string', 'boolean', 'null'] });
    });

    it('should accept and refuse exactly what the union does', () => {
      const tuned = compile(union);
      const reference = plain.compile(union);
      for (const value of [0, 1.5, '', 'L3', true, false, null, undefined, {}, [], [1]])
        expect(tuned(value).ok).toBe(reference(value));
    });

    it('should leave a union with a bounded branch as it is', () => {
      const bounded = Type.Union([Type.Number({ minimum: 0 }), Type.Null()]);
      expect(forAjv(bounded)).toEqual(JSON.parse(JSON.stringify(bounded)));
    });
  });

  describe('Given a union of objects without a tag of their own', () => {
    it('should leave it as it is', () => {
      const union = Type.Union([object({ a: Type.String() }), object({ b: Type.String() })]);
      expect(forAjv(union)).toEqual(JSON.parse(JSON.stringify(union)));
    });
  });
});

describe('compile', () => {
  describe('Given a number without bounds', () => {
    const check = compile(object({ value: Type.Number() }));

    it('should accept any finite number', () => {
      expect(check({ value: -1.5e300 })).toMatchObject({ ok: true });
    });

    // JSON.parse('1e400') is Infinity, which JSON.stringify writes as null: a value accepted here
    // would reach the stream as something its consumers refuse.
    it.each([Infinity, -Infinity, NaN])('should refuse %s', (value) => {
      expect(check({ value })).toMatchObject({ ok: false, issues: [{ path: '/value' }] });
    });
  });

  describe('Given a value that breaks an object schema', () => {
    const check = compile(
      object({ kind: Type.Union([Type.Literal('a'), Type.Literal('b')]), fixed: Type.Literal(1) }),
    );

    it('should name the property it does not allow and the values it does', () => {
      expect(check({ kind: 'c', fixed: 2, extra: true })).toEqual({
        ok: false,
        issues: [
          { path: '/', message: 'must NOT have the property "extra"' },
          { path: '/kind', message: 'must be one of "a", "b"' },
          { path: '/fixed', message: 'must be 1' },
        ],
      });
    });
  });

  describe('Given a Timestamp', () => {
    const check = compile(object({ at: Timestamp }));

    it('should take a time that exists, and refuse a day no month has or year 0000 with one message', () => {
      expect(check({ at: '2024-02-29T23:59:59.999Z' })).toMatchObject({ ok: true });
      for (const at of ['2026-02-30T00:00:00.000Z', '0000-06-01T00:00:00.000Z', '2026-11-21 20:42:55Z'])
        expect(check({ at })).toEqual({
          ok: false,
          issues: [
            {
              path: '/at',
              message: 'must be a time that exists, in UTC with milliseconds (2026-11-21T20:42:55.123Z)',
            },
          ],
        });
    });
  });
});
