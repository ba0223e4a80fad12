export * from './iter-metrics';
export * from './metrics-endpoint';
