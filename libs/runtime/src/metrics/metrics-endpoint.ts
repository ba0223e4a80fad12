import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IterConfig } from '@app/common';
import type { IterMetrics } from './iter-metrics';

export type MetricsAccess =
  { ok: true } | { ok: false; status: 401 | 403; code: string; message: string };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Who may read /metrics (api and worker alike). With METRICS_TOKEN set: only `Authorization: Bearer
 * <METRICS_TOKEN>` (compared in constant time). Without it: open outside production (the api and the
 * worker bind HOST, 127.0.0.1 by default), refused in production, where a scraper must present the token.
 */
export function metricsAccess(
  config: IterConfig,
  authorization: string | undefined,
): MetricsAccess {
  const token = config.metricsToken;
  if (!token) {
    if (config.nodeEnv !== 'production') return { ok: true };
    return {
      ok: false,
      status: 403,
      code: 'METRICS_TOKEN_REQUIRED',
      message: 'metriche disattivate: in produzione impostare METRICS_TOKEN e usarlo come Bearer',
    };
  }
  const given = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  if (given && timingSafeEqual(digest(given), digest(token))) return { ok: true };
  return {
    ok: false,
    status: 401,
    code: 'UNAUTHENTICATED',
    message: 'per le metriche serve Authorization: Bearer <METRICS_TOKEN>',
  };
}

/** GET /metrics as a plain Node handler: the Prometheus text format, or a JSON refusal */
export function serveMetrics(
  metrics: IterMetrics,
  config: IterConfig,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(405, { code: 'METHOD_NOT_ALLOWED', message: 'solo GET' }, { allow: 'GET, HEAD' });
      return;
    }
    const access = metricsAccess(config, req.headers.authorization);
    if (!access.ok) {
      json(
        access.status,
        { code: access.code, message: access.message },
        access.status === 401 ? { 'www-authenticate': 'Bearer realm="iter-metrics"' } : {},
      );
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, {
          'content-type': metrics.registry.contentType,
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) =>
        json(500, { code: 'INTERNAL_ERROR', message: `metriche non disponibili: ${String(err)}` }),
    );
  };
}
