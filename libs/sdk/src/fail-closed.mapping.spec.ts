import { failClosedVerdict, toCheckVerdict, toReserveResult } from './fail-closed.mapping';
import { readReply } from './nats.transport';
import { problemOf } from './http.transport';

describe('Fail-closed mapping of check replies', () => {
  describe('when the gate answered with a verdict', () => {
    it('should return it unchanged, marked not fail-closed', () => {
      expect(toCheckVerdict(request, { ok: true, data: verdictFixture() }, now)).toEqual({
        ...verdictFixture(),
        failClosed: false,
      });
    });
  });

  describe('when there is no verdict', () => {
    it.each([
      ['the deadline passed', 'SDK.DEADLINE_EXCEEDED'],
      ['the transport is down', 'SDK.DISCONNECTED'],
      ['no gate runs', 'SDK.SERVICE_UNAVAILABLE'],
      ['the gate refused the request', 'RPC.VALIDATION_FAILED'],
    ])('should BLOCK with size 0 when %s, keeping the code', (reason, code) => {
      const verdict = toCheckVerdict(request, { ok: false, code, message: reason }, now);

      expect(verdict).toEqual({
        failClosed: true,
        action: 'BLOCK',
        sizeMultiplier: 0,
        reason,
        code,
        engineId: 'e1',
        strategyId: 's1',
        requestId: 'r-9',
        decidedAt: '2026-11-21T20:00:00.000Z',
        checks: [
          {
            name: 'sdk.failClosed',
            outcome: 'BLOCK',
            value: code,
            threshold: null,
            distanceToTrip: null,
            reason,
          },
        ],
      });
    });

    it.each([
      ['null', null],
      ['an unknown action', { ...verdictFixture(), action: 'MAYBE' }],
      ['no size multiplier', { ...verdictFixture(), sizeMultiplier: undefined }],
      ['a string', 'ALLOW'],
    ])('should BLOCK when the reply data is %s', (_what, data) => {
      expect(toCheckVerdict(request, { ok: true, data }, now)).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.MALFORMED_REPLY',
      });
    });

    it('should leave requestId out when the request had none', () => {
      expect(failClosedVerdict({ engineId: 'e1', strategyId: 's1' }, 'X.Y', 'why', now)).not.toHaveProperty(
        'requestId',
      );
    });
  });
});

describe('Fail-closed mapping of reserve replies', () => {
  it('should return a risk decision unchanged, marked not fail-closed', () => {
    const decision = { reservationId: 'r', outcome: 'DENIED', reason: 'LIMIT_EXCEEDED', replayed: false };

    expect(toReserveResult(reserve, { ok: true, data: decision }, now)).toEqual({
      ...decision,
      failClosed: false,
    });
  });

  it('should deny with reason UNAVAILABLE when there is no decision', () => {
    expect(
      toReserveResult(reserve, { ok: false, code: 'SDK.DEADLINE_EXCEEDED', message: 'late' }, now),
    ).toEqual({
      failClosed: true,
      outcome: 'DENIED',
      reason: 'UNAVAILABLE',
      code: 'SDK.DEADLINE_EXCEEDED',
      message: 'late',
      engineId: 'e1',
      idempotencyKey: 'k-1',
      decidedAt: '2026-11-21T20:00:00.000Z',
    });
  });

  it('should deny with reason UNAVAILABLE when the reply is no reservation decision', () => {
    expect(toReserveResult(reserve, { ok: true, data: { outcome: 'GRANTED' } }, now)).toMatchObject({
      failClosed: true,
      outcome: 'DENIED',
      reason: 'UNAVAILABLE',
      code: 'SDK.MALFORMED_REPLY',
    });
  });
});

describe('Reading replies', () => {
  describe('over NATS', () => {
    it('should read ok and error replies', () => {
      expect(readReply('{"ok":true,"data":{"a":1}}')).toEqual({ ok: true, data: { a: 1 } });
      expect(readReply('{"ok":false,"error":{"code":"RISK.X","message":"no"}}')).toEqual({
        ok: false,
        code: 'RISK.X',
        message: 'no',
      });
    });

    it.each(['not json', '{"data":1}', '{"ok":false}', 'null'])('should call %p malformed', (text) => {
      expect(readReply(text)).toMatchObject({ ok: false, code: 'SDK.MALFORMED_REPLY' });
    });
  });

  describe('over HTTP (problem+json)', () => {
    it('should prefer the code extension member and the detail', () => {
      expect(
        problemOf(409, { title: 'Conflict', detail: 'closed', code: 'RISK.RESERVATION_CLOSED' }),
      ).toEqual({
        code: 'RISK.RESERVATION_CLOSED',
        message: 'closed',
      });
    });

    it('should derive a code from the status otherwise', () => {
      expect(
        problemOf(503, { type: 'https://bifrost.dev/problems/gate-unavailable', title: 'Gate down' }),
      ).toEqual({
        code: 'SDK.SERVICE_UNAVAILABLE',
        message: 'Gate down',
      });
      expect(problemOf(429, undefined)).toEqual({ code: 'SDK.RATE_LIMITED', message: 'HTTP 429' });
      expect(problemOf(403, { title: 'Forbidden' })).toEqual({ code: 'HTTP.403', message: 'Forbidden' });
    });
  });
});

const now = Date.parse('2026-11-21T20:00:00.000Z');
const request = { engineId: 'e1', strategyId: 's1', requestId: 'r-9' };
const reserve = { engineId: 'e1', idempotencyKey: 'k-1' };
function verdictFixture() {
  return {
    decisionId: '01937b4e-0000-7000-8000-000000000000',
    policyRevision: 'abc',
    action: 'REDUCE_SIZE',
    sizeMultiplier: 0.25,
    riskLevel: 'LOW',
    checks: [],
    mode: 'enforce',
    decidedAt: '2026-11-21T20:00:00.000Z',
    engineId: 'e1',
    strategyId: 's1',
    actionHash: 'a'.repeat(64),
  };
}
