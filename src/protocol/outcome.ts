/** The classified result of one merchant operation, as activities return it to workflows. */
export type MerchantCallOutcomeKind = 'success' | 'processing' | 'failure';

/** What one merchant call came to; never carries credentials. */
export interface MerchantCallOutcome {
  kind: MerchantCallOutcomeKind;
  activity: string;
  /** Epoch ms when the request was sent. */
  startedAtMs: number;
  latencyMs: number;
  resultCode?: string;
  resultMsg?: string;
  httpStatus?: number;
  error?: string;
  instanceId?: string;
  /** The activity wrote this attempt to the timeline itself (it was given the attempt to record). */
  attemptRecorded?: boolean;
}
