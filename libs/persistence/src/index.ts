export * from './data-source';
export * from './ente.repository';
export * from './seeds/unioni.fixture';
export * from './seeds/seed-unioni';
