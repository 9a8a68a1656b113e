import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '@bifrost/event-sourcing';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { signJwt, verifyJwt } from './jwt';
import { KeyStore, principalOf, type IssuedRefreshToken } from './key-store.service';
import type { Principal } from './roles';

/** How far the clocks of two gateway instances may disagree about a key's creation and a token's issue. */
const CLOCK_SLACK_S = 60;

export const TOKEN_ISSUER = 'bifrost-api-gateway';

export interface TokenPair {
  readonly tokenType: 'Bearer';
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
  readonly principal: { id: string; role: string };
}

/** Who is calling: a Bearer access token or an X-Api-Key, checked against the key store. */
@Injectable()
export class AuthService {
  constructor(
    @Inject(KeyStore) private readonly keys: KeyStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * The principal of a request, or undefined when it carries no credential at all. Bad credentials
   * throw 401. `chargeLookup`: see {@link KeyStore.authenticateKey}.
   */
  async authenticate(
    headers: Record<string, string | string[] | undefined>,
    now: Date,
    chargeLookup?: () => void,
  ): Promise<Principal | undefined> {
    const authorization = single(headers['authorization']);
    const apiKey = single(headers['x-api-key']);
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match?.[1]) throw new UnauthorizedError('Authorization must be "Bearer <access token>"');
      return this.fromAccessToken(match[1], now);
    }
    if (apiKey !== undefined) {
      const principal = await this.keys.authenticateKey(apiKey, now.getTime(), chargeLookup);
      if (!principal) throw new UnauthorizedError('unknown, revoked or expired API key');
      return principal;
    }
    return undefined;
  }

  /** Exchanges an operator's API key for an access token and a refresh token. */
  async issue(apiKey: string, now: Date): Promise<TokenPair> {
    const principal = await this.keys.authenticateKey(apiKey, now.getTime());
    if (!principal) throw new UnauthorizedError('unknown, revoked or expired API key');
    if (principal.role === 'engine') {
      throw new ForbiddenError(
        'engine keys call the engine endpoints with X-Api-Key; tokens are for operators',
        {
          code: 'AUTH.FORBIDDEN',
        },
      );
    }
    return this.pair(principal, now);
  }

  /** Rotates a refresh token into a new pair, within the session's maximum age. */
  async refresh(refreshToken: string, now: Date): Promise<TokenPair> {
    const rotated = await this.keys.rotateRefreshToken(refreshToken, now);
    if (!rotated.ok && rotated.reason === 'SESSION_EXPIRED') {
      throw new UnauthorizedError(
        `the session is older than ${this.config.GATEWAY_SESSION_MAX_AGE_SECONDS} s: sign in again with the API key`,
        { code: 'AUTH.SESSION_EXPIRED' },
      );
    }
    const key = rotated.ok ? await this.keys.activeKeyById(rotated.keyId, now.getTime()) : undefined;
    if (!rotated.ok || !key) throw new UnauthorizedError('unknown, spent, expired or revoked refresh token');
    return this.pair(principalOf(key, 'jwt'), now, rotated);
  }

  private async pair(principal: Principal, now: Date, refresh?: IssuedRefreshToken): Promise<TokenPair> {
    const iat = Math.floor(now.getTime() / 1000);
    const ttl = this.config.GATEWAY_ACCESS_TOKEN_TTL_SECONDS;
    const accessToken = signJwt(
      { sub: principal.id, role: principal.role, iat, exp: iat + ttl, jti: randomUUID(), iss: TOKEN_ISSUER },
      this.config.GATEWAY_JWT_SECRET,
    );
    const { refreshToken, expiresAt } = refresh ?? (await this.keys.issueRefreshToken(principal.id, now));
    return {
      tokenType: 'Bearer',
      accessToken,
      expiresIn: ttl,
      refreshToken,
      // Shorter than GATEWAY_REFRESH_TOKEN_TTL_SECONDS near the session's end.
      refreshExpiresIn: Math.floor((expiresAt.getTime() - now.getTime()) / 1000),
      principal: { id: principal.id, role: principal.role },
    };
  }

  private async fromAccessToken(token: string, now: Date): Promise<Principal> {
    const verified = verifyJwt(
      token,
      this.config.GATEWAY_JWT_SECRET,
      Math.floor(now.getTime() / 1000),
      TOKEN_ISSUER,
    );
    if (!verified.ok) {
      throw new UnauthorizedError(
        `invalid access token (${verified.reason.toLowerCase().replace(/_/g, ' ')})`,
        {
          code: verified.reason === 'EXPIRED' ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.UNAUTHORIZED',
        },
      );
    }
    // Revoking the key ends its tokens too (within the key cache time), not only at expiry.
    const key = await this.keys.activeKeyById(verified.claims.sub, now.getTime());
    // A key created again under its id (the bootstrap owner's recovery) does not revive tokens
    // issued before it was revoked; a minute of slack for the clocks of several instances.
    if (!key || verified.claims.iat < key.createdAtS - CLOCK_SLACK_S)
      throw new UnauthorizedError('the key this token was issued from is revoked or expired');
    return principalOf(key, 'jwt');
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
