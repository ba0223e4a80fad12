export * from './queue-names';
export * from './bull-job-scheduler';
export * from './reconciler';
export * from './redis';
export * from './resilient-job-scheduler';
export * from './worker-options';
