/**
 * The dial-test workflows' inputs and results (spec §1.6, §4). A Temporal Schedule starts
 * dialTestRunWorkflow twice a day; it starts one merchantDialTestsWorkflow per merchant,
 * `dial-tests:<merchantId>:<run>`, which replays each of the merchant's products' debug cases
 * and judges its days. All JSON-plain: they are stored in workflow histories.
 */

/** Spec §4: 5 consecutive days of dial-test failure → trading frozen and the product hidden. */
export const DIAL_TEST_FAILED_DAYS_TO_FREEZE = 5;

/** Merchants dialled at once by one run (each a child workflow), and listed per page. */
export const DIAL_TEST_MERCHANTS_AT_ONCE = 10;
export const DIAL_TEST_MERCHANTS_PER_PAGE = 100;
/** A run continues as new after this many merchants, so its history stays small. */
export const DIAL_TEST_MERCHANTS_PER_RUN = 500;

export interface DialTestRunInput {
  failedDaysToFreeze: number;
  /** Set by the run itself when it continues as new. */
  progress?: DialTestRunProgress;
}

export interface DialTestRunProgress {
  runAtMs: number;
  afterMerchantId: string;
  totals: DialTestRunTotals;
}

export interface DialTestRunTotals {
  merchants: number;
  /** Merchants whose run failed (an activity that kept failing); the others' results stand. */
  merchantRunsFailed: number;
  products: number;
  failed: number;
  frozen: number;
  lifted: number;
}

export interface MerchantDialTestsInput {
  merchantId: string;
  productIds: string[];
  /** The run's time on the workflow clock: its results' time and (in Beijing) day. */
  runAtMs: number;
  failedDaysToFreeze: number;
}

export interface ProductDialOutcome {
  productId: string;
  passed: boolean;
  failedDays: number;
  /** What the run did to the listing: the sanction imposed, lifted, or nothing. */
  action: 'frozen' | 'lifted' | 'none';
}

export type MerchantDialTestsStatus = 'running' | 'passed' | 'failed' | 'frozen';

export interface MerchantDialTestsResult {
  merchantId: string;
  status: MerchantDialTestsStatus;
  products: ProductDialOutcome[];
}

/** The run of one merchant; `run` is the run's time in Beijing, yyyyMMddHHmmss. */
export const merchantDialTestsWorkflowId = (merchantId: string, run: string): string => `dial-tests:${merchantId}:${run}`;

/** yyyyMMddHHmmss in Beijing time (UTC+8): the run part of the merchants' workflow ids. */
export function dialTestRunKey(runAtMs: number): string {
  return new Date(runAtMs + 8 * 60 * 60 * 1000).toISOString().replace(/\D/g, '').slice(0, 14);
}
