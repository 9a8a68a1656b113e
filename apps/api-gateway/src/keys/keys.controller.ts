import { Body, Header, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import { EntityId, InputText, Timestamp, object } from '@bifrost/contracts';
import { KeyStore } from '../auth/key-store.service';
import { ROLES, type Principal } from '../auth/roles';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

const KeyView = object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  engineId: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  revokedAt: Type.Optional(Type.String()),
  revokedBy: Type.Optional(Type.String()),
});
const CreateKeyBody = object({
  /** Shown to operators and in the audit log: no control characters or bidi overrides. */
  name: InputText(200),
  role: RoleSchema,
  /** Required for engine keys, refused for the others. */
  engineId: Type.Optional(EntityId),
  expiresAt: Type.Optional(Timestamp),
});
const KeyParams = object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const VIEW_EXAMPLE = {
  id: '3f9a1c2b7d4e5f60',
  name: 'wholesale-bot production',
  role: 'engine',
  engineId: 'wholesale-bot',
  createdBy: 'bootstrap-owner',
  createdAt: '2026-11-21T20:42:55.123Z',
};

/** API keys (admins manage keys up to admin, owners every key); the secret is shown only at creation. */
@ApiController('keys', 'keys')
export class KeysController {
  constructor(@Inject(KeyStore) private readonly keys: KeyStore) {}

  @Route({
    method: 'POST',
    path: '',
    summary: 'Create an API key; the response carries the secret, which is never shown again',
    access: 'admin',
    body: CreateKeyBody,
    response: Type.Composite([KeyView, object({ apiKey: Type.String() })]),
    status: 201,
    example: {
      body: { name: 'wholesale-bot production', role: 'engine', engineId: 'wholesale-bot' },
      response: { ...VIEW_EXAMPLE, apiKey: 'bfk_3f9a1c2b7d4e5f60_…' },
    },
  })
  // The secret is in the response: no cache along the way may keep it (RFC 6749 §5.1 asks the same of tokens).
  @Header('cache-control', 'no-store')
  async create(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof CreateKeyBody>) {
    const { key, apiKey } = await this.keys.create(body, p, new Date());
    return { ...key, apiKey };
  }

  @Route({
    method: 'GET',
    path: '',
    summary: 'List API keys (without secrets)',
    access: 'admin',
    response: object({ keys: Type.Array(KeyView) }),
    example: { response: { keys: [VIEW_EXAMPLE] } },
  })
  async list() {
    return { keys: await this.keys.list() };
  }

  @Route({
    method: 'DELETE',
    path: ':id',
    summary: 'Revoke an API key and its refresh tokens (its access tokens stop within the key cache time)',
    access: 'admin',
    params: KeyParams,
    response: KeyView,
    example: {
      response: { ...VIEW_EXAMPLE, revokedAt: '2026-11-22T08:00:00.000Z', revokedBy: 'bootstrap-owner' },
    },
  })
  revoke(@CurrentPrincipal() p: Principal, @ValidParams() params: Static<typeof KeyParams>) {
    return this.keys.revoke(params.id, p, new Date());
  }
}
