import { infraFailureCode, nothingDecided } from './errors';

describe('nothingDecided', () => {
  it('should name the codes of a request that reached no one who could decide it', () => {
    for (const code of [
      'RPC.NO_RESPONDERS',
      'INFRA.STATE_STALE',
      'INFRA.CONNECTION_CLOSED',
      'RISK.NOT_LEADER',
      'RISK.NO_LEADER',
    ])
      expect(nothingDecided(code)).toBe(true);
  });

  it('should not name a timeout, which may have been decided, or any other refusal', () => {
    for (const code of ['RPC.TIMEOUT', 'SDK.DEADLINE_EXCEEDED', 'INFRA.UNAVAILABLE', 'GATE.RECORD_FAILED'])
      expect(nothingDecided(code)).toBe(false);
  });
});

describe('infraFailureCode', () => {
  it('should name what nothingDecided names, a timeout, an unavailable dependency and a lost race', () => {
    for (const code of [
      'RPC.NO_RESPONDERS',
      'RISK.NO_LEADER',
      'RPC.TIMEOUT',
      'INFRA.UNAVAILABLE',
      'INFRA.STATE_STALE',
      'CONCURRENCY.CONFLICT',
    ])
      expect(infraFailureCode(code)).toBe(true);
  });

  it('should not name a refusal of the request itself', () => {
    for (const code of ['RISK.POLICY_UNKNOWN', 'VALIDATION.FAILED', 'STATE.ILLEGAL', 'GATE.RECORD_FAILED'])
      expect(infraFailureCode(code)).toBe(false);
  });
});
