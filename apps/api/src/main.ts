import { Logger } from '@nestjs/common';
import { ConfigError, keysProblem, loadConfig } from '@app/common';
import { preflight } from '@app/runtime';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const log = new Logger('api');
  const config = loadConfig();
  // no key to verify tokens (or no iss/aud in production): stop before connecting to anything
  const noKey = keysProblem(config);
  if (noKey) throw new ConfigError([noKey]);
  await preflight(config, (m) => log.log(m));
  const app = await createApiApp(config);
  await app.listen(config.port, config.host);
  log.log(`Iter API on http://${config.host}:${config.port} (OpenAPI at /docs)`);
}

main().catch((err: unknown) => {
  // a clear message and a non-zero exit, never a stack trace for a configuration problem
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
  process.exit(1);
});
