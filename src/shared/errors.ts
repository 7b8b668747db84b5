/** Error types carried by ApplicationFailures across workflows and activities. */
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  MerchantNotFound: 'MerchantNotFound',
  MerchantRejected: 'MerchantRejected',
  MerchantUnavailable: 'MerchantUnavailable',
  OrderSystemRejected: 'OrderSystemRejected',
  DuplicateEvent: 'DuplicateEvent',
  ConfigurationError: 'ConfigurationError',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
