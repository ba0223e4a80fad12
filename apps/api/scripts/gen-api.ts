/**
 * `npm run gen:api`: writes the OpenAPI document the API serves at /docs-json to libs/api-client/openapi.json (the
 * typed client's types, libs/api-client/src/schema.d.ts, are then generated from it by openapi-typescript).
 * Nest's preview mode builds the module graph without instantiating providers: no database, no Redis needed.
 * apps/api/test/openapi.e2e-spec.ts fails when the committed files differ from what the running API serves.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/common';
import { defaultRegistry } from '@app/workflows';
import { ApiModule } from '../src/api.module';
import { buildOpenApiDocument } from '../src/openapi/openapi-document';

export const OPENAPI_JSON = join(__dirname, '..', '..', '..', 'libs', 'api-client', 'openapi.json');

async function main(): Promise<void> {
  const config = loadConfig({ NODE_ENV: 'development', MIGRATIONS_RUN: 'false' });
  const app = await NestFactory.create(ApiModule.forRoot(config), {
    preview: true,
    logger: false,
  });
  const doc = buildOpenApiDocument(app, defaultRegistry());
  await app.close();
  writeFileSync(OPENAPI_JSON, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${OPENAPI_JSON}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
