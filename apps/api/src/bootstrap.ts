import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import helmet from 'helmet';
import type { Clock, IterConfig } from '@app/common';
import { ApiModule } from './api.module';
import { serveConsole } from './console/console-static';
import { iterValidationPipe } from './http/validation';

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
  serveConsole(app); // the web console (apps/console) at `/`, when built
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle('Iter API')
    .setDescription(
      'Workflow engine for the approval of inter-municipal conventions (art. 30 TUEL) in Unioni dei Comuni. ' +
        'Errors are JSON { code, message, details? } with stable codes.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => withEventSchemas(SwaggerModule.createDocument(app, doc)), {
    jsonDocumentUrl: 'docs-json',
  });
  return app;
}

/**
 * The event payload and start input DTOs live in libs/workflows (no Nest there): their JSON schemas are generated
 * from the class-validator metadata and added to the OpenAPI components, so every payload is documented.
 */
function withEventSchemas(document: OpenAPIObject): OpenAPIObject {
  const schemas = validationMetadatasToSchemas({
    refPointerPrefix: '#/components/schemas/',
  }) as Record<string, SchemaObject>;
  document.components = {
    ...document.components,
    schemas: { ...schemas, ...document.components?.schemas },
  };
  return document;
}
