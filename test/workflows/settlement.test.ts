/**
 * The settlement workflows (spec §9.2) on the time-skipping server, fake activities at the
 * activity boundary: a statement walked through every step with its reminders counted in
 * working days (a weekend and a configured holiday skipped), a statement held until the
 * merchant's business information arrives, and a period's bill run started twice.
 */
import { createSettlementGateway } from '../../src/api/settlement/gateway';
import {
  statementStatusQuery,
  statementWorkflowId,
  type StatementSettings,
  type StatementSnapshot,
} from '../../src/workflows/settlement/messages';
import { statementWorkflow } from '../../src/workflows/settlement/statement';
import { advanceTimers, DAY_MS, HOUR_MS, waitUntilParked, workflowSuite, type SubscriptionHarness } from '../helpers/workflow-env';
import { until } from '../helpers/until';

const suite = workflowSuite({ ownServer: 'settlement' });

const BEIJING_MS = 8 * HOUR_MS;

/** Server time moved to the next such weekday (0 Sunday … 6 Saturday) at this Beijing hour; returns that instant. */
async function toNext(weekday: number, hour: number): Promise<number> {
  const now = await suite.env.currentTimeMs();
  const local = new Date(now + BEIJING_MS);
  const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - BEIJING_MS;
  let target = midnight + hour * HOUR_MS;
  while (target <= now || new Date(target + BEIJING_MS).getUTCDay() !== weekday) target += DAY_MS;
  await suite.env.sleep(target - now);
  return target;
}

const beijingDay = (ms: number): string => new Date(ms + BEIJING_MS).toISOString().slice(0, 10);

let counter = 0;
function statementFor(h: SubscriptionHarness, settings: StatementSettings) {
  counter += 1;
  const merchantId = `M-${Date.now().toString(36)}-${counter}`;
  const period = '202611';
  const workflowId = statementWorkflowId(period, merchantId);
  const gateway = createSettlementGateway(suite.client, { taskQueue: h.taskQueue, statement: settings });
  return {
    merchantId,
    period,
    workflowId,
    gateway,
    async start(): Promise<void> {
      await suite.client.workflow.start(statementWorkflow, {
        workflowId,
        taskQueue: h.taskQueue,
        args: [{ period, merchantId, statementNumber: `ST${period}-${merchantId}`, settings }],
      });
      suite.started.push(workflowId);
    },
    status: (): Promise<StatementSnapshot> => suite.client.workflow.getHandle(workflowId).query(statementStatusQuery),
  };
}

