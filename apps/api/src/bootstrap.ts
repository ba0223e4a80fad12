import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { ConfigError, keysProblem, type Clock, type IterConfig } from '@app/common';
import {
  createRootLogger,
  httpLogging,
  IterMetrics,
  serveMetrics,
  usePinoLogger,
} from '@app/runtime';
import { DefinitionRegistry } from '@app/workflows';
import type { Logger as PinoLogger } from 'pino';
import { ApiModule } from './api.module';
import { serveConsole } from './console/console-static';
import { edgeMiddlewares } from './http/edge';
import { httpMetrics } from './http/http-metrics';
import { iterValidationPipe } from './http/validation';
import { buildOpenApiDocument } from './openapi/openapi-document';

/** Build the API app exactly as production runs it (main.ts) and as the e2e tests drive it. */
export async function createApiApp(
  config: IterConfig,
  opts: { clock?: Clock; logger?: false | PinoLogger } = {},
): Promise<NestExpressApplication> {
  const noKey = keysProblem(config);
  if (noKey) throw new ConfigError([noKey]);
  // logger false (tests): nothing written, but requests still get their id
  const root =
    opts.logger === false
      ? createRootLogger({ ...config, logLevel: 'silent' })
      : (opts.logger ?? createRootLogger(config));
  const app = await NestFactory.create<NestExpressApplication>(
    ApiModule.forRoot(config, opts.clock, undefined, root),
    { bodyParser: false, bufferLogs: true, logger: opts.logger === false ? false : undefined },
  );
  // Nest's own lines (routes mapped, start-up, exceptions) through pino too
  if (opts.logger !== false) usePinoLogger(app);
  answerClientErrorsAsJson(app.getHttpServer());
  // first: the request id (X-Request-Id) and the request's log line, also for what the edge refuses
  app.use(httpLogging(root));
  const metrics = app.get(IterMetrics);
  app.use(httpMetrics(metrics));
  app.use(helmet());
  app.disable('x-powered-by');
  // no automatic weak ETag (W/"…"): on an error it could pass for a version; the only ETag is the process
  // version the processes controller sets itself (If-Match)
  app.set('etag', false);
  // behind a load balancer the client address (rate limiting, logs) comes from X-Forwarded-For
  if (config.trustProxy) app.set('trust proxy', config.trustProxy);
  // rate limit, URL characters, body type, size, JSON depth and keys: before /docs and Nest's router
  for (const mw of edgeMiddlewares(config)) app.use(mw);
  // Prometheus text, outside the OpenAPI document (an operations endpoint): docs/metrics.md
  const metricsEndpoint = serveMetrics(metrics, config);
  app.use('/metrics', (req: Request, res: Response, next: NextFunction) =>
    req.path === '/' ? metricsEndpoint(req, res) : next(),
  );
  if (config.corsOrigins.length)
    app.enableCors({
      origin: config.corsOrigins,
      exposedHeaders: ['ETag', 'Location', 'X-Request-Id'],
    });
  app.useGlobalPipes(iterValidationPipe());
  serveConsole(app); // the web console (apps/console) at `/`, when built
  app.enableShutdownHooks();
  if (config.docsEnabled) {
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, app.get(DefinitionRegistry)), {
      jsonDocumentUrl: 'docs-json',
    });
  }
  return app;
}

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'HEADERS_TOO_LARGE',
    'Intestazioni della richiesta troppo grandi',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'Richiesta troppo lenta'],
};

/**
 * Requests Node refuses before Express sees them (headers over maxHeaderSize, malformed HTTP) are answered in
 * the API's JSON error shape, not with Node's empty 431/400, then the connection is closed.
 */
function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
      400,
      'Bad Request',
      'BAD_REQUEST',
      'Richiesta HTTP non valida',
    ];
    const body = JSON.stringify({ code, message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
