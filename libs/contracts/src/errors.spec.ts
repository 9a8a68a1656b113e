import { nothingDecided } from './errors';

describe('nothingDecided', () => {
  it('should name the codes of a request that reached no one who could decide it', () => {
    for (const code of ['RPC.NO_RESPONDERS', 'INFRA.STATE_STALE', 'RISK.NOT_LEADER', 'RISK.NO_LEADER'])
      expect(nothingDecided(code)).toBe(true);
  });

  it('should not name a timeout, which may have been decided, or any other refusal', () => {
    for (const code of ['RPC.TIMEOUT', 'SDK.DEADLINE_EXCEEDED', 'INFRA.UNAVAILABLE', 'GATE.RECORD_FAILED'])
      expect(nothingDecided(code)).toBe(false);
  });
});
