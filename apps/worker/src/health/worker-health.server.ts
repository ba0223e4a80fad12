import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { IterConfig } from '@app/common';
import {
  DependencyMonitor,
  healthAnswer,
  ITER_CONFIG,
  IterMetrics,
  serveMetrics,
  type HealthProbe,
} from '@app/runtime';

const ROUTES: Record<string, HealthProbe> = {
  '/health': 'full',
  '/health/live': 'live',
  '/health/ready': 'ready',
};

/**
 * The worker's health over HTTP on WORKER_HEALTH_PORT (0: a free port, logged): the same answers as the
 * api's /health, /health/live and /health/ready, plus the clock check; ready also needs Redis (a worker
 * without it takes no job) and every migration applied. docker-compose polls /health/ready. GET /metrics:
 * the worker's Prometheus series (METRICS_TOKEN, docs/metrics.md).
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('health');
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly monitor: DependencyMonitor,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
    private readonly metrics: IterMetrics,
  ) {
    monitor.readyWithoutRedis = false;
  }

  async onApplicationBootstrap(): Promise<void> {
    const metrics = serveMetrics(this.metrics, this.config);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/metrics') {
        metrics(req, res);
        return;
      }
      const probe = req.method === 'GET' ? ROUTES[path] : undefined;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (!probe) {
        send(404, { code: 'ROUTE_NOT_FOUND', message: 'Risorsa inesistente' });
        return;
      }
      const report = probe === 'live' ? Promise.resolve(null) : this.monitor.check();
      report.then(
        (r) => {
          const a = healthAnswer(probe, r);
          if (a.status === 503) res.setHeader('Retry-After', '5');
          send(a.status, a.body);
        },
        (err: unknown) => send(500, { code: 'INTERNAL_ERROR', message: String(err) }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.workerHealthPort, this.config.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.log.log(
      `worker health on port ${this.port} (/health, /health/live, /health/ready, /metrics)`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
