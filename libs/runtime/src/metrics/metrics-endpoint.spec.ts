import { loadConfig } from '@app/common';
import { metricsAccess } from './metrics-endpoint';

const TOKEN = 'a-metrics-token-of-32-characters!';
const production = {
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(40),
  JWT_ISSUER: 'iter',
  JWT_AUDIENCE: 'iter-api',
  DATABASE_URL: 'postgres://iter_app@db:5432/iter',
};

describe('metricsAccess', () => {
  it('production without METRICS_TOKEN: refused (403), whatever is sent', () => {
    const c = loadConfig(production);
    expect(metricsAccess(c, undefined)).toMatchObject({
      ok: false,
      status: 403,
      code: 'METRICS_TOKEN_REQUIRED',
    });
    expect(metricsAccess(c, 'Bearer anything')).toMatchObject({ ok: false, status: 403 });
  });

  it('with METRICS_TOKEN: the bearer token only (401 otherwise), in production and elsewhere', () => {
    for (const env of [{ ...production, METRICS_TOKEN: TOKEN }, { METRICS_TOKEN: TOKEN }]) {
      const c = loadConfig(env);
      expect(metricsAccess(c, `Bearer ${TOKEN}`)).toEqual({ ok: true });
      expect(metricsAccess(c, `bearer ${TOKEN}`)).toEqual({ ok: true });
      for (const h of [undefined, '', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, 'Bearer '])
        expect(metricsAccess(c, h)).toMatchObject({
          ok: false,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
    }
  });

  it('development without a token: open (the processes bind 127.0.0.1 by default)', () => {
    expect(metricsAccess(loadConfig({}), undefined)).toEqual({ ok: true });
  });

  it('refuses a short METRICS_TOKEN at start-up', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
