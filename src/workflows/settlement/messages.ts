/**
 * The settlement workflows' messages: inputs, the operators' step actions (one update, so the
 * route learns at once whether the action fits the step), the signals that release a held
 * statement and close invoicing, and the status query. All JSON-plain: they live in histories.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/**
 * Where a statement stands (spec §9.2). `draft`: computed, its merchant not yet checked.
 * `held`: the merchant's business information is
 * incomplete. Then review (and sending), countersign, the payment request (申付单), the
 * merchant's invoices, their verification, payment, paid.
 */
export type StatementStep = 'draft' | 'held' | 'review' | 'countersign' | 'payment-request' | 'invoicing' | 'verification' | 'payment' | 'paid';

/** Steps an operator completes, and the action that completes each. */
export const OPERATOR_ACTIONS = {
  review: 'approve-and-send',
  countersign: 'countersign',
  'payment-request': 'issue-payment-request',
  verification: 'verify-invoices',
  payment: 'mark-paid',
} as const;

export type OperatorStep = keyof typeof OPERATOR_ACTIONS;
export type StatementActionKind = (typeof OPERATOR_ACTIONS)[OperatorStep];

export interface StatementAction {
  kind: StatementActionKind;
  /** Who acted (the operator's name from the route). */
  actor: string;
}

/** How long each step may take before a reminder, in working days (none: no reminder). */
export type StepReminders = Partial<Record<Exclude<StatementStep, 'draft' | 'held' | 'paid'>, number>>;

export interface StatementSettings {
  reminders: StepReminders;
  /** Non-working days besides weekends, `YYYY-MM-DD` in Beijing time. */
  holidays: string[];
}

export interface StatementWorkflowInput {
  period: string;
  merchantId: string;
  statementNumber: string;
  settings: StatementSettings;
}

export interface StepRecord {
  step: StatementStep;
  atMs: number;
  actor?: string;
}

export interface StatementSnapshot {
  statementNumber: string;
  period: string;
  merchantId: string;
  step: StatementStep;
  holdReason?: string;
  paymentRequestNumber?: string;
  steps: StepRecord[];
  remindersSent: number;
}

/**
 * How a bill run starts its statements: pages of `pageSize` merchants, each page's children
 * started together, and a continue-as-new after `statementsPerRun` children, so one run's
 * history (two events per child) and its pending children stay far below the server's limits
 * however many merchants a period has.
 */
export interface StatementBatching {
  pageSize: number;
  statementsPerRun: number;
}

export const DEFAULT_STATEMENT_BATCHING: StatementBatching = { pageSize: 100, statementsPerRun: 1000 };

/** What a bill run carries into its next run: the scope computed once, and the cursor. */
export interface SettlementProgress {
  added: Record<string, number>;
  statements: number;
  started: number;
  /** The last merchant whose statement was started (statements go in merchant id order). */
  afterMerchantId: string;
  runs: number;
}

export interface SettlementWorkflowInput {
  /** `YYYYMM`. */
  period: string;
  startedBy: string;
  statement: StatementSettings;
  batching?: StatementBatching;
  /** Set only by the run's own continue-as-new. */
  progress?: SettlementProgress;
}

export interface SettlementResult {
  period: string;
  statements: number;
  /** Statement workflows this bill run started (a restarted run finds the others running). */
  started: number;
  added: Record<string, number>;
  /** Runs of the chain (1 + its continues-as-new). */
  runs: number;
}

/** What the monthly Schedule starts: it picks the period and starts its settlement. */
export interface BillRunInput {
  statement: StatementSettings;
}

export interface BillRunResult {
  period: string;
  /** False when the period had already been run (by an operator, or an earlier firing). */
  started: boolean;
  /** The statements of the period, once its settlement has started them all. */
  statements?: number;
}

export const statementActionUpdate = defineUpdate<{ step: StatementStep; paymentRequestNumber?: string }, [StatementAction]>('statementAction');
/** The merchant's business information was saved: check again. */
export const businessInfoSignal = defineSignal('businessInfoUpdated');
/** The merchant's invoices now add up to the statement (checked by the route in SQL). */
export const invoicesCompleteSignal = defineSignal('invoicesComplete');
export const statementStatusQuery = defineQuery<StatementSnapshot>('statementStatus');

export const settlementWorkflowId = (period: string): string => `settlement:${period}`;
export const statementWorkflowId = (period: string, merchantId: string): string => `statement:${period}:${merchantId}`;
