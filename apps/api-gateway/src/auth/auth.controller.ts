import { object, literals } from '@bifrost/contracts';
import { Body, Header, Inject } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { ApiController, CurrentPrincipal, Route } from '../http/route';
import { AuthService } from './auth.service';
import { ROLES, type Principal } from './roles';

const RoleSchema = literals(ROLES);

const TokenPairSchema = object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds' }),
  refreshToken: Type.String(),
  refreshExpiresIn: Type.Integer({
    description: 'seconds; less than the refresh token TTL when the session ends sooner',
  }),
  principal: object({ id: Type.String(), role: Type.String() }),
});
const TokenRequest = object({ apiKey: Type.String({ minLength: 1, maxLength: 500 }) });
const RefreshRequest = object({ refreshToken: Type.String({ minLength: 1, maxLength: 500 }) });
const PrincipalSchema = object({
  id: Type.String(),
  role: RoleSchema,
  engineId: Type.Optional(Type.String()),
  via: Type.Union([Type.Literal('api-key'), Type.Literal('jwt')]),
});

const PAIR_EXAMPLE = {
  tokenType: 'Bearer',
  accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzZjlhMWMyYjdkNGU1ZjYwIn0.c2lnbmF0dXJl',
  expiresIn: 900,
  refreshToken: 'bfr_Q2hhbmdlTWVQbGVhc2VUaGlzSXNKdXN0QW5FeGFtcGxl',
  refreshExpiresIn: 604800,
  principal: { id: '3f9a1c2b7d4e5f60', role: 'operator' },
};

/** Operator sessions: an API key buys a short-lived access token and a rotating refresh token. */
@ApiController('auth', 'auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Route({
    method: 'POST',
    path: 'token',
    summary: 'Exchange an operator API key for an access token (Bearer) and a refresh token',
    access: 'public',
    body: TokenRequest,
    response: TokenPairSchema,
    example: { body: { apiKey: 'bfk_3f9a1c2b7d4e5f60_…' }, response: PAIR_EXAMPLE },
    refusals: {
      401: 'The API key is unknown, revoked or expired',
      403: 'An engine key: engines authenticate with their key on every call, not with tokens',
    },
  })
  @Header('cache-control', 'no-store')
  token(@Body() body: { apiKey: string }) {
    return this.auth.issue(body.apiKey, new Date());
  }

  @Route({
    method: 'POST',
    path: 'refresh',
    summary: 'Spend a refresh token for a new pair (each refresh token works once; reuse revokes them all)',
    access: 'public',
    body: RefreshRequest,
    response: TokenPairSchema,
    example: { body: { refreshToken: PAIR_EXAMPLE.refreshToken }, response: PAIR_EXAMPLE },
    refusals: {
      401: 'The refresh token is unknown, spent, expired or revoked, or its key is; or its session is older than GATEWAY_SESSION_MAX_AGE_SECONDS (AUTH.SESSION_EXPIRED)',
    },
  })
  @Header('cache-control', 'no-store')
  refresh(@Body() body: { refreshToken: string }) {
    return this.auth.refresh(body.refreshToken, new Date());
  }

  @Route({
    method: 'GET',
    path: 'me',
    summary: 'Who the credential stands for',
    access: 'any',
    response: PrincipalSchema,
    example: { response: { id: '3f9a1c2b7d4e5f60', role: 'operator', via: 'jwt' } },
  })
  me(@CurrentPrincipal() principal: Principal) {
    return principal;
  }
}
