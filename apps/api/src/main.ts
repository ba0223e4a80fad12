import { ConfigError, keysProblem, loadConfig } from '@app/common';
import { createRootLogger, preflight } from '@app/runtime';
import type { Logger as PinoLogger } from 'pino';
import { createApiApp } from './bootstrap';

let root: PinoLogger | undefined;

async function main(): Promise<void> {
  const config = loadConfig();
  root = createRootLogger(config);
  const log = root.child({ context: 'api' });
  // no key to verify tokens (or no iss/aud in production): stop before connecting to anything
  const noKey = keysProblem(config);
  if (noKey) throw new ConfigError([noKey]);
  await preflight(config, (m) => log.info(m));
  const app = await createApiApp(config, { logger: root });
  await app.listen(config.port, config.host);
  log.info(`Iter API on http://${config.host}:${config.port} (OpenAPI at /docs)`);
}

main().catch((err: unknown) => {
  // a clear message and a non-zero exit, never a stack trace for a configuration problem
  console.error(err instanceof Error ? err.message : err);
  // anything else also with its stack, in the structured log
  if (root && !(err instanceof ConfigError)) root.fatal({ err }, 'Iter API did not start');
  process.exit(1);
});
