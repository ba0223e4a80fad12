export const QueueName = { Timers: 'timers', Notifications: 'notifications' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  TimerFired: 'timer.fired',
  DeliverNotification: 'notification.deliver',
} as const;

export interface TimerFiredJob {
  timerId: string;
}
export interface DeliverNotificationJob {
  outboxId: string;
}
