import { healthAnswer } from './health-body';

const up = { status: 'up' as const, since: '2026-12-01T10:00:00.000Z' };
const down = { status: 'down' as const, since: '2026-12-01T10:05:00.000Z', error: 'ECONNREFUSED' };

describe('healthAnswer', () => {
  it('200 with the details when everything is up', () => {
    const a = healthAnswer('full', { ok: true, ready: true, details: { postgres: up, redis: up } });
    expect(a).toEqual({
      status: 200,
      body: { status: 'ok', details: { postgres: up, redis: up } },
    });
  });

  it('503 in the error shape naming what is down and since when', () => {
    const a = healthAnswer('full', {
      ok: false,
      ready: false,
      details: { postgres: down, redis: up },
    });
    expect(a.status).toBe(503);
    expect(a.body).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Servizio non disponibile: postgres dal 2026-12-01T10:05:00.000Z',
      details: { postgres: down, redis: up },
    });
  });

  it('ready with Redis down (the API keeps answering); live whatever the dependencies', () => {
    const report = { ok: false, ready: true, details: { postgres: up, redis: down } };
    expect(healthAnswer('ready', report).status).toBe(200);
    expect(healthAnswer('full', report).status).toBe(503);
    expect(healthAnswer('live', null)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
