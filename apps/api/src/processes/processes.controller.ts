import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Logger,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ValidationFailedError, type Actor } from '@app/common';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from '@app/workflows';
import {
  Engine,
  HISTORY_PAGE_DEFAULT,
  processDiagram,
  ProcessQueryService,
  type HistoryEvent,
  type HistoryFilter,
  type StateAt,
  type VerifyResult,
} from '@app/engine';
import { CurrentActor } from '../auth/auth.guard';
import { UuidPipe } from '../http/uuid.pipe';
import {
  CreateProcessDto,
  ErrorResponseDto,
  HistoryEventDto,
  HistoryExportQueryDto,
  HistoryPageQueryDto,
  HistoryQueryDto,
  ListProcessesQueryDto,
  ProcessListDto,
  ProcessViewDto,
  SendEventDto,
  StateAtDto,
  StateAtQueryDto,
  VerifyResultDto,
} from './dto/process.dto';
import { EXPORT_CONTENT_TYPE, primed, serializeHistory } from './history-export';

const E = (status: number, description: string) =>
  ApiResponse({ status, description, type: ErrorResponseDto });

const ETAG = {
  ETag: {
    description: 'the process version, e.g. "3": send it back as If-Match',
    schema: { type: 'string' },
  },
} as const;

/**
 * If-Match: the one strong entity tag the API gives, the version in quotes (`"3"`). A weak tag (`W/"3"`) never
 * matches under If-Match's strong comparison (RFC 9110 §13.1.1), so it is refused like any other form (`*`, a
 * list, an unbalanced quote), not taken for the version.
 */
function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*"(\d{1,9})"\s*$/.exec(value);
  if (!m)
    throw new ValidationFailedError([
      {
        field: 'If-Match',
        errors: [
          /^\s*W\//.test(value)
            ? 'a weak entity tag never matches: send the version as the ETag gives it, e.g. "3"'
            : 'must be the process version in quotes, as the ETag gives it, e.g. "3"',
        ],
      },
    ]);
  return Number(m[1]);
}

function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(value)) {
    throw new ValidationFailedError([
      { field: 'Idempotency-Key', errors: ['1-200 characters of A-Z a-z 0-9 . _ : -'] },
    ]);
  }
  return value;
}

/** The history filters, with from <= to checked (the DTO checks each value alone). */
function historyFilter(q: HistoryQueryDto): HistoryFilter {
  if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) {
    throw new ValidationFailedError([{ field: 'from', errors: ['must not be after to'] }]);
  }
  return { actor: q.actor, type: q.type, from: q.from, to: q.to };
}

/** The next history page: the same filters, after the last seq of this one (a relative reference, RFC 8288). */
function nextLink(id: string, q: HistoryQueryDto, after: number, limit: number): string {
  const params = new URLSearchParams();
  for (const k of ['actor', 'type', 'from', 'to'] as const) {
    const v = q[k];
    if (v !== undefined) params.set(k, v);
  }
  params.set('after', String(after));
  params.set('limit', String(limit));
  return `</v1/processes/${id}/history?${params.toString()}>; rel="next"`;
}

@ApiTags('processes')
@ApiBearerAuth()
@E(401, 'missing, expired or invalid token')
@Controller('v1/processes')
export class ProcessesController {
  private readonly logger = new Logger('export');

  constructor(
    private readonly engine: Engine,
    private readonly query: ProcessQueryService,
    private readonly ds: DataSource,
    private readonly registry: DefinitionRegistry,
  ) {}

