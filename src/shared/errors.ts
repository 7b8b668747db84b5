/** Error types carried by ApplicationFailures across workflows and activities. */
export const ErrorType = {
  /** A workflow or activity was called with input it cannot work with; never retried. */
  InvalidInput: 'InvalidInput',
  /** The order system refused a callback (4xx other than 408/429); the workflow waits for a restart. */
  OrderSystemRejected: 'OrderSystemRejected',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
