export const ITER_CONFIG = Symbol('ITER_CONFIG');
/** BullMQ queues used to produce jobs (no offline queue, bounded commands): see producerConnection() */
export const PRODUCER_QUEUES = Symbol('PRODUCER_QUEUES');
export { CLOCK } from '@app/common';
