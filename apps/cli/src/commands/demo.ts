import type { Role } from '@app/common';
import { defineCommand, UsageError } from '../cli';
import { DemoError, runMiracoliDemo } from '../demo/miracoli';
import { say, warn } from './support';
import { devToken } from './token';

/** `npm run demo`: the Unione dei Miracoli scenario against a running Iter, through its HTTP API only. */
export const demo = defineCommand({
  name: 'demo',
  summary:
    'drive the Unione dei Miracoli scenario against a running Iter (HTTP API only) and print an Italian timeline',
  options: {
    api: { type: 'string' },
    'dev-secret': { type: 'boolean' },
    'token-env-prefix': { type: 'string' },
  },
  optionHelp: {
    api: {
      value: '<url>',
      help: 'base URL of the API (default $ITER_API_URL or http://127.0.0.1:3000)',
    },
    'dev-secret': {
      help: 'outside production, with no JWT_SECRET: mint the actors’ tokens with the built-in development secret',
    },
    'token-env-prefix': {
      value: '<PREFIX>',
      help: 'read each actor’s token from $<PREFIX>_<ROLE>_<ENTE> (e.g. ITER_TOKEN_SEGRETARIO_C_B865) instead of minting',
    },
  },
  details: [
    'Needs the Miracoli fixture (`npm run iter -- seed miracoli`) and a running api + worker (`npm start`).',
    'Tokens: with JWT_SECRET (or --dev-secret, as `npm start` uses) the demo mints one per actor (sub',
    '<role>.<ente>), the same tokens as `iter token`; on a deployment with an identity provider supply them with',
    '--token-env-prefix. Exit codes: 0 done, 1 the scenario failed (the message says at which step), 2 usage error.',
  ].join('\n'),
  async run(v) {
    const baseUrl = v.api ?? process.env['ITER_API_URL'] ?? 'http://127.0.0.1:3000';
    if (!/^https?:\/\//.test(baseUrl))
      throw new UsageError(`--api is not an http(s) URL: ${baseUrl}`);
    const env = { ...process.env };
    if (v['dev-secret'] && env['NODE_ENV'] !== 'production' && !env['JWT_SECRET'])
      env['JWT_DEV_SECRET'] = 'true';
    const prefix = v['token-env-prefix'];
    const cache = new Map<string, string>();
    const token = async (role: Role, ente: string): Promise<string> => {
      const key = `${role}.${ente}`;
      const hit = cache.get(key);
      if (hit) return hit;
      let jwt: string | null | undefined;
      if (prefix) {
        const name = `${prefix}_${role}_${ente}`.toUpperCase();
        jwt = env[name];
        if (!jwt) throw new DemoError(`token mancante: variabile ${name} non impostata`);
      } else {
        jwt = await devToken({ sub: key, roles: [role], ente, unione: 'u_miracoli' }, '1h', env);
        if (!jwt)
          throw new DemoError(
            'nessun segreto per i token di sviluppo: impostare JWT_SECRET, usare --dev-secret o --token-env-prefix',
          );
      }
      cache.set(key, jwt);
      return jwt;
    };
    try {
      await runMiracoliDemo({ baseUrl, token, print: say });
      return 0;
    } catch (err) {
      if (err instanceof DemoError) {
        warn(`demo interrotta: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
});
