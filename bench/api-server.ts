import type { AddressInfo } from 'node:net';
import { loadConfig } from '@app/common';
import { createApiApp } from '../apps/api/src/bootstrap';
import { serveParent, type ChildMessage } from './lib/child';

/** The real API (createApiApp, as apps/api/src/main.ts builds it) on an ephemeral port, driven by bench/run.ts. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApiApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  serveParent(() => app.close());
  process.send?.({ type: 'ready', port } satisfies ChildMessage);
}

main().catch((err: unknown) => {
  process.send?.({
    type: 'failed',
    message: err instanceof Error ? err.message : String(err),
  } satisfies ChildMessage);
  process.exit(1);
});
