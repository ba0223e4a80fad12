export * from './definition';
export * from './effects';
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
export {
  DEFAULT_RTD_POLICY,
  RTD_LEVELS,
  ACT_TYPES,
  PUBLICATION_CHANNELS,
  END_REASONS,
  type RtdPolicy,
  type RtdContext,
  type RtdInput,
  type RtdEvent,
  type Candidate,
  type Appointment,
  type EnteService,
  type EnteBranchState,
  type Vacancy,
} from './rtd/rtd.types';
export * from './rtd/rtd.events';
export { rtdMachine, deadlineOf as rtdDeadlineOf } from './rtd/rtd.machine';
export { rtdEnteMachine, stepBranch } from './rtd/rtd.ente.machine';
export { rtdDefinitionV1, rtdTimers, rtdStateLabel } from './rtd/rtd.definition';
export { RTD_RULES, REQUIREMENTS, missingRequirement, termEndMonths } from './rtd/rtd.rules';
export * from './diagram';
