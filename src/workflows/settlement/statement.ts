/**
 * statementWorkflow: one merchant's statement of one period, `statement:<YYYYMM>:<merchantId>`,
 * through the steps of spec §9.2. Held first while the merchant's business information is
 * incomplete; then each operator step waits for its update (the invoices for the signal the
 * merchant's route sends once they add up), reminding after the step's working days and
 * again after each further such stretch. Every step entered is written to the statement row.
 */
import { allHandlersFinished, ApplicationFailure, condition, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import { stepKey } from '../../shared/ids';
import { FulfillmentStatusAttribute, MerchantIdAttribute, SettlementPeriodAttribute } from '../../shared/search-attributes';
import {
  businessInfoSignal,
  invoicesCompleteSignal,
  OPERATOR_ACTIONS,
  statementActionUpdate,
  statementStatusQuery,
  type OperatorStep,
  type StatementAction,
  type StatementSnapshot,
  type StatementStep,
  type StatementWorkflowInput,
} from './messages';
import { notices, records } from './proxies';
import { addWorkingDays } from './working-days';

/**
 * Change id: a statement with nothing to invoice (refunds and adjustments only, no currency and
 * rate adding up to more than zero) does not ask the merchant for invoices; its invoicing is
 * complete at once. Before it, such a statement waited at invoicing for good.
 */
export const NOTHING_TO_INVOICE_COMPLETES_INVOICING = 'nothing-to-invoice-completes-invoicing';

export async function statementWorkflow(input: StatementWorkflowInput): Promise<StatementSnapshot> {
  if (!input?.statementNumber || !input.merchantId || !/^\d{6}$/.test(input.period ?? '')) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'period, merchantId and statementNumber are required', nonRetryable: true });
  }
  const { workflowId } = workflowInfo();
  const state: StatementSnapshot = { statementNumber: input.statementNumber, period: input.period, merchantId: input.merchantId, step: 'draft', steps: [], remindersSent: 0 };
  let stepStartedMs = Date.now();
  let infoUpdated = false;
  let invoicesComplete = false;
  const done: Partial<Record<OperatorStep, string>> = {};
  /**
   * The step whose row is being written (see enter): the routes may read it from the row before
   * the workflow has taken the activity's result, and an operator's action for it is due already.
   */
  let entering: StatementStep | undefined;
  const dueStep = (): StatementStep => entering ?? state.step;

  setHandler(statementStatusQuery, () => state);
  setHandler(businessInfoSignal, () => {
    infoUpdated = true;
  });
  setHandler(invoicesCompleteSignal, () => {
    invoicesComplete = true;
  });
  setHandler(
    statementActionUpdate,
    async (action: StatementAction) => {
      const step = dueStep() as OperatorStep;
      done[step] = action.actor;
      // Answer with where the statement went, once the step's own work is done: the step was
      // entered (it may still have been entering when the action came) and left for the next.
      await condition(() => state.step !== step && state.steps.some((s) => s.step === step));
      return { step: state.step, ...(state.paymentRequestNumber ? { paymentRequestNumber: state.paymentRequestNumber } : {}) };
    },
    {
      validator: (action: StatementAction) => {
        const step = dueStep() as OperatorStep;
        const expected = OPERATOR_ACTIONS[step] as string | undefined;
        if (expected !== action.kind || done[step] !== undefined) {
          throw new Error(`statement ${input.statementNumber} is at step ${step}; ${expected ? `it takes ${expected}` : 'no operator action is due'}`);
        }
      },
    },
  );

  /** Writes the step to the statement's row first, so an update answered with it matches what the routes read. */
  async function enter(step: Exclude<StatementStep, 'draft'>, actor?: string, holdReason?: string): Promise<void> {
    entering = step;
    await records.recordStatementStep({ statementNumber: input.statementNumber, step, holdReason: holdReason ?? null });
    state.step = step;
    entering = undefined;
    state.holdReason = holdReason;
    stepStartedMs = Date.now();
    state.steps.push({ step, atMs: stepStartedMs, ...(actor ? { actor } : {}) });
    upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: `statement:${step}` }]);
  }

  /** Waits until `finished`, reminding every `days` working days of the step (when it has a duration). */
  async function waitWithReminders(step: Exclude<StatementStep, 'draft' | 'held' | 'paid'>, finished: () => boolean): Promise<void> {
    const days = input.settings.reminders[step];
    for (let reminder = 1; ; reminder += 1) {
      if (days === undefined) return condition(finished);
      const dueMs = addWorkingDays(stepStartedMs, days * reminder, input.settings.holidays);
      if (await condition(finished, Math.max(1, dueMs - Date.now()))) return;
      state.remindersSent += 1;
      await notices.remindStatementStep({
        idempotencyKey: stepKey(workflowId, `remind:${step}:${reminder}`),
        statementNumber: input.statementNumber,
        merchantId: input.merchantId,
        step,
        overdueWorkingDays: days * reminder,
      });
    }
  }

  async function operatorStep(step: OperatorStep): Promise<string> {
    await waitWithReminders(step, () => done[step] !== undefined);
    return done[step] as string;
  }

  // Operators find statements by period, merchant and step: SettlementPeriod = '202611' AND FulfillmentStatus = 'statement:invoicing'.
  upsertSearchAttributes([
    { key: SettlementPeriodAttribute, value: input.period },
    { key: MerchantIdAttribute, value: input.merchantId },
    { key: FulfillmentStatusAttribute, value: 'statement:draft' },
  ]);
  for (;;) {
    const missing = await records.missingBusinessInfo(input.merchantId);
    if (missing.length === 0) break;
    infoUpdated = false;
    await enter('held', undefined, `business information incomplete: ${missing.join(', ')} missing`);
    await condition(() => infoUpdated);
  }

  await enter('review');
  const reviewer = await operatorStep('review');
  await notices.notifyMerchant({
    idempotencyKey: stepKey(workflowId, 'sent'),
    merchantId: input.merchantId,
    subject: `Settlement statement ${input.statementNumber} for ${input.period}`,
    body: `Your settlement statement ${input.statementNumber} for period ${input.period} is ready. Differences go through a ticket and are adjusted in the next period.`,
  });
  await enter('countersign', reviewer);
  const countersigner = await operatorStep('countersign');
  await enter('payment-request', countersigner);
  const issuer = await operatorStep('payment-request');
  state.paymentRequestNumber = await records.issuePaymentRequest(input.statementNumber);
  const nothingToInvoice = patched(NOTHING_TO_INVOICE_COMPLETES_INVOICING) && !(await records.invoiceDue(input.statementNumber));
  if (!nothingToInvoice) await notices.notifyMerchant({
    idempotencyKey: stepKey(workflowId, 'invoice-requested'),
    merchantId: input.merchantId,
    subject: `Payment request ${state.paymentRequestNumber}: please invoice`,
    body: `Payment request ${state.paymentRequestNumber} for statement ${input.statementNumber} (period ${input.period}) is issued. Invoice it: one invoice covers only this payment request, the remarks carry ${state.paymentRequestNumber} and ${input.period}, and invoices are split by tax rate.`,
  });
  await enter('invoicing', issuer);
  if (nothingToInvoice) invoicesComplete = true;
  await waitWithReminders('invoicing', () => invoicesComplete);
  await enter('verification', input.merchantId);
  const verifier = await operatorStep('verification');
  await enter('payment', verifier);
  const payer = await operatorStep('payment');
  await enter('paid', payer);
  // The mark-paid update answers with the step it led to; let it before the run closes.
  await condition(allHandlersFinished);
  return state;
}
