/** Production-interface result codes (spec §3). */
export const ResultCode = {
  Success: '000000',
  AuthFailed: '000001',
  InvalidParameter: '000002',
  InstanceNotFound: '000003',
  Processing: '000004',
  InternalError: '000005',
  NoResource: '000100',
  MobileInvalid: '000101',
  EmailInvalid: '000102',
  CannotRebuy: '000103',
  ProductInternalError: '000104',
  BenefitAlreadyHeld: '000105',
  SoldOut: '000106',
  EmailDomainExists: '000107',
} as const;

export type ResultCodeValue = (typeof ResultCode)[keyof typeof ResultCode];

const descriptions: ReadonlyMap<string, string> = new Map(Object.entries({
  '000000': 'success',
  '000001': 'authentication or signature check failed',
  '000002': 'illegal request parameter',
  '000003': 'instance ID does not exist',
  '000004': 'request being processed asynchronously',
  '000005': 'other internal service error',
  '000100': 'no instance resource can be allocated',
  '000101': 'mobile number empty or already exists',
  '000102': 'e-mail empty or already exists',
  '000103': 'product cannot be bought again',
  '000104': 'internal service error of the product',
  '000105': 'account already holds the benefit and cannot subscribe again',
  '000106': 'product resources sold out',
  '000107': 'SaaS e-mail domain already exists',
  '000900': 'effective order has insufficient License quota',
  '000901': 'apply within the order validity window',
  '000902': 'periodic License needs an expiry date',
  '000903': 'device fingerprint or hardware ID required',
}));

/** A human-readable meaning for a result code; codes outside §3 are named as such. */
export function describeResultCode(code: string): string {
  return descriptions.get(code) ?? `undocumented result code ${code}`;
}

/** A result that completes the call. */
export function isSuccess(code: string): boolean {
  return code === ResultCode.Success;
}

/**
 * `000004` means "accepted, still working" only for create and query (spec §3); for every
 * other activity it is treated like any code other than 000000: a failure to retry.
 */
export function isProcessing(code: string): boolean {
  return code === ResultCode.Processing;
}
