export * from './engine.service';
export * from './ports';
export * from './process-view';
export * from './authorization';
export * from './audit-hash';
export * from './validation';
export * from './process-query.service';
export * from './checkpoint';
