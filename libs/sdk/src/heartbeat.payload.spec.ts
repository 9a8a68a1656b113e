import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { heartbeatFields, SDK_IDENTITY, type HeartbeatState } from './heartbeat.payload';

describe('Heartbeat payload', () => {
  describe('When nothing is known yet (no verdict, no session count)', () => {
    it('should carry the SDK and its uptime only', () => {
      expect(heartbeatFields(state({ nowMs: started + 12_999 }))).toEqual({
        sdk: SDK_IDENTITY,
        uptimeS: 12,
      });
    });
  });

  describe('When the engine got a verdict and counts its sessions', () => {
    it('should carry the verdict’s policy revision and the count', () => {
      expect(heartbeatFields(state({ policyRevision: 'a'.repeat(64), activeSessions: 3 }))).toMatchObject({
        policyRevision: 'a'.repeat(64),
        activeSessions: 3,
      });
    });

    it('should carry a count of zero (no session open is news too)', () => {
      expect(heartbeatFields(state({ activeSessions: 0 }))).toMatchObject({ activeSessions: 0 });
    });
  });

  describe('When a value does not fit the heartbeat contract', () => {
    it.each([
      ['an empty revision', { policyRevision: '' }],
      ['a revision beyond 200 characters', { policyRevision: 'r'.repeat(201) }],
      ['a negative count', { activeSessions: -1 }],
      ['a fractional count', { activeSessions: 1.5 }],
      ['a count that is not a number', { activeSessions: Number.NaN }],
    ])('should leave out %s rather than make the heartbeat invalid', (_what, given) => {
      expect(heartbeatFields(state(given))).toEqual({ sdk: SDK_IDENTITY, uptimeS: 0 });
    });
  });

  describe('the interval', () => {
    it('should declare one other than the default, for the canary to allow three of it', () => {
      expect(heartbeatFields(state({ intervalMs: 100 }))).toMatchObject({ intervalMs: 100 });
    });

    it('should not declare the default one', () => {
      expect(heartbeatFields(state({ intervalMs: 10_000 }))).not.toHaveProperty('intervalMs');
    });
  });

  it('should name the SDK with the version of its package', () => {
    const { name, version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(SDK_IDENTITY).toBe(`${name}@${version}`);
  });
});

const started = Date.parse('2026-11-21T20:00:00.000Z');

function state(overrides: Partial<HeartbeatState> = {}): HeartbeatState {
  return {
    startedAtMs: started,
    nowMs: started,
    intervalMs: 10_000,
    defaultIntervalMs: 10_000,
    policyRevision: undefined,
    activeSessions: undefined,
    ...overrides,
  };
}
