import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { JwtVerifier } from '@app/auth';
import { EnteNotFoundError, ForbiddenError, UnauthenticatedError, type Actor } from '@app/common';
import {
  deadlineFeed,
  NOTIFICATION_CONFIG,
  romeDate,
  type DeadlineEvent,
  type NotificationConfig,
} from '@app/notifications';
import { CurrentActor, Public } from '../auth/auth.guard';
import { CalendarTokenDto } from './notification.dto';

export class CalendarQueryDto {
  @ApiPropertyOptional({
    description:
      'the ente’s feed token (POST /v1/entes/:code/calendar-token): lets a calendar app subscribe without a bearer token',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{20,100}$/, { message: 'token is malformed' })
  token?: string;
}

/**
 * Whether the ente is in the caller's Unione (the Unione itself or one of its comuni). An ente of another
 * Unione answers 404 ENTE_NOT_FOUND exactly like a missing one, even to a token that names it as its own
 * ente under another Unione (the engine refuses such a token with ACTOR_ENTE_UNKNOWN): the Unione claim decides
 * the tenant, the ente claim never widens it.
 */
function inCallersUnione(actor: Actor, ente: { code: string; unione: string | null }): boolean {
  return actor.unione === null || ente.unione === actor.unione || ente.code === actor.unione;
}

/** an ente's own people (its segretario, sindaco…), the Unione's people for its comuni, platform admins */
function mayRead(actor: Actor, ente: { code: string; unione: string | null }): boolean {
  if (actor.unione === null)
    return actor.roles.includes('admin') || actor.roles.includes('auditor');
  if (!inCallersUnione(actor, ente)) return false;
  return actor.ente === ente.code || actor.ente === actor.unione;
}

const CODE = /^[a-z0-9_]{2,20}$/;

@ApiTags('notifications')
@Controller('v1/entes')
export class CalendarController {
  constructor(
    private readonly ds: DataSource,
    private readonly verifier: JwtVerifier,
    @Inject(NOTIFICATION_CONFIG) private readonly cfg: NotificationConfig,
  ) {}

  private async ente(code: string) {
    if (!CODE.test(code)) throw new EnteNotFoundError([code]);
    const rows = await this.ds.query<
      {
        code: string;
        denominazione: string;
        unione: string | null;
        calendar_token: string | null;
      }[]
    >(
      `SELECT e.codice_ipa AS code, e.denominazione, u.codice_ipa AS unione, e.calendar_token
       FROM ente e LEFT JOIN ente u ON u.id = e.unione_id WHERE e.codice_ipa = $1`,
      [code],
    );
    if (!rows[0]) throw new EnteNotFoundError([code]);
    return rows[0];
  }

