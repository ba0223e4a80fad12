export const QueueName = {
  Timers: 'timers',
  Notifications: 'notifications',
  ProcessEffects: 'process-effects',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  TimerFired: 'timer.fired',
  DeliverNotification: 'notification.deliver',
  RunProcessEffect: 'process-effect.run',
} as const;

/**
 * requestId: the HTTP request that caused the job (absent when the reconciler enqueued it); the worker logs it
 * and runs the job with it as the current request id. Correlation only, never used to decide anything.
 */
export interface TimerFiredJob {
  timerId: string;
  requestId?: string;
}
export interface DeliverNotificationJob {
  outboxId: string;
  requestId?: string;
}
export interface RunProcessEffectJob {
  effectId: string;
  requestId?: string;
}
