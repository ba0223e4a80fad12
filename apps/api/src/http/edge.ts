import { isUtf8 } from 'node:buffer';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ValidationFailedError, type FieldError, type IterConfig } from '@app/common';
import { ApiError } from './api-error';

/**
 * The HTTP edge: everything a request goes through before Nest's router, in this order, each step cheap and
 * bounded, so that no request can make the API slow for the others:
 *  1. `Cache-Control: no-store` on every answer (authenticated answers and exports must not sit in caches);
 *  2. the rate limit per client, counted across all routes (and /docs), stricter for writes;
 *  3. the URL: a NUL byte, a lone surrogate or a broken percent-encoding anywhere is 400 INVALID_CHARACTERS;
 *  4. the body's media type, charset and content encoding (415), then its size per route (413);
 *  5. the raw body must be UTF-8 (400 INVALID_CHARACTERS, never decoded to U+FFFD), then a scan of the raw
 *     JSON bytes for depth (400 JSON_TOO_DEEP) and keys + items (413 JSON_TOO_MANY_KEYS), before JSON.parse
 *     and long before class-validator;
 *  6. the parsed body and query: `__proto__`, `constructor` and `prototype` keys are unknown fields (400
 *     VALIDATION_FAILED, never silently dropped), NUL and lone surrogates in any string are 400, and so is a
 *     number JSON.parse turns into Infinity (`1e400`), which no field accepts and no hash can canonicalize, and
 *     a string of whitespace only (a title or a reason of spaces says nothing: 400 VALIDATION_FAILED).
 */

/** Keys that JSON.parse keeps but class-transformer drops or turns into prototype writes: refused. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** The routes whose body carries a text (the convention's text at freeze or amendment): a larger limit. */
const TEXT_ROUTES: readonly { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/v1\/processes\/[^/]+\/events\/?$/ },
];

export const isTextRoute = (method: string, path: string): boolean =>
  TEXT_ROUTES.some((r) => r.method === method && r.path.test(path));

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// a lone high surrogate (not followed by a low one) or a lone low surrogate (not preceded by a high one)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const hasBadCharacters = (s: string): boolean => s.includes('\0') || LONE_SURROGATE.test(s);

const invalidCharacters = (where: string): ApiError =>
  new ApiError(
    400,
    'INVALID_CHARACTERS',
    `Caratteri non ammessi in ${where}: byte NUL, surrogati UTF-16 isolati o codifica non valida`,
    {
      fields: [
        { field: where, errors: ['must not contain NUL, lone surrogates or invalid UTF-8'] },
      ],
    },
  );

/**
 * One pass over the raw JSON bytes (UTF-8: every structural character is ASCII, so multi-byte characters
 * cannot be mistaken for one): the nesting depth and the number of keys plus array items. Strings are skipped
 * with their escapes. Malformed JSON is left to JSON.parse; this only bounds what it would be asked to build.
 */
export function scanJson(buf: Uint8Array, maxDepth: number, maxKeys: number): void {
  let depth = 0;
  let entries = 0;
  // one bit per open container: is it an array? (arrays count their items, objects their keys)
  const isArray: boolean[] = [];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    switch (b) {
      case 0x22: {
        // a string: jump (natively) to its closing quote, one not preceded by an odd run of backslashes
        let end = i;
        for (;;) {
          end = buf.indexOf(0x22, end + 1);
          if (end === -1) return; // unterminated: JSON.parse will say so
          let backslashes = 0;
          while (buf[end - 1 - backslashes] === 0x5c) backslashes++;
          if (backslashes % 2 === 0) break;
        }
        i = end;
        break;
      }
      case 0x7b: // {
      case 0x5b: // [
        if (++depth > maxDepth) {
          throw new ApiError(
            400,
            'JSON_TOO_DEEP',
            `JSON annidato oltre ${maxDepth} livelli: richiesta rifiutata`,
            { maxDepth },
          );
        }
        isArray.push(b === 0x5b);
        if (b === 0x5b) entries++; // an array's first item (a `,` counts each further one)
        break;
      case 0x7d: // }
      case 0x5d: // ]
        depth--;
        isArray.pop();
        break;
      case 0x3a: // : one object key
      case 0x2c: // , one more array item (in objects the next key's `:` counts it)
        if (b === 0x3a || isArray[isArray.length - 1] === true) {
          if (++entries > maxKeys) {
            throw new ApiError(
              413,
              'JSON_TOO_MANY_KEYS',
              `JSON con più di ${maxKeys} chiavi o elementi: richiesta rifiutata`,
              { maxKeys },
            );
          }
        }
        break;
      default:
        break;
    }
  }
}

/**
 * Walk a parsed body (or query): prototype keys are reported as unknown fields, numbers out of range (JSON
 * `1e400` parses to Infinity) as invalid fields, strings with NUL or lone surrogates as INVALID_CHARACTERS.
 * The walk is bounded by scanJson's limits (bodies) or by the URL (query).
 */
const BLANK = 'must not be empty or only spaces';

