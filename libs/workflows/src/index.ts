export * from './definition';
export * from './effects';
export * from './notification-rows';
export * from './registry';
export * from './machine-support';
export * from './convention/convention.types';
export * from './convention/convention.events';
export { conventionMachine } from './convention/convention.machine';
export {
  conventionDefinitionV1,
  conventionTimers,
  conventionStateLabel,
} from './convention/convention.definition';
