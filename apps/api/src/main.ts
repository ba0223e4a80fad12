import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@app/common';
import { preflight } from '@app/runtime';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const log = new Logger('api');
  const config = loadConfig();
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
