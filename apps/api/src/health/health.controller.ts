import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DependencyMonitor, healthAnswer, type HealthProbe } from '@app/runtime';
import { Public } from '../auth/auth.guard';

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
  @ApiOperation({ summary: 'Postgres and Redis: up or down, and since when' })
  @ApiResponse({ status: 200, description: 'both answer' })
  @ApiResponse({ status: 503, description: 'SERVICE_UNAVAILABLE: details name what is down' })
  check(@Res() res: Response) {
    return this.answer('full', res);
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(@Res() res: Response) {
    return this.answer('live', res);
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: Postgres answers (Redis down only delays jobs)' })
  @ApiResponse({ status: 503, description: 'SERVICE_UNAVAILABLE' })
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
