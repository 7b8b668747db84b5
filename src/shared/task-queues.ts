/** The default task queue of the fulfilment worker (overridable by TEMPORAL_TASK_QUEUE). */
export const DEFAULT_TASK_QUEUE = 'saas-fulfillment';
