import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { QueueName } from '@app/scheduling';
import { Public } from '../auth/auth.guard';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    @InjectQueue(QueueName.Timers) private readonly timers: Queue,
  ) {}

  /** 200 when Postgres and Redis answer, 503 otherwise (terminus format). */
  @Get()
  // @HealthCheck() documents the 200 and 503 answers (terminus's body)
  @HealthCheck()
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness of Postgres and Redis' })
  check() {
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 2000 }),
      async () => {
        const i = this.indicator.check('redis');
        try {
          const client = await this.timers.client;
          let timer: NodeJS.Timeout | undefined;
          const pong = await Promise.race([
            (client as unknown as { ping(): Promise<string> }).ping(),
            new Promise<string>((_, rej) => {
              timer = setTimeout(() => rej(new Error('timeout')), 2000);
            }),
          ]).finally(() => clearTimeout(timer));
          return pong === 'PONG' ? i.up() : i.down({ message: pong });
        } catch (err) {
          return i.down({ message: (err as Error).message });
        }
      },
    ]);
  }
}