  /**
   * The ente's open deadlines as an iCalendar feed (all-day events on the due date, Europe/Rome, with alarms).
   * Auth: a bearer token of someone who may read the ente, or `?token=` the ente's feed token.
   */
  @Public()
  @Get(':code/calendar.ics')
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'enteCalendarFeed',
    summary: 'The ente’s open deadlines as an .ics feed (bearer token, or ?token= feed token)',
  })
  @ApiProduces('text/calendar')
  @ApiOkResponse({
    description: 'an iCalendar (RFC 5545) feed: one all-day VEVENT per open deadline, with alarms',
    content: { 'text/calendar': { schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: malformed token' })
  @ApiUnauthorizedResponse({
    description: 'UNAUTHENTICATED: no bearer token and no valid feed token',
  })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the token may not read this ente' })
  @ApiUnprocessableEntityResponse({
    description: 'ENTE_NOT_FOUND: unknown, or an ente of another Unione (answered alike)',
  })
  async feed(
    @Param('code') code: string,
    @Query() q: CalendarQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    // authentication first: without credentials nothing is said about the ente (not even whether it exists)
    let ente: Awaited<ReturnType<CalendarController['ente']>>;
    if (q.token !== undefined) {
      // only a missing ente reads as a bad token; a database that is down stays a 503
      const found = CODE.test(code)
        ? await this.ente(code).catch((err: unknown) => {
            if (err instanceof EnteNotFoundError) return null;
            throw err;
          })
        : null;
      if (!found || !found.calendar_token || !sameToken(found.calendar_token, q.token))
        throw new UnauthenticatedError('token del calendario non valido');
      ente = found;
    } else {
      const header = req.headers.authorization;
      const token = header ? /^Bearer +([A-Za-z0-9_.~+/=-]+) *$/i.exec(header)?.[1] : undefined;
      if (!token) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="iter"');
        throw new UnauthenticatedError(
          'serve Authorization: Bearer <token> oppure ?token=<token del calendario>',
        );
      }
      const actor = await this.verifier.verify(token);
      ente = await this.ente(code);
      if (!inCallersUnione(actor, ente)) throw new EnteNotFoundError([code]);
      if (!mayRead(actor, ente)) throw new ForbiddenError(`Calendario di ${code} non accessibile`);
    }
    const rows = await this.ds.query<
      { instance_id: string; due_at: Date; title: string; definition_key: string }[]
    >(
      `SELECT t.instance_id, t.due_at, p.title, p.definition_key FROM timer t
       JOIN process_instance p ON p.id = t.instance_id
       WHERE t.status = 'armed' AND t.kind = 'deadline' AND t.event -> 'payload' ->> 'ente' = $1
       ORDER BY t.due_at LIMIT 1000`,
      [code],
    );
    const events: DeadlineEvent[] = rows.map((r) => {
      const date = romeDate(new Date(r.due_at).toISOString())!;
      const url = `${this.cfg.publicBaseUrl}/processi/${r.instance_id}`;
      return {
        uid: `${r.instance_id}-${code}-${date}@${this.cfg.messageIdDomain}`,
        date,
        title: `Scadenza: ${r.title} — ${ente.denominazione}`,
        description: `Termine per deliberare (${r.definition_key}). ${url}`,
        url,
      };
    });
    // set here, not by @Header: an error must stay application/json
    res.setHeader('Content-Type', 'text/calendar; charset=utf-8');
    res.setHeader('Cache-Control', 'private, max-age=300');
    return deadlineFeed(`Iter — scadenze di ${ente.denominazione}`, events);
  }

  /** A new feed token for the ente (the previous one stops working): its segretario, the Unione staff, an admin. */
  @Post(':code/calendar-token')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'rotateEnteCalendarToken',
    summary: 'Issue (or replace) the ente’s calendar feed token',
  })
  @ApiOkResponse({ type: CalendarTokenDto, description: 'the new feed token and the feed URL' })
  @ApiForbiddenResponse({
    description: 'FORBIDDEN: not the ente’s segretario, the Unione’s staff or an admin',
  })
  @ApiUnprocessableEntityResponse({
    description: 'ENTE_NOT_FOUND: unknown, or an ente of another Unione (answered alike)',
  })
  async issueToken(
    @Param('code') code: string,
    @CurrentActor() actor: Actor,
  ): Promise<{ token: string; url: string }> {
    const ente = await this.ente(code);
    if (!inCallersUnione(actor, ente)) throw new EnteNotFoundError([code]);
    const allowed =
      (actor.unione === null && actor.roles.includes('admin')) ||
      (actor.ente === code && actor.roles.some((r) => r === 'segretario' || r === 'admin')) ||
      (actor.ente === actor.unione &&
        actor.unione !== null &&
        (ente.unione === actor.unione || code === actor.unione) &&
        actor.roles.some((r) => r === 'staff' || r === 'admin'));
    if (!allowed)
      throw new ForbiddenError(`Solo il segretario di ${code} o gli uffici dell’Unione`);
    const token = randomBytes(24).toString('base64url');
    await this.ds.query(
      `UPDATE ente SET calendar_token = $2, updated_at = now() WHERE codice_ipa = $1`,
      [code, token],
    );
    return { token, url: `${this.cfg.publicBaseUrl}/v1/entes/${code}/calendar.ics?token=${token}` };
  }
}

/** compared in constant time (over their digests, so the lengths say nothing either) */
function sameToken(stored: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(stored), digest(given));
}
