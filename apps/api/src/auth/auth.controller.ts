import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import type { Request, Response } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import type * as OpenIdClient from 'openid-client';
import {
  ForbiddenError,
  ROLES,
  UnauthenticatedError,
  ValidationFailedError,
  type Actor,
  type Role,
} from '@app/common';
import { CurrentActor, Public } from './auth.guard';
import { DEV_USERS, devActor } from './dev-users';
import {
  CSRF_HEADER,
  CSRF_VALUE,
  readCookie,
  serializeCookie,
  SessionService,
  type OidcSettings,
} from './session';

export class DevLoginDto {
  @ApiProperty({ example: 'segretario.c_g843', description: 'id of a fixture user' })
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z_]+\.[a-z0-9_]+$/)
  user!: string;
}

export class AuthConfigDto {
  @ApiProperty({ description: 'the development sign-in page is available' }) devSignIn!: boolean;
  @ApiProperty({ description: 'sign-in through the OpenID Connect provider is configured' })
  oidc!: boolean;
}

export class DevUserDto {
  @ApiProperty({ example: 'segretario.c_g843' }) id!: string;
  @ApiProperty({ example: 'Segretario comunale – Pontedera' }) name!: string;
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ nullable: true, type: String }) ente!: string | null;
  @ApiProperty({ nullable: true, type: String }) unione!: string | null;
  @ApiProperty({ example: 'Unione Valdera' }) group!: string;
}

export class MeDto {
  @ApiProperty() subject!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ nullable: true, type: String }) ente!: string | null;
  @ApiProperty({ nullable: true, type: String }) unione!: string | null;
}

const TX_COOKIE = 'iter_oidc_tx';

// openid-client is an ES module: loaded once, on first use (Node >= 20.19 loads ESM from CommonJS)
type OidcClient = typeof OpenIdClient;
let oidcModule: Promise<OidcClient> | null = null;
const loadOidc = (): Promise<OidcClient> => (oidcModule ??= import('openid-client'));

