import { compile } from './ajv';
import { Uuid } from './envelope';
import { factId } from './fact-id';

const KEY = '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b';

describe('the id of a fact sent with an Idempotency-Key', () => {
  it('should be a lowercase UUID v8 (RFC 9562 variant) the envelope schema takes', () => {
    const id = factId('engine-a', 'command', KEY);

    expect(compile(Uuid)(id).ok).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('should be the same for the same engine, kind and key (the example of docs/api.md)', () => {
    expect(factId('engine-a', 'command', KEY)).toBe(factId('engine-a', 'command', KEY));
    expect(factId('wholesale-bot', 'outcome', KEY)).toBe('14e413c2-cbd1-8995-a72b-5a3587f6bdc9');
  });

  it('should differ by engine, by kind and by key, and never be the key itself', () => {
    const ids = [
      factId('engine-a', 'command', KEY),
      factId('engine-b', 'command', KEY),
      factId('engine-a', 'incident', KEY),
      factId('engine-a', 'command', '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5c'),
      KEY,
    ];

    expect(new Set(ids).size).toBe(ids.length);
  });
});
