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

export interface TimerFiredJob {
  timerId: string;
}
export interface DeliverNotificationJob {
  outboxId: string;
}
export interface RunProcessEffectJob {
  effectId: string;
}
