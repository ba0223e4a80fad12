import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { Response } from 'express';
import { DependencyMonitor, healthAnswer, type HealthProbe } from '@app/runtime';
import { Public } from '../auth/auth.guard';
import { ErrorResponseDto } from '../processes/dto/process.dto';

const DEPENDENCY: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    since: { type: 'string', format: 'date-time', nullable: true },
    error: { type: 'string' },
  },
};
const HEALTHY: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok'] },
    details: { type: 'object', additionalProperties: DEPENDENCY },
  },
};
const DOWN = {
  description: 'SERVICE_UNAVAILABLE: details name what is down and since when',
  schema: { $ref: getSchemaPath(ErrorResponseDto) },
};

/**
 * GET /health: Postgres and Redis, each `{ status: 'up'|'down', since, error? }`; 200 when both are up,
 * otherwise 503 in the error shape `{ code: 'SERVICE_UNAVAILABLE', message, details }` naming what is down
 * and since when. /health/live: the process answers. /health/ready: it can serve (Postgres up; with Redis
 * down the API keeps answering reads and writes and the jobs are enqueued when Redis returns).
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly monitor: DependencyMonitor) {}

  @Get()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Postgres and Redis: up or down, and since when',
  })
  @ApiOkResponse({ description: 'both answer', schema: HEALTHY })
  @ApiServiceUnavailableResponse(DOWN)
  check(@Res() res: Response) {
    return this.answer('full', res);
  }

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: 'the process answers', schema: HEALTHY })
  live(@Res() res: Response) {
    return this.answer('live', res);
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: Postgres answers (Redis down only delays jobs)',
  })
  @ApiOkResponse({ description: 'ready to serve', schema: HEALTHY })
  @ApiServiceUnavailableResponse(DOWN)
  ready(@Res() res: Response) {
    return this.answer('ready', res);
  }

  private async answer(probe: HealthProbe, res: Response): Promise<void> {
    const report = probe === 'live' ? null : await this.monitor.check();
    const a = healthAnswer(probe, report);
    if (a.status === 503) res.setHeader('Retry-After', '5');
    res.status(a.status).json(a.body);
  }
}
