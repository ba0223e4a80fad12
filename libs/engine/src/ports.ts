/** What the engine needs from the job queue. Implemented by libs/scheduling with BullMQ. */
export interface TimerJob {
  id: string;
  dueAt: Date;
}

export interface JobScheduler {
  /** enqueue delayed jobs whose job id is the timer row id (idempotent) */
  enqueueTimers(timers: readonly TimerJob[]): Promise<void>;
  /** best effort: a cancelled timer's job would be a no-op anyway */
  removeTimers(ids: readonly string[]): Promise<void>;
  /** enqueue delivery of outbox rows, job id = outbox row id (idempotent) */
  enqueueNotifications(ids: readonly string[]): Promise<void>;
  /** enqueue process effects (start / signal), job id = process_effect row id (idempotent) */
  enqueueProcessEffects?(ids: readonly string[]): Promise<void>;
}

/** A scheduler that does nothing: for tools (bench ceiling, CLI) that run no worker. */
export const NO_SCHEDULER: JobScheduler = {
  enqueueTimers: async () => undefined,
  removeTimers: async () => undefined,
  enqueueNotifications: async () => undefined,
};
