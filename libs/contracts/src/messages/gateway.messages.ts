import { Type } from '@sinclair/typebox';
import { Timestamp } from '../envelope';
import { defineMessage } from '../registry';
import { EntityId } from '../verdict';
import { literals, object, idPattern } from '../schema';

/** Who may do what through the API gateway (docs/api.md): the operator ranks, then engines. */
export const API_KEY_ROLES = ['viewer', 'operator', 'admin', 'owner', 'engine'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** Key ids are the gateway's: 16 hex digits, or `bootstrap-owner`. */
const KeyId = Type.String({ pattern: idPattern('^[a-z0-9-]{1,64}$'), examples: ['3f9a1c0de4b27a55'] });

/** An API key came into being: who made it (the envelope's actor), for which role and engine. */
export const ApiKeyCreated = defineMessage({
  type: 'gateway.ApiKeyCreated',
  version: 1,
  kind: 'event',
  producer: 'api-gateway',
  consumers: ['projector'],
  subject: 'bifrost.evt.gateway.key.{keyId}',
  description:
    'An API key was created (by an admin or owner, or from GATEWAY_BOOTSTRAP_OWNER_KEY at start); never its secret.',
  data: object({
    keyId: KeyId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: literals(API_KEY_ROLES),
    engineId: Type.Optional(EntityId),
    expiresAt: Type.Optional(Timestamp),
  }),
});

/** An API key was revoked: its tokens and refresh tokens end with it. */
export const ApiKeyRevoked = defineMessage({
  type: 'gateway.ApiKeyRevoked',
  version: 1,
  kind: 'event',
  producer: 'api-gateway',
  consumers: ['projector'],
  subject: 'bifrost.evt.gateway.key.{keyId}',
  description: 'An API key was revoked by an admin or owner (the envelope actor); its sessions end.',
  data: object({ keyId: KeyId, role: literals(API_KEY_ROLES) }),
});

export const gatewayMessages = [ApiKeyCreated, ApiKeyRevoked];
