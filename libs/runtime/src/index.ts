export * from './runtime.module';
export * from './tokens';
export * from './preflight';
export * from './dependency-monitor';
export * from './health-body';
export * from './metrics';
export * from './migrations-check';
