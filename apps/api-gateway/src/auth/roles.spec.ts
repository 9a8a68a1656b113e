import { actorOf, hasRole, OPERATOR_ROLES, type Role } from './roles';

describe('roles', () => {
  describe('operator roles', () => {
    it.each<[Role, Role, boolean]>([
      ['viewer', 'viewer', true],
      ['viewer', 'operator', false],
      ['operator', 'operator', true],
      ['operator', 'admin', false],
      ['admin', 'operator', true],
      ['admin', 'owner', false],
      ['owner', 'admin', true],
      ['owner', 'viewer', true],
    ])('should let %s reach %s routes: %s', (role, required, allowed) => {
      expect(hasRole(role, required)).toBe(allowed);
    });

    it('should never reach engine routes', () => {
      expect(OPERATOR_ROLES.filter((r) => hasRole(r, 'engine'))).toEqual([]);
    });
  });

  describe('the engine role', () => {
    it('should reach engine routes only', () => {
      expect(hasRole('engine', 'engine')).toBe(true);
      expect(OPERATOR_ROLES.filter((r) => hasRole('engine', r))).toEqual([]);
    });
  });

  describe('attribution', () => {
    it('should name an operator by key id and an engine by engine id', () => {
      expect(actorOf({ id: 'k1', role: 'admin', via: 'jwt' })).toEqual({ kind: 'operator', id: 'k1' });
      expect(actorOf({ id: 'k2', role: 'engine', engineId: 'bot', via: 'api-key' })).toEqual({
        kind: 'engine',
        id: 'bot',
      });
    });
  });
});