export function inspectValue(value: unknown, prefix: string): void {
  const fieldErrors: FieldError[] = [];
  let badChars: string | null = null;
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (badChars === null && hasBadCharacters(v)) badChars = path;
      // a title, a reason, a name of spaces only says nothing: refused like an empty one (omit an optional one)
      else if (v.length > 0 && v.trim() === '') fieldErrors.push({ field: path, errors: [BLANK] });
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        fieldErrors.push({ field: path, errors: ['must be a finite number'] });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (badChars === null && hasBadCharacters(k)) badChars = p;
      if (PROTOTYPE_KEYS.has(k)) fieldErrors.push({ field: p, errors: [`unknown field: ${p}`] });
      walk(item, p);
    }
  };
  walk(value, prefix);
  if (badChars !== null) throw invalidCharacters(badChars);
  if (fieldErrors.length) throw new ValidationFailedError(fieldErrors);
}

function checkUrl(req: Request): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.url);
  } catch {
    throw invalidCharacters('url');
  }
  if (hasBadCharacters(decoded)) throw invalidCharacters(req.url.includes('?') ? 'query' : 'url');
  // the parsed query: prototype keys are unknown fields, like any other the DTO does not declare
  inspectValue(req.query, '');
}

const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** JSON in UTF-8, without content coding: anything else is 415 before a byte of the body is read. */
function checkBodyHeaders(req: Request): void {
  if (!hasBody(req)) return;
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding !== 'identity') {
    throw new ApiError(
      415,
      'UNSUPPORTED_CONTENT_ENCODING',
      `Content-Encoding non supportato: inviare il corpo senza compressione`,
      { supported: ['identity'] },
    );
  }
  const [type = '', ...params] = (req.headers['content-type'] ?? '').split(';');
  const media = type.trim().toLowerCase();
  if (media !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(media)) {
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Tipo di contenuto non supportato: usare Content-Type: application/json',
      { supported: ['application/json'] },
    );
  }
  for (const p of params) {
    const [name = '', raw = ''] = p.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = raw.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new ApiError(
        415,
        'UNSUPPORTED_CHARSET',
        `Charset non supportato (${charset.slice(0, 40)}): il JSON va inviato in UTF-8`,
        { supported: ['utf-8'] },
      );
    }
  }
}

/** express middleware from a check that throws: the error goes to Nest's exception filter. */
const guard =
  (check: (req: Request) => void): RequestHandler =>
  (req: Request, _res: Response, next: NextFunction) => {
    try {
      check(req);
      next();
    } catch (err) {
      next(err);
    }
  };

function bodyParsers(config: IterConfig): RequestHandler {
  const verify = (_req: unknown, _res: unknown, buf: Buffer): void => {
    // bytes that are not UTF-8 (a Latin-1 "è", 0xE8) would be decoded to U+FFFD and stored, a text then frozen
    // with a hash of other bytes than the client sent: refused (a native check, one pass)
    if (!isUtf8(buf)) throw invalidCharacters('body');
    scanJson(buf, config.jsonMaxDepth, config.jsonMaxKeys);
  };
  const options = {
    // content coding is refused above (checkBodyHeaders); a compressed body is never inflated
    inflate: false,
    strict: true,
    type: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const type = req.headers['content-type'];
      return typeof type === 'string' && /^application\/([a-z0-9.!#$&^_-]+\+)?json\b/i.test(type);
    },
    verify,
  };
  const small = json({ ...options, limit: config.bodyLimit });
  const large = json({ ...options, limit: config.bodyLimitText });
  return (req, res, next) => (isTextRoute(req.method, req.path) ? large : small)(req, res, next);
}

function checkParsedBody(req: Request): void {
  if (!hasBody(req)) return;
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailedError([{ field: 'body', errors: ['must be a JSON object'] }]);
  }
  inspectValue(body, '');
}

function rateLimiters(config: IterConfig): RequestHandler[] {
  const handler = (_req: Request, _res: Response, next: NextFunction) =>
    next(new ApiError(429, 'RATE_LIMITED', 'Troppe richieste: riprovare tra poco'));
  const common = {
    windowMs: 60_000,
    // RateLimit / RateLimit-Policy (IETF draft 8, one policy per limiter) and Retry-After on a 429
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler,
    // the client address comes from TRUST_PROXY_HOPS (Express "trust proxy"), validated at start-up
    validate: { xForwardedForHeader: false, trustProxy: false },
  };
  return [
    rateLimit({ ...common, limit: config.rateLimitPerMinute, identifier: 'all' }),
    rateLimit({
      ...common,
      limit: config.rateLimitWritesPerMinute,
      identifier: 'writes',
      skip: (req) => !WRITE_METHODS.has(req.method),
    }),
  ];
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** The edge middlewares, in order; registered before the OpenAPI routes and Nest's router. */
export function edgeMiddlewares(config: IterConfig): RequestHandler[] {
  return [
    noStore,
    ...rateLimiters(config),
    guard(checkUrl),
    guard(checkBodyHeaders),
    bodyParsers(config),
    guard(checkParsedBody),
  ];
}
