export * from './data-source';
export * from './ente.repository';
export * from './ente-registry-audit';
export * from './db-roles';
export * from './seeds/unioni.fixture';
export * from './seeds/seed-unioni';
