export * from './queue-names';
export * from './bull-job-scheduler';
export * from './reconciler';
export * from './redis';