/**
 * Sign-in for the console. Production: OpenID Connect authorization code + PKCE against OIDC_ISSUER
 * (/auth/login → provider → /auth/callback → session cookie). Development: pick a fixture user
 * (/auth/dev/users, POST /auth/dev/login), only outside production with the development secret in use.
 */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  /** discovered lazily: a provider that is down must not stop the API from starting */
  private oidcConfig: Promise<OpenIdClient.Configuration> | null = null;

  constructor(private readonly sessions: SessionService) {}

  @Public()
  @Get('config')
  @ApiOperation({
    operationId: 'getAuthConfig',
    summary: 'Which console sign-in methods are available',
  })
  @ApiOkResponse({ type: AuthConfigDto })
  config(): AuthConfigDto {
    return {
      devSignIn: this.sessions.settings.devSignIn,
      oidc: this.sessions.settings.oidc !== null,
    };
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'getMe',
    summary: 'The signed-in user (session cookie or bearer token)',
  })
  @ApiOkResponse({ type: MeDto })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  me(@CurrentActor() actor: Actor): MeDto {
    return {
      subject: actor.subject,
      name: actor.name ?? null,
      roles: actor.roles,
      ente: actor.ente,
      unione: actor.unione,
    };
  }

  @Public()
  @Get('dev/users')
  @ApiOperation({
    operationId: 'listDevUsers',
    summary: 'Fixture users of the development sign-in',
  })
  @ApiOkResponse({
    type: [DevUserDto],
    description: 'the fixture users of the development sign-in',
  })
  @ApiResponse({ status: 403, description: 'FORBIDDEN (DEV_SIGN_IN_DISABLED)' })
  devUsers() {
    this.assertDev();
    return DEV_USERS;
  }

  @Public()
  @Post('dev/login')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'devLogin',
    summary: 'Development sign-in as a fixture user: sets the session cookie',
  })
  @ApiOkResponse({ type: MeDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (unknown user)' })
  @ApiResponse({
    status: 403,
    description: 'FORBIDDEN (DEV_SIGN_IN_DISABLED, CSRF_HEADER_REQUIRED)',
  })
  async devLogin(
    @Body() dto: DevLoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MeDto> {
    this.assertDev();
    this.assertCsrf(req);
    const u = DEV_USERS.find((x) => x.id === dto.user);
    if (!u)
      throw new ValidationFailedError([{ field: 'user', errors: ['utente di prova sconosciuto'] }]);
    const actor = devActor(u);
    res.setHeader('Set-Cookie', this.sessions.cookie(await this.sessions.issue(actor, 'dev')));
    res.setHeader('Cache-Control', 'no-store');
    return { ...actor, name: actor.name ?? null };
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'logout',
    summary: 'Sign out of the console: clears the session cookie',
  })
  @ApiResponse({ status: 204, description: 'signed out' })
  @ApiResponse({ status: 403, description: 'FORBIDDEN (CSRF_HEADER_REQUIRED)' })
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    this.assertCsrf(req);
    res.setHeader('Set-Cookie', this.sessions.clearCookie());
  }

  @Public()
  @Get('login')
  @ApiExcludeEndpoint()
  async login(@Res() res: Response): Promise<void> {
    const oidc = this.assertOidc();
    const client = await loadOidc();
    const config = await this.discover(oidc);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: oidc.redirectUri,
      scope: oidc.scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    // the transaction (PKCE verifier, state, nonce) in a signed, httpOnly, 10-minute cookie; Lax because the
    // provider sends the browser back with a top-level cross-site navigation
    const tx = await new SignJWT({ verifier, state, nonce })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('iter-oidc-tx')
      .setExpirationTime('10m')
      .sign(this.sessions.settings.key);
    res.setHeader(
      'Set-Cookie',
      serializeCookie(TX_COOKIE, tx, {
        maxAge: 600,
        secure: this.sessions.settings.secure,
        path: '/auth',
        sameSite: 'Lax',
      }),
    );
    res.redirect(302, url.href);
  }

  @Public()
  @Get('callback')
  @ApiExcludeEndpoint()
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const oidc = this.assertOidc();
    const client = await loadOidc();
    const config = await this.discover(oidc);
    const raw = readCookie(req.headers.cookie, TX_COOKIE);
    if (!raw) throw new UnauthenticatedError('accesso scaduto: ripetere l’accesso');
    let tx: { verifier: string; state: string; nonce: string };
    try {
      const { payload } = await jwtVerify(raw, this.sessions.settings.key, {
        audience: 'iter-oidc-tx',
        algorithms: ['HS256'],
      });
      tx = payload as unknown as typeof tx;
    } catch {
      throw new UnauthenticatedError('accesso scaduto: ripetere l’accesso');
    }
    const current = new URL(req.originalUrl, oidc.redirectUri);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
    } catch (err) {
      throw new UnauthenticatedError(
        `il provider di identità ha rifiutato l’accesso (${(err as Error).message})`,
      );
    }
    const actor = actorFromClaims(claims);
    res.setHeader('Set-Cookie', [
      serializeCookie(TX_COOKIE, '', {
        maxAge: 0,
        secure: this.sessions.settings.secure,
        path: '/auth',
        sameSite: 'Lax',
      }),
      this.sessions.cookie(await this.sessions.issue(actor, 'oidc')),
    ]);
    res.redirect(302, '/');
  }

  private discover(oidc: OidcSettings) {
    this.oidcConfig ??= loadOidc().then((c) =>
      c.discovery(
        new URL(oidc.issuer),
        oidc.clientId,
        oidc.clientSecret ?? undefined,
        oidc.clientSecret ? undefined : c.None(),
        // http:// issuers only outside production (a test provider on localhost)
        this.sessions.settings.secure ? undefined : { execute: [c.allowInsecureRequests] },
      ),
    );
    this.oidcConfig.catch(() => (this.oidcConfig = null));
    return this.oidcConfig;
  }

  private assertDev(): void {
    if (!this.sessions.settings.devSignIn)
      throw new ForbiddenError('accesso di sviluppo non disponibile in questo ambiente', {
        rule: 'DEV_SIGN_IN_DISABLED',
      });
  }

  private assertOidc(): OidcSettings {
    const o = this.sessions.settings.oidc;
    if (!o)
      throw new ForbiddenError('accesso OpenID Connect non configurato (OIDC_ISSUER)', {
        rule: 'OIDC_NOT_CONFIGURED',
      });
    return o;
  }

  private assertCsrf(req: Request): void {
    if (req.get(CSRF_HEADER) !== CSRF_VALUE)
      throw new ForbiddenError(`manca l’intestazione ${CSRF_HEADER}: ${CSRF_VALUE}`, {
        rule: 'CSRF_HEADER_REQUIRED',
      });
  }
}

/** The provider's claims → Iter's actor: the same claims as the API's bearer tokens (roles, ente, unione). */
export function actorFromClaims(c: Record<string, unknown>): Actor {
  const roles = (Array.isArray(c['roles']) ? c['roles'] : []).filter(
    (r): r is Role =>
      typeof r === 'string' && (ROLES as readonly string[]).includes(r) && r !== 'system',
  );
  if (typeof c['sub'] !== 'string' || roles.length === 0)
    throw new UnauthenticatedError('il provider non indica un ruolo Iter per questo utente');
  const name =
    typeof c['name'] === 'string'
      ? c['name']
      : [c['given_name'], c['family_name']].filter((x) => typeof x === 'string').join(' ') ||
        undefined;
  return {
    subject: c['sub'],
    name,
    roles,
    ente: typeof c['ente'] === 'string' ? c['ente'] : null,
    unione: typeof c['unione'] === 'string' ? c['unione'] : null,
  };
}
