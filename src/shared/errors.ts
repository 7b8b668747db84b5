/** Error types carried by ApplicationFailures across workflows and activities. */
export const ErrorType = {
  /** A workflow or activity was called with input it cannot work with; never retried. */
  InvalidInput: 'InvalidInput',
  /** The order system refused a callback (4xx other than 408/429); the workflow waits for a restart. */
  OrderSystemRejected: 'OrderSystemRejected',
  /**
   * The merchant named an instance id that another subscription's instance row already has
   * (merchants choose instance ids); nothing was saved, and retrying cannot change that.
   */
  InstanceIdTaken: 'InstanceIdTaken',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