describe('statementWorkflow', () => {
  it('when every step is done in turn, then it walks to paid, reminding of an overdue review after 2 working days past a weekend and a holiday', async () => {
    const h = suite.harness();
    const startMs = await toNext(4, 10);
    // Thursday start; Friday is working day 1; Saturday, Sunday and the holiday Monday do not count; Tuesday is day 2.
    const holiday = beijingDay(startMs + 4 * DAY_MS);
    const s = statementFor(h, { reminders: { review: 2, invoicing: 10 }, holidays: [holiday] });
    const remindedAt: number[] = [];
    h.activities.remindStatementStep.mockImplementation(async () => {
      remindedAt.push(await suite.env.currentTimeMs());
      return { notificationId: 'r' };
    });
    await h.run(async () => {
      await s.start();
      await waitUntilParked(suite.env, s.workflowId);
      await advanceTimers(suite.env, s.workflowId, () => remindedAt.length > 0, 10 * DAY_MS);
      // Due the same time of day five calendar days after the review began (its timer), not two or four.
      const reviewAt = (await s.status()).steps[0]?.atMs ?? 0;
      expect(reviewAt - startMs).toBeLessThan(HOUR_MS);
      expect(remindedAt[0]).toBeGreaterThanOrEqual(reviewAt + 5 * DAY_MS);
      expect(remindedAt[0]).toBeLessThan(reviewAt + 5 * DAY_MS + HOUR_MS);
      expect(beijingDay(remindedAt[0] ?? 0)).toBe(beijingDay(startMs + 5 * DAY_MS));
      expect(h.activities.remindStatementStep).toHaveBeenCalledWith(expect.objectContaining({ step: 'review', overdueWorkingDays: 2 }));

      // A step out of turn is refused and changes nothing.
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'mark-paid', actor: 'ops' })).toEqual({
        kind: 'refused',
        reason: expect.stringContaining('at step review'),
      });
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'approve-and-send', actor: 'ops' })).toEqual({ kind: 'done', step: 'countersign' });
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'countersign', actor: 'ops' })).toEqual({ kind: 'done', step: 'payment-request' });
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'issue-payment-request', actor: 'ops' })).toEqual({
        kind: 'done',
        step: 'invoicing',
        paymentRequestNumber: `SF-ST${s.period}-${s.merchantId}`,
      });
      await s.gateway.invoicesComplete(s.period, s.merchantId);
      await until(s.status, (st) => st.step === 'verification', { what: 'verification not reached' });
      const paymentRequestNumber = `SF-ST${s.period}-${s.merchantId}`;
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'verify-invoices', actor: 'ops' })).toEqual({ kind: 'done', step: 'payment', paymentRequestNumber });
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'mark-paid', actor: 'ops' })).toEqual({ kind: 'done', step: 'paid', paymentRequestNumber });
      const result = (await suite.client.workflow.getHandle(s.workflowId).result()) as StatementSnapshot;
      expect(result.steps.map((x) => x.step)).toEqual(['review', 'countersign', 'payment-request', 'invoicing', 'verification', 'payment', 'paid']);
    });
    expect(h.activities.recordStatementStep.mock.calls.map(([r]) => r.step)).toEqual(['review', 'countersign', 'payment-request', 'invoicing', 'verification', 'payment', 'paid']);
    expect(h.activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey)).toEqual([`${s.workflowId}:sent`, `${s.workflowId}:invoice-requested`]);
    expect(h.activities.remindStatementStep).toHaveBeenCalledTimes(1);
  });

  it('when the merchant lacks business information, then the statement is held with that reason until it arrives', async () => {
    const h = suite.harness();
    const s = statementFor(h, { reminders: {}, holidays: [] });
    h.activities.missingBusinessInfo.mockResolvedValueOnce(['bankAccount', 'taxId']).mockResolvedValueOnce(['taxId']).mockResolvedValue([]);
    await h.run(async () => {
      await s.start();
      await until(s.status, (st) => st.step === 'held', { what: 'not held' });
      expect((await s.status()).holdReason).toBe('business information incomplete: bankAccount, taxId missing');
      await s.gateway.businessInfoUpdated([{ period: s.period, merchantId: s.merchantId }]);
      await until(s.status, (st) => st.holdReason === 'business information incomplete: taxId missing', { what: 'not held for the tax id' });
      expect((await s.status()).step).toBe('held');
      await s.gateway.businessInfoUpdated([{ period: s.period, merchantId: s.merchantId }]);
      await until(s.status, (st) => st.step === 'review', { what: 'not released to review' });
    });
    expect(h.activities.recordStatementStep.mock.calls.map(([r]) => [r.step, r.holdReason])).toEqual([
      ['held', 'business information incomplete: bankAccount, taxId missing'],
      ['held', 'business information incomplete: taxId missing'],
      ['review', null],
    ]);
  });
});

describe('settlementWorkflow', () => {
  it('when a period is started twice, then the second start is a no-op and each merchant has one statement workflow', async () => {
    const h = suite.harness();
    const period = `20${String(10 + (Date.now() % 80)).padStart(2, '0')}0${1 + (Date.now() % 9)}`;
    const merchants = [`MA-${Date.now()}`, `MB-${Date.now()}`];
    h.activities.computeSettlementScope.mockImplementation(async (run) => ({
      period: run.period,
      added: { order: 2, renewal: 0, upgrade: 0, refund: 0 },
      statements: merchants.map((merchantId) => ({ merchantId, statementNumber: `ST${run.period}-${merchantId}` })),
    }));
    const gateway = createSettlementGateway(suite.client, { taskQueue: h.taskQueue, statement: { reminders: {}, holidays: [] } });
    await h.run(async () => {
      const first = await gateway.startRun(period, 'ops');
      suite.started.push(first.workflowId, ...merchants.map((m) => statementWorkflowId(period, m)));
      expect(first).toEqual({ workflowId: `settlement:${period}`, duplicate: false });
      const result = await suite.client.workflow.getHandle(first.workflowId).result();
      expect(result).toEqual({ period, statements: 2, started: 2, added: { order: 2, renewal: 0, upgrade: 0, refund: 0 } });
      expect(await gateway.startRun(period, 'ops')).toEqual({ workflowId: `settlement:${period}`, duplicate: true });
    });
    expect(h.activities.computeSettlementScope).toHaveBeenCalledTimes(1);
    for (const m of merchants) {
      const description = await suite.client.workflow.getHandle(statementWorkflowId(period, m)).describe();
      expect(description.status.name).toBe('RUNNING');
    }
  });
});
