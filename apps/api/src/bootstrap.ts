import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { Clock, IterConfig } from '@app/common';
import { DefinitionRegistry } from '@app/workflows';
import { ApiModule } from './api.module';
import { iterValidationPipe } from './http/validation';
import { buildOpenApiDocument } from './openapi/openapi-document';

/** Build the API app exactly as production runs it (main.ts) and as the e2e tests drive it. */
export async function createApiApp(
  config: IterConfig,
  opts: { clock?: Clock; logger?: false } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    ApiModule.forRoot(config, opts.clock),
    {
      bodyParser: false,
      logger: opts.logger === false ? false : ['log', 'warn', 'error'],
    },
  );
  app.useBodyParser('json', { limit: config.bodyLimit });
  app.use(helmet());
  app.disable('x-powered-by');
  // behind a load balancer the client address (rate limiting, logs) comes from X-Forwarded-For
  if (config.trustProxy) app.set('trust proxy', config.trustProxy);
  if (config.corsOrigins.length)
    app.enableCors({ origin: config.corsOrigins, exposedHeaders: ['ETag', 'Location'] });
  app.useGlobalPipes(iterValidationPipe());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, app.get(DefinitionRegistry)), {
    jsonDocumentUrl: 'docs-json',
  });
  return app;
}
