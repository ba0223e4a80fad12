export * from './runtime.module';
export * from './tokens';
export * from './preflight';
