import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';

/** Paths that belong to the API: never answered with the console's index.html. */
const API_PATHS = /^\/(v1|docs|docs-json|health|metrics|auth|admin)(\/|$)/;

/**
 * Where the built console (apps/console, `vite build`) is: ITER_CONSOLE_DIR, or dist/console under the working
 * directory, or next to the compiled API (dist/apps/api/src/console → dist/console).
 */
export function consoleDir(): string | null {
  const candidates = [
    process.env['ITER_CONSOLE_DIR'],
    join(process.cwd(), 'dist', 'console'),
    resolve(__dirname, '..', '..', '..', '..', 'console'),
    resolve(__dirname, '..', '..', '..', '..', 'dist', 'console'),
  ].filter((d): d is string => Boolean(d));
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

/**
 * Serves the console at `/`: its hashed assets with a long cache, and index.html (never cached) for every other
 * GET outside the API's paths, so a deep link (/procedimenti/<id>) opens the single-page app. Returns false when
 * the console has not been built (`npm run build` builds it).
 */
export function serveConsole(app: NestExpressApplication, dir = consoleDir()): boolean {
  if (!dir) return false;
  const index = join(dir, 'index.html');
  // public files: the edge's `Cache-Control: no-store` (meant for API answers) is replaced for them; the API's
  // paths never reach the file server (no directory redirects for /v1/..%2F..)
  const assets = express.static(join(dir, 'assets'), {
    index: false,
    redirect: false,
    setHeaders: (res: Response) =>
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
  });
  const files = express.static(dir, {
    index: false,
    redirect: false,
    setHeaders: (res: Response) => res.setHeader('Cache-Control', 'public, max-age=3600'),
  });
  app.use('/assets', assets);
  app.use((req: Request, res: Response, next: NextFunction): void => {
    if (API_PATHS.test(req.path)) next();
    else void files(req, res, next);
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path)) return next();
    // a missing file with an extension is a 404, not the app
    if (/\.[a-z0-9]{1,8}$/i.test(req.path)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
