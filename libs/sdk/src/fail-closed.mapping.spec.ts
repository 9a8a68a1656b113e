import { failClosedVerdict, toCheckVerdict, toReserveResult } from './fail-closed.mapping';
import { readReply } from './nats.transport';
import { problemOf } from './http.transport';
import { reserveReply, verdictReply } from './replies.fixtures';

describe('Fail-closed mapping of check replies', () => {
  describe('when the gate answered with a verdict', () => {
    it('should return it unchanged, marked not fail-closed, with the request id as a fail-closed one has', () => {
      const verdict = verdictReply({ action: 'REDUCE_SIZE', sizeMultiplier: 0.25 });

      expect(toCheckVerdict(request, { ok: true, data: verdict }, now)).toEqual({
        ...verdict,
        requestId: 'r-9',
        failClosed: false,
      });
    });

    it.each([
      ['another engine', { engineId: 'e2' }],
      ['another strategy', { strategyId: 's2' }],
    ])('should BLOCK a verdict for %s as a malformed reply', (_, other) => {
      const verdict = toCheckVerdict(
        request,
        { ok: true, data: verdictReply({ action: 'ALLOW', ...other }) },
        now,
      );

      expect(verdict).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.MALFORMED_REPLY',
        engineId: 'e1',
        strategyId: 's1',
      });
    });

    it('should BLOCK a verdict for another action as a malformed reply, and take the one for this action', () => {
      const sent = { ...request, actionHash: 'b'.repeat(64) };
      const other = verdictReply({ action: 'ALLOW', actionHash: 'c'.repeat(64) });
      const own = verdictReply({ action: 'ALLOW', actionHash: 'b'.repeat(64) });

      expect(toCheckVerdict(sent, { ok: true, data: other }, now)).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.MALFORMED_REPLY',
        reason: `the reply is a verdict for another action (actionHash ${'c'.repeat(64)}, not ${'b'.repeat(64)})`,
      });
      expect(toCheckVerdict(sent, { ok: true, data: own }, now)).toMatchObject({
        failClosed: false,
        action: 'ALLOW',
      });
    });

    it('should add no request id when the request had none', () => {
      const verdict = verdictReply({ action: 'ALLOW', sizeMultiplier: 1 });
      const { requestId: _none, ...withoutId } = request;

      expect(toCheckVerdict(withoutId, { ok: true, data: verdict }, now)).toEqual({
        ...verdict,
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
      ['the reply is not a verdict', 'SDK.MALFORMED_REPLY'],
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

    it('should leave requestId out when the request had none', () => {
      expect(failClosedVerdict({ engineId: 'e1', strategyId: 's1' }, 'X.Y', 'why', now)).not.toHaveProperty(
        'requestId',
      );
    });
  });
});

describe('Fail-closed mapping of reserve replies', () => {
  it('should return a risk decision unchanged, marked not fail-closed', () => {
    const decision = reserveReply({ outcome: 'DENIED', status: 'DENIED', reason: 'LIMIT_EXCEEDED' });

    expect(toReserveResult(reserve, { ok: true, data: decision }, now)).toEqual({
      ...decision,
      failClosed: false,
    });
  });

  it('should deny with reason UNAVAILABLE a decision for another engine, as a malformed reply', () => {
    const decision = reserveReply({ outcome: 'GRANTED', engineId: 'e2' });

    expect(toReserveResult(reserve, { ok: true, data: decision }, now)).toMatchObject({
      failClosed: true,
      outcome: 'DENIED',
      reason: 'UNAVAILABLE',
      code: 'SDK.MALFORMED_REPLY',
      engineId: 'e1',
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