  @Get(':id/diagram')
  @ApiOperation({
    operationId: 'getProcessDiagram',
    summary: 'The process as a Mermaid state diagram, its current state marked',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description:
      'Mermaid stateDiagram-v2 of the process’s definition with its current state (class current) and each ente’s branch marked',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @E(400, 'INVALID_ID')
  @E(404, 'PROCESS_NOT_FOUND (also for another unione’s process)')
  async diagram(
    @Param('id', UuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const text = await processDiagram(this.ds, this.registry, id, actor);
    res.type('text/plain; charset=utf-8');
    return text;
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'startProcess',
    summary: 'Start a process',
    description:
      'Starts a process of a definition (`definition` selects the start input schema). Answers its view, ' +
      'with the version in ETag and the address in Location.',
  })
  @ApiResponse({
    status: 201,
    type: ProcessViewDto,
    description: 'started; ETag carries the version',
    headers: {
      ...ETAG,
      Location: { description: 'the address of the process', schema: { type: 'string' } },
    },
  })
  @E(400, 'VALIDATION_FAILED: invalid or unknown fields')
  @E(403, 'FORBIDDEN')
  @E(404, 'DEFINITION_NOT_FOUND')
  @E(
    409,
    'ALREADY_EXISTS: business key in use (details.processId: the process that holds it, e.g. the one a start whose answer was lost created)',
  )
  @E(422, 'ENTE_NOT_FOUND / RULE_VIOLATION (not a member)')
  async create(
    @Body() dto: CreateProcessDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProcessViewDto> {
    const view = await this.engine.start(
      { definition: dto.definition, businessKey: dto.businessKey, input: dto.input },
      actor,
    );
    res.setHeader('ETag', `"${view.version}"`);
    res.setHeader('Location', `/v1/processes/${view.id}`);
    return view;
  }

  @Get()
  @ApiOperation({ operationId: 'listProcesses', summary: 'List processes' })
  @ApiOkResponse({
    type: ProcessListDto,
    description: 'processes of the caller’s unione, earliest deadline first',
  })
  @E(400, 'VALIDATION_FAILED')
  list(@Query() q: ListProcessesQueryDto, @CurrentActor() actor: Actor) {
    return this.query.list({ ...q, limit: q.limit ?? 50, offset: q.offset ?? 0 }, actor);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getProcess',
    summary: 'Get a process',
    description: 'State, business view, the events the caller may send now and the armed timers.',
  })
  @ApiOkResponse({
    type: ProcessViewDto,
    description: 'the view; ETag carries the version',
    headers: ETAG,
  })
  @E(400, 'INVALID_ID')
  @E(404, 'PROCESS_NOT_FOUND (also for another unione’s process)')
  async get(
    @Param('id', UuidPipe) id: string,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProcessViewDto> {
    const view = await this.engine.viewOf(id, actor);
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @Post(':id/events')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'sendEvent',
    summary: 'Send an event to a process',
    description:
      'One transition in one transaction. The body is one of the event schemas, selected by `type`; ' +
      'each definition’s events and who may send them are listed by GET /v1/definitions.',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'expected version, e.g. "3": refused with 409 VERSION_CONFLICT if stale',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'the same key replays the first answer and changes nothing',
  })
  @ApiOkResponse({ type: ProcessViewDto, description: 'the view after the event', headers: ETAG })
  @E(400, 'VALIDATION_FAILED / INVALID_ID')
  @E(403, 'FORBIDDEN: role or ente not allowed')
  @E(404, 'PROCESS_NOT_FOUND')
  @E(409, 'TRANSITION_NOT_ALLOWED (details.allowedEvents) / VERSION_CONFLICT')
  @E(422, 'RULE_VIOLATION (details.rule) / IDEMPOTENCY_KEY_REUSED')
  async send(
    @Param('id', UuidPipe) id: string,
    @Body() dto: SendEventDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('idempotency-key') idemKey: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProcessViewDto> {
    const view = await this.engine.dispatch(id, { type: dto.type, payload: dto.payload }, actor, {
      expectedVersion: parseIfMatch(ifMatch),
      idempotencyKey: parseIdempotencyKey(idemKey),
    });
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @Get(':id/history')
  @ApiOperation({ operationId: 'getHistory', summary: 'Audit history of a process' })
  @ApiOkResponse({
    type: [HistoryEventDto],
    description:
      'audit events in seq order: who (actor subject, role, ente), when (occurredAt, recordedAt), what (type, payload), ' +
      'stateBefore → stateAfter, versionAfter, prevHash and hash. Filters: actor, type, from, to (instants with an offset). ' +
      `Paged by keyset: at most \`limit\` events (default ${HISTORY_PAGE_DEFAULT}) with seq > \`after\`; a page shorter ` +
      'than limit is the last, a full one carries `Link: <…>; rel="next"` (the same query with after = its last seq).',
    headers: {
      Link: {
        description: 'on a full page: the next page, `<url>; rel="next"` (RFC 8288)',
        schema: { type: 'string' },
      },
    },
  })
  @E(400, 'INVALID_ID / VALIDATION_FAILED (also a bad after or limit)')
  @E(404, 'PROCESS_NOT_FOUND (also for another unione’s process)')
  async history(
    @Param('id', UuidPipe) id: string,
    @Query() q: HistoryPageQueryDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HistoryEvent[]> {
    const limit = q.limit ?? HISTORY_PAGE_DEFAULT;
    const events = await this.query.history(id, actor, historyFilter(q), {
      after: q.after ?? 0,
      limit,
    });
    const last = events[events.length - 1];
    if (last && events.length === limit) res.setHeader('Link', nextLink(id, q, last.seq, limit));
    return events;
  }

  @Get(':id/history/export')
  @ApiProduces(EXPORT_CONTENT_TYPE.csv, EXPORT_CONTENT_TYPE.jsonl)
  @ApiOperation({ operationId: 'exportHistory', summary: 'Download the audit history' })
  @ApiOkResponse({
    schema: { type: 'string' },
    description:
      'the history as a download, streamed: CSV (header row, RFC 4180, payload as a JSON string) or JSON Lines ' +
      '(one history event per line). Same filters as /history.',
  })
  @E(400, 'INVALID_ID / VALIDATION_FAILED')
  @E(404, 'PROCESS_NOT_FOUND')
  async export(
    @Param('id', UuidPipe) id: string,
    @Query() q: HistoryExportQueryDto,
    @CurrentActor() actor: Actor,
  ): Promise<StreamableFile> {
    const format = q.format ?? 'csv';
    const exp = await this.query.exportHistory(id, actor, historyFilter(q));
    // the first page is read before any header is sent: if it fails, the answer is a JSON error
    const events = await primed(exp.events);
    return new StreamableFile(Readable.from(serializeHistory(events, format)), {
      type: EXPORT_CONTENT_TYPE[format],
      disposition: `attachment; filename="iter-${exp.instance.id}-history.${format}"`,
    }).setErrorHandler((err, res) => {
      // failed midway: abort the connection (no terminating chunk), so no client takes the file for complete
      this.logger.error({ err }, `export of ${id} failed`);
      res.destroy?.();
    });
  }

  @Get(':id/history/verify')
  @ApiOperation({ operationId: 'verifyHistory', summary: 'Verify the audit hash chain' })
  @ApiOkResponse({
    type: VerifyResultDto,
    description: 'recomputes the hash chain and names the first altered or missing seq',
  })
  @E(400, 'INVALID_ID')
  @E(404, 'PROCESS_NOT_FOUND')
  verify(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor): Promise<VerifyResult> {
    return this.query.verify(id, actor);
  }

  @Get(':id/state')
  @ApiOperation({ operationId: 'getStateAt', summary: 'State of a process at a past instant' })
  @ApiOkResponse({
    type: StateAtDto,
    description: 'the state at a past instant: the snapshot after the last event by then',
  })
  @E(400, 'INVALID_ID / VALIDATION_FAILED (at missing or not an instant with an offset)')
  @E(404, 'PROCESS_NOT_FOUND / BEFORE_PROCESS_START (details.startedAt)')
  stateAt(
    @Param('id', UuidPipe) id: string,
    @Query() q: StateAtQueryDto,
    @CurrentActor() actor: Actor,
  ): Promise<StateAt> {
    return this.query.stateAt(id, actor, q.at);
  }
}
