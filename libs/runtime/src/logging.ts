import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ProcessorDecoratorService } from '@nestjs/bullmq';
import { type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { DelayedError, WaitingChildrenError, type Job, type Processor } from 'bullmq';
import { Logger as NestPinoLogger, LoggerModule } from 'nestjs-pino';
// nestjs-pino's request-scoped store (what its own middleware binds); not re-exported by its index
import { Store, storage } from 'nestjs-pino/storage';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import pretty from 'pino-pretty';
import {
  maskPersonalData,
  REQUEST_ID_HEADER,
  requestIdFrom,
  runWithRequestId,
  type IterConfig,
} from '@app/common';

/** The root pino logger of a process (api or worker), given to RuntimeModule and used by the HTTP middleware. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Fields removed from every line whatever their place (pino `redact`): credentials, and the personal data Iter
 * handles (codice fiscale, e-mail, PEC). Whatever is not in a known field is masked on the serialized line.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-webhook-signature"]',
  'res.headers["set-cookie"]',
  // personal data and secrets, at the top level and one level down
  ...[
    'password',
    'pass',
    'token',
    'codiceFiscale',
    'codice_fiscale',
    'fiscalCode',
    'email',
    'pec',
    'to',
    'from',
  ].flatMap((f) => [f, `*.${f}`]),
];

/**
 * A destination that masks personal data (codice fiscale, e-mail, PEC addresses) on each serialized line before
 * it is written: messages, error messages and stacks, URLs. A masked address stays valid JSON (no quote added).
 */
export function maskingDestination(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(maskPersonalData(line)) };
}

/**
 * One pino logger per process: JSON lines in production (LOG_FORMAT=json, the default when NODE_ENV=production),
 * readable coloured lines elsewhere (pino-pretty, in-process: no transport thread to lose lines at exit);
 * LOG_LEVEL sets the level. Tests pass their own destination to read the lines.
 */
export function createRootLogger(
  config: Pick<IterConfig, 'logLevel' | 'logFormat'>,
  destination?: DestinationStream,
): PinoLogger {
  const out =
    destination ??
    (config.logFormat === 'json'
      ? pino.destination({ dest: 1, sync: true })
      : pretty({
          sync: true,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,context',
          // as Nest printed it: `[reconciler] armed timers …`
          messageFormat: '{if context}[{context}] {end}{msg}',
        }));
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // the error's type, message and stack (Nest's default logger printed String(err) or only the stack)
      serializers: { err: pino.stdSerializers.err },
    },
    maskingDestination(out),
  );
}

/**
 * nestjs-pino's module: `Logger` (app.useLogger) writes through the root logger, and within an HTTP request or
 * a job through the request's child logger (its requestId). The HTTP middleware is ours (httpLogging), mounted
 * first in bootstrap so that requests refused by the edge middlewares are logged with their id too.
 */
export function loggerModule(root: PinoLogger): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: { logger: root },
    forRoutes: [],
    renameContext: 'context',
  });
}

/** Replaces Nest's default logger with nestjs-pino's (the buffered start-up lines are flushed through it). */
export function usePinoLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(NestPinoLogger));
  app.flushLogs();
}

type Req = IncomingMessage & { id?: string; log?: PinoLogger };

/**
 * First middleware of the API: the request id (X-Request-Id if acceptable, else a new UUID) set on the request,
 * returned in the response header, bound to every log line of the request (`requestId`), and made current
 * (runWithRequestId) for what the request does: the audit event's request_id and the jobs it enqueues.
 * pino-http logs one line per request when it ends (method, URL, status, time) at info, 4xx at warn, 5xx at error.
 */
export function httpLogging(
  root: PinoLogger,
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const log = pinoHttp({
    logger: root,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req, res) => {
      const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
  return (req, res, next) =>
    log(req, res, () => {
      const r = req as Req;
      runWithRequestId(String(r.id), () => storage.run(new Store(r.log), next));
    });
}

interface JobData {
  requestId?: string;
}

/**
 * Every BullMQ job the worker processes runs with the request id its data carries (the request that caused it):
 * the current request id for what it does (events, further jobs) and a child logger binding `requestId`,
 * `queue` and `jobId` to every line; one line per job when it ends. Installed on @nestjs/bullmq's
 * ProcessorDecoratorService (its documented extension point) before the processors' workers are created.
 */
export function installJobContext(decorator: ProcessorDecoratorService, root: PinoLogger): void {
  decorator.decorate = (processor: Processor) => async (job: Job, token?: string) => {
    const requestId = (job.data as JobData | undefined)?.requestId ?? null;
    const log = root.child({
      ...(requestId ? { requestId } : {}),
      queue: job.queueName,
      job: job.name,
      jobId: job.id,
    });
    const started = Date.now();
    return runWithRequestId(requestId, () =>
      storage.run(new Store(log), async () => {
        try {
          const result: unknown = await processor(job, token);
          log.info({ ms: Date.now() - started, result }, 'job done');
          return result;
        } catch (err) {
          // BullMQ's control flow (moved back to the delayed set), not a failure
          if (!(err instanceof DelayedError || err instanceof WaitingChildrenError))
            log.warn({ err, attempt: job.attemptsMade + 1 }, 'job failed');
          throw err;
        }
      }),
    );
  };
}
