/** Operator roles, least privileged first; `engine` stands apart and reaches only engine routes. */
export const OPERATOR_ROLES = ['viewer', 'operator', 'admin', 'owner'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
export const ROLES = [...OPERATOR_ROLES, 'engine'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by the auth guard. */
export interface Principal {
  /** The API key id: the identity events are attributed to (`actor.id`). */
  readonly id: string;
  readonly role: Role;
  /** Set for engine keys: the only engine this principal may act for. */
  readonly engineId?: string;
  readonly via: 'api-key' | 'jwt';
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Whether `role` satisfies a route's `required` role: the engine role only matches engine
 * routes, operator roles match any route at or below their rank.
 */
export function hasRole(role: Role, required: Role): boolean {
  if (required === 'engine' || role === 'engine') return role === required;
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(required);
}

/**
 * The actor recorded on the events a principal causes: an operator by key id, an engine by its
 * engine id (what the services check engine facts against).
 */
export function actorOf(principal: Principal): { kind: 'operator' | 'engine'; id: string } {
  return principal.role === 'engine'
    ? { kind: 'engine', id: principal.engineId ?? principal.id }
    : { kind: 'operator', id: principal.id };
}
