import type { HealthReport } from './dependency-monitor';

export type HealthProbe = 'full' | 'live' | 'ready';

/**
 * The answer of GET /health, /health/live and /health/ready, the same for the api and the worker.
 * Up: 200 `{ status: 'ok', details }`. Down: 503 in the error shape, naming what is down and since when:
 * `{ code: 'SERVICE_UNAVAILABLE', message, details: { postgres: { status, since, error? }, redis: {...} } }`.
 * live: the process answers (200 whatever its dependencies). ready: it can serve requests, i.e. Postgres
 * answers (with Redis down the API keeps answering; jobs are enqueued when it returns).
 */
export function healthAnswer(
  probe: HealthProbe,
  report: HealthReport | null,
): { status: number; body: Record<string, unknown> } {
  if (probe === 'live' || !report) return { status: 200, body: { status: 'ok' } };
  const ok = probe === 'ready' ? report.ready : report.ok;
  if (ok) return { status: 200, body: { status: 'ok', details: report.details } };
  const down = Object.entries(report.details)
    .filter(([, d]) => d.status === 'down')
    .map(([name, d]) => `${name} dal ${d.since}`);
  return {
    status: 503,
    body: {
      code: 'SERVICE_UNAVAILABLE',
      message: `Servizio non disponibile: ${down.join(', ')}`,
      details: report.details,
    },
  };
}
