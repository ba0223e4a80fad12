export * from './errors/domain-error';
export * from './clock';
export * from './canonical-json';
export * from './actor';
export * from './ente-codes';
export * from './config';
export * from './person-codes';
