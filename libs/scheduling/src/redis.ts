import type { ConnectionOptions } from 'bullmq';

function base(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 2000,
  };
}

/**
 * Connection of the BullMQ workers (blocking commands): commands wait for Redis to come back
 * (maxRetriesPerRequest must be null for workers). Reconnects within 2 s of Redis's return, not after
 * ioredis's exponential back-off (BullMQ's default grows to 20 s).
 */
export function redisConnection(url: string): ConnectionOptions {
  return {
    ...base(url),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(times * 250, 2000),
  };
}

/**
 * Connection of the producers (the post-commit enqueue, the reconciler, health probes): never waits for
 * Redis. No offline queue (a command while disconnected fails at once), one retry, and a command
 * timeout (a frozen Redis, SIGSTOP, accepts the bytes and answers nothing).
 */
export function producerConnection(url: string, commandTimeoutMs: number): ConnectionOptions {
  return {
    ...base(url),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}
