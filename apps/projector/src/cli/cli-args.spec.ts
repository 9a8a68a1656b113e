import { pinnedEntry } from './cli-args';

const HASH = '82a55f3e019c3849595016f213cf956b67cbbc0e54112922220913cd8f882353';

describe('bifrost-audit verify --expect <seq>:<hash>', () => {
  describe('pinnedEntry', () => {
    it('should take a lowercase hash as it is', () => {
      expect(pinnedEntry(`43:${HASH}`)).toEqual({ seq: 43, hash: HASH });
    });

    it('should take an uppercase or mixed-case hash and lowercase it, as the audit log stores it', () => {
      expect(pinnedEntry(`43:${HASH.toUpperCase()}`)).toEqual({ seq: 43, hash: HASH });
      expect(pinnedEntry(`43:${HASH.slice(0, 32).toUpperCase()}${HASH.slice(32)}`)).toEqual({
        seq: 43,
        hash: HASH,
      });
    });

    it('should refuse what is not a positive seq and 64 hex digits', () => {
      expect(pinnedEntry(`0:${HASH}`)).toBeUndefined();
      expect(pinnedEntry(`043:${HASH}`)).toBeUndefined();
      expect(pinnedEntry(`-1:${HASH}`)).toBeUndefined();
      expect(pinnedEntry(HASH)).toBeUndefined();
      expect(pinnedEntry(`43:${HASH.slice(1)}`)).toBeUndefined();
      expect(pinnedEntry(`43:${HASH}0`)).toBeUndefined();
      expect(pinnedEntry(`43:${HASH.slice(1)}g`)).toBeUndefined();
      expect(pinnedEntry('5:nothex')).toBeUndefined();
      expect(pinnedEntry(`9007199254740993:${HASH}`)).toBeUndefined();
    });
  });
});
