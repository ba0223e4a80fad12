export const ITER_CONFIG = Symbol('ITER_CONFIG');
export { CLOCK } from '@app/common';
