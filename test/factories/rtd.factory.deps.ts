// the factory's imports from the libs, in one place (the Reflect polyfill comes first in rtd.factory.ts)
export { codiceFiscalePersonaCheckChar } from '@app/common';
export {
  DEFAULT_RTD_POLICY,
  type EnteFacts,
  type MachineEvent,
  type RtdInput,
  type RtdPolicy,
} from '@app/workflows';
