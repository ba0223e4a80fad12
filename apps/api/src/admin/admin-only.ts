import type { NextFunction, Request, Response } from 'express';
import type { JwtVerifier } from '@app/auth';
import { ForbiddenError, UnauthenticatedError, type Actor } from '@app/common';
import { readCookie, SESSION_COOKIE, type SessionService } from '../auth/session';
import { toHttp } from '../http/domain-error.filter';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write made with the console's cookie must come from a page of this origin. The console's own writes
 * carry `X-Requested-With: iter-console`; the queue dashboard's pages cannot, so the browser's word is used:
 * `Sec-Fetch-Site: same-origin`, or an Origin equal to this host (the cookie is SameSite=Strict already).
 */
function sameOrigin(req: Request): boolean {
  if (req.get('sec-fetch-site') === 'same-origin') return true;
  const origin = req.get('origin');
  if (!origin) return false;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/**
 * Express middleware for /admin/queues: platform admins only (role admin, no unione), from `Authorization: Bearer <token>` (scripts,
 * curl) or from the console's session cookie (an admin signed in to the console opens the dashboard in the
 * same browser). Refusals are the API's JSON errors: 401 UNAUTHENTICATED, 403 FORBIDDEN.
 */
export function adminOnly(verifier: JwtVerifier, sessions: SessionService) {
  const actorOf = async (req: Request): Promise<Actor> => {
    const header = req.headers.authorization;
    const session = header ? null : readCookie(req.headers.cookie, SESSION_COOKIE);
    if (session) {
      const actor = await sessions.verify(session);
      if (!SAFE.has(req.method) && !sameOrigin(req))
        throw new ForbiddenError('richiesta con cookie di sessione da un’altra origine', {
          rule: 'SAME_ORIGIN_REQUIRED',
        });
      return actor;
    }
    if (!header)
      throw new UnauthenticatedError('manca l’intestazione Authorization: Bearer <token>');
    const token = /^Bearer +([A-Za-z0-9_.~+/=-]+) *$/i.exec(header)?.[1];
    if (!token) throw new UnauthenticatedError('usare Authorization: Bearer <token>');
    return verifier.verify(token);
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    actorOf(req)
      .then((actor) => {
        if (!actor.roles.includes('admin'))
          throw new ForbiddenError('la dashboard delle code è riservata agli amministratori');
        // the queues hold every Unione's jobs (and let one retry, promote or remove them): an Unione's own
        // admin, who acts on its Unione only everywhere else, does not get them
        if (actor.unione !== null)
          throw new ForbiddenError(
            'la dashboard delle code è riservata agli amministratori della piattaforma',
          );
        next();
      })
      .catch((err: unknown) => {
        const [status, body] = toHttp(err);
        if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="iter"');
        res.setHeader('Vary', 'Authorization, Cookie');
        res.status(status).json(body);
      });
  };
}
