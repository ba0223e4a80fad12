import type { NextFunction, Request, Response } from 'express';
import type { IterMetrics } from '@app/runtime';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * iter_http_request_duration_seconds for every request (the first middleware: refusals by the edge count
 * too). The route label is the matched route's template (`/v1/processes/:id/events`), never the URL: ids
 * would make a series per process. Requests no route matched (static console files, /docs, /metrics,
 * /admin/queues, 404s) are `other`. Cost: two clock reads, a 'finish' listener and one histogram observe.
 */
export function httpMetrics(metrics: IterMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const t0 = performance.now();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      metrics.observeHttp(
        typeof route === 'string' ? req.baseUrl + route : 'other',
        METHODS.has(req.method) ? req.method : 'OTHER',
        res.statusCode,
        (performance.now() - t0) / 1000,
      );
    });
    next();
  };
}
