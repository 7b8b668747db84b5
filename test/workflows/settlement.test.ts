/**
 * The settlement workflows (spec §9.2) on the time-skipping server, fake activities at the
 * activity boundary: a statement walked through every step with its reminders counted in
 * working days (a weekend and a configured holiday skipped), a statement held until the
 * merchant's business information arrives, and a period's bill run started twice.
 */
import { createSettlementGateway } from '../../src/api/settlement/gateway';
import {
  settlementWorkflowId,
  statementStatusQuery,
  statementWorkflowId,
  type StatementSettings,
  type StatementSnapshot,
} from '../../src/workflows/settlement/messages';
import { statementWorkflow } from '../../src/workflows/settlement/statement';
import { billRunWorkflow, settlementWorkflow } from '../../src/workflows/settlement/workflow';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  advanceTimers,
  DAY_MS,
  eventTimeMs,
  fulfillmentStatuses,
  historyEvents,
  HOUR_MS,
  patchIds,
  waitUntilParked,
  workflowSuite,
  type SubscriptionHarness,
} from '../helpers/workflow-env';
import { recordHistory } from '../helpers/histories';
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
    // Findable in the Web UI by period, merchant and step.
    const events = await historyEvents(suite.client, s.workflowId);
    expect(fulfillmentStatuses(events)).toEqual(['statement:draft', 'statement:review', 'statement:countersign', 'statement:payment-request', 'statement:invoicing', 'statement:verification', 'statement:payment', 'statement:paid']);
    expect(attributeValues(events, 'SettlementPeriod')).toEqual([s.period]);
    expect(attributeValues(events, 'MerchantId')).toEqual([s.merchantId]);
    await recordHistory(suite.client, s.workflowId, 'statement-every-step', 'settlement');
  });

  it('when an operator acts on a step the row shows before the workflow has taken up its write, then the action is accepted, not refused as out of turn', async () => {
    const h = suite.harness();
    const s = statementFor(h, { reminders: {}, holidays: [] });
    // The verification row is written (the routes read it) and the activity has not answered yet.
    let answerWrite = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      answerWrite = resolve;
    });
    let verificationWritten = false;
    h.activities.recordStatementStep.mockImplementation(async (r) => {
      if (r.step !== 'verification') return;
      verificationWritten = true;
      await held;
    });
    await h.run(async () => {
      await s.start();
      await until(s.status, (st) => st.step === 'review', { what: 'review not reached' });
      for (const kind of ['approve-and-send', 'countersign', 'issue-payment-request'] as const) {
        expect(await s.gateway.act(s.period, s.merchantId, { kind, actor: 'ops' })).toMatchObject({ kind: 'done' });
      }
      await s.gateway.invoicesComplete(s.period, s.merchantId);
      await until(async () => verificationWritten, (written) => written, { what: 'verification row not written' });
      const acting = s.gateway.act(s.period, s.merchantId, { kind: 'verify-invoices', actor: 'ops' });
      // Long enough for the update to be validated while the write is still in flight.
      await new Promise((resolve) => setTimeout(resolve, 500));
      answerWrite();
      expect(await acting).toEqual({ kind: 'done', step: 'payment', paymentRequestNumber: `SF-ST${s.period}-${s.merchantId}` });
      expect(await s.gateway.act(s.period, s.merchantId, { kind: 'mark-paid', actor: 'ops' })).toMatchObject({ kind: 'done', step: 'paid' });
    });
    await recordHistory(suite.client, s.workflowId, 'statement-action-while-entering', 'settlement');
  });

  it('when the invoices stay overdue, then the merchant is reminded every 10 working days until they add up', async () => {
    const h = suite.harness();
    const startMs = await toNext(1, 9);
    // Monday start; the second stretch of ten working days crosses a holiday Wednesday.
    const holiday = beijingDay(startMs + 16 * DAY_MS);
    const s = statementFor(h, { reminders: { invoicing: 10 }, holidays: [holiday] });
    const reminded: Array<{ atMs: number; overdue: number; step: string }> = [];
    h.activities.remindStatementStep.mockImplementation(async (r) => {
      reminded.push({ atMs: await suite.env.currentTimeMs(), overdue: r.overdueWorkingDays, step: r.step });
      return { notificationId: 'r' };
    });
    await h.run(async () => {
      await s.start();
      await until(s.status, (st) => st.step === 'review', { what: 'not in review' });
      for (const kind of ['approve-and-send', 'countersign', 'issue-payment-request'] as const) {
        expect((await s.gateway.act(s.period, s.merchantId, { kind, actor: 'ops' })).kind).toBe('done');
      }
      const invoicingAt = (await s.status()).steps.find((x) => x.step === 'invoicing')?.atMs ?? 0;
      await waitUntilParked(suite.env, s.workflowId);
      await advanceTimers(suite.env, s.workflowId, () => reminded.length >= 2, 40 * DAY_MS);
      // Ten working days: two calendar weeks; ten more: two weeks and the holiday.
      expect(reminded.map((r) => [r.step, r.overdue, Math.round((r.atMs - invoicingAt) / DAY_MS)])).toEqual([
        ['invoicing', 10, 14],
        ['invoicing', 20, 29],
      ]);
      expect((await s.status()).remindersSent).toBe(2);
      await s.gateway.invoicesComplete(s.period, s.merchantId);
      await until(s.status, (st) => st.step === 'verification', { what: 'verification not reached' });
    });
    expect(h.activities.remindStatementStep.mock.calls.map(([r]) => r.idempotencyKey)).toEqual([`${s.workflowId}:remind:invoicing:1`, `${s.workflowId}:remind:invoicing:2`]);
    await recordHistory(suite.client, s.workflowId, 'statement-invoicing-reminders', 'settlement');
  });

  it('when a statement has nothing to invoice, then its invoicing completes at once and the merchant is not asked for invoices', async () => {
    const h = suite.harness();
    const s = statementFor(h, { reminders: { invoicing: 10 }, holidays: [] });
    h.activities.invoiceDue.mockResolvedValue(false);
    await h.run(async () => {
      await s.start();
      await until(s.status, (st) => st.step === 'review', { what: 'not in review' });
      for (const kind of ['approve-and-send', 'countersign', 'issue-payment-request'] as const) {
        expect((await s.gateway.act(s.period, s.merchantId, { kind, actor: 'ops' })).kind).toBe('done');
      }
      await until(s.status, (st) => st.step === 'verification', { what: 'verification not reached' });
    });
    expect(h.activities.invoiceDue).toHaveBeenCalledWith(`ST${s.period}-${s.merchantId}`);
    expect(h.activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey)).toEqual([`${s.workflowId}:sent`]);
    expect(h.activities.remindStatementStep).not.toHaveBeenCalled();
    const events = await historyEvents(suite.client, s.workflowId);
    expect(patchIds(events)).toEqual(['nothing-to-invoice-completes-invoicing']);
    await recordHistory(suite.client, s.workflowId, 'statement-nothing-to-invoice', 'settlement');
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
    await recordHistory(suite.client, s.workflowId, 'statement-held-released', 'settlement');
  });
});

/** A fake page of statements over `merchants` (sorted), as the real activity reads them. */
function pagesOver(merchants: string[]) {
  return async ({ period, afterMerchantId, limit }: { period: string; afterMerchantId: string; limit: number }) =>
    merchants.filter((m) => m > afterMerchantId).slice(0, limit).map((merchantId) => ({ merchantId, statementNumber: `ST${period}-${merchantId}` }));
}

const uniquePeriod = (): string => `20${String(10 + (Date.now() % 80)).padStart(2, '0')}0${1 + (Date.now() % 9)}`;

/** The values a search attribute took in a history, in order (started with, then each upsert). */
function attributeValues(events: Awaited<ReturnType<typeof historyEvents>>, name: string): string[] {
  return events.flatMap((e) => {
    const payload = (e.workflowExecutionStartedEventAttributes ?? e.upsertWorkflowSearchAttributesEventAttributes)?.searchAttributes?.indexedFields?.[name];
    if (!payload) return [];
    const value = defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    return [String(Array.isArray(value) ? value[0] : value)];
  });
}

describe('settlementWorkflow', () => {
  it('when a period has more statements than one run starts, then it continues as new with the cursor, computes the scope once and starts each statement once', async () => {
    const h = suite.harness();
    const period = uniquePeriod();
    const stamp = Date.now().toString(36);
    const merchants = ['MA', 'MB', 'MC', 'MD', 'ME'].map((m) => `${m}-${stamp}`);
    h.activities.computeSettlementScope.mockImplementation(async (run) => ({ period: run.period, added: { order: 5, renewal: 0, upgrade: 0, refund: 0 }, statements: merchants.length }));
    h.activities.statementPage.mockImplementation(pagesOver(merchants));
    suite.started.push(settlementWorkflowId(period), ...merchants.map((m) => statementWorkflowId(period, m)));
    const statementRuns = async (merchantId: string) => (await historyEvents(suite.client, statementWorkflowId(period, merchantId))).length;
    await h.run(async () => {
      // An earlier, interrupted run of the period already started MB's statement.
      await suite.client.workflow.start(statementWorkflow, {
        workflowId: statementWorkflowId(period, merchants[1]!),
        taskQueue: h.taskQueue,
        args: [{ period, merchantId: merchants[1]!, statementNumber: `ST${period}-${merchants[1]}`, settings: { reminders: {}, holidays: [] } }],
      });
      await suite.client.workflow.start(settlementWorkflow, {
        workflowId: settlementWorkflowId(period),
        taskQueue: h.taskQueue,
        args: [{ period, startedBy: 'ops', statement: { reminders: {}, holidays: [] }, batching: { pageSize: 2, statementsPerRun: 2 } }],
      });
      const result = await suite.client.workflow.getHandle(settlementWorkflowId(period)).result();
      expect(result).toEqual({ period, statements: 5, started: 4, added: { order: 5, renewal: 0, upgrade: 0, refund: 0 }, runs: 3 });
      for (const m of merchants) await until(() => statementRuns(m), (n) => n > 0, { what: `no statement for ${m}` });
    });
    expect(h.activities.computeSettlementScope).toHaveBeenCalledTimes(1);
    expect(h.activities.statementPage.mock.calls.map(([p]) => p.afterMerchantId)).toEqual(['', merchants[1], merchants[3]]);
    // Every merchant's statement is one workflow, still running (abandoned by the runs that started it).
    for (const m of merchants) {
      const description = await suite.client.workflow.getHandle(statementWorkflowId(period, m)).describe();
      expect([m, description.status.name, description.raw.workflowExecutionInfo?.parentExecution?.workflowId ?? null]).toEqual([
        m,
        'RUNNING',
        m === merchants[1] ? null : settlementWorkflowId(period),
      ]);
    }
    // Three runs, each short: two children per run, never the whole period in one history.
    const first = await suite.client.workflow.getHandle(settlementWorkflowId(period)).describe();
    const firstRun = await historyEvents(suite.client, settlementWorkflowId(period), first.raw.workflowExecutionInfo?.firstRunId ?? undefined);
    expect(attributeValues(firstRun, 'SettlementPeriod')[0]).toBe(period);
    expect(attributeValues(firstRun, 'FulfillmentStatus')).toEqual(['settlement:computing', 'settlement:starting-statements']);
    const last = await historyEvents(suite.client, settlementWorkflowId(period));
    expect(attributeValues(last, 'FulfillmentStatus')).toEqual(['settlement:starting-statements', 'settlement:statements-started']);
    // Each run starts at most its batch of children: [MA, MB], [MC, MD], [ME].
    const childStarts: string[][] = [];
    for (let runId: string | undefined = first.raw.workflowExecutionInfo?.firstRunId ?? undefined; runId; ) {
      const events = await historyEvents(suite.client, settlementWorkflowId(period), runId);
      childStarts.push(events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []));
      runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(childStarts).toEqual([merchants.slice(0, 2), merchants.slice(2, 4), merchants.slice(4)].map((ms) => ms.map((m) => statementWorkflowId(period, m))));
    await recordHistory(suite.client, settlementWorkflowId(period), 'continue-as-new', 'settlement');
  });

  it('when a period is started twice, then the second start is a no-op and each merchant has one statement workflow', async () => {
    const h = suite.harness();
    const period = uniquePeriod();
    const merchants = [`MA-${Date.now()}`, `MB-${Date.now()}`];
    h.activities.computeSettlementScope.mockImplementation(async (run) => ({ period: run.period, added: { order: 2, renewal: 0, upgrade: 0, refund: 0 }, statements: 2 }));
    h.activities.statementPage.mockImplementation(pagesOver(merchants));
    const gateway = createSettlementGateway(suite.client, { taskQueue: h.taskQueue, statement: { reminders: {}, holidays: [] } });
    suite.started.push(settlementWorkflowId(period), ...merchants.map((m) => statementWorkflowId(period, m)));
    await h.run(async () => {
      const first = await gateway.startRun(period, 'ops');
      expect(first).toEqual({ workflowId: `settlement:${period}`, duplicate: false });
      const result = await suite.client.workflow.getHandle(first.workflowId).result();
      expect(result).toEqual({ period, statements: 2, started: 2, added: { order: 2, renewal: 0, upgrade: 0, refund: 0 }, runs: 1 });
      expect(await gateway.startRun(period, 'ops')).toEqual({ workflowId: `settlement:${period}`, duplicate: true });
    });
    expect(h.activities.computeSettlementScope).toHaveBeenCalledTimes(1);
    for (const m of merchants) {
      const description = await suite.client.workflow.getHandle(statementWorkflowId(period, m)).describe();
      expect(description.status.name).toBe('RUNNING');
    }
  });
});

/** The next 3rd of a month that falls on a Saturday or Sunday, at 01:00 Beijing time, after `nowMs`. */
function nextWeekendBillDay(nowMs: number): number {
  for (let day = Date.parse(`${beijingDay(nowMs)}T01:00:00+08:00`); ; day += DAY_MS) {
    const local = new Date(day + BEIJING_MS);
    if (day > nowMs && local.getUTCDate() === 3 && (local.getUTCDay() === 0 || local.getUTCDay() === 6)) return day;
  }
}

describe('billRunWorkflow', () => {
  it('when the bill day falls on a weekend before a holiday Monday, then it waits to 01:00 on Tuesday and settles the previous month, once', async () => {
    const h = suite.harness();
    const billDayMs = nextWeekendBillDay(await suite.env.currentTimeMs());
    const saturday = new Date(billDayMs + BEIJING_MS).getUTCDay() === 6;
    const mondayMs = billDayMs + (saturday ? 2 : 1) * DAY_MS;
    const tuesdayMs = mondayMs + DAY_MS;
    const statement = { reminders: {}, holidays: [beijingDay(mondayMs)] };
    const [year, month] = beijingDay(billDayMs).split('-').map(Number) as [number, number];
    const period = month === 1 ? `${year - 1}12` : `${year}${String(month - 1).padStart(2, '0')}`;
    await suite.env.sleep(billDayMs - (await suite.env.currentTimeMs()));
    const runs = ['bill-run-test-1', 'bill-run-test-2'];
    suite.started.push(...runs, settlementWorkflowId(period));
    await h.run(async () => {
      await suite.client.workflow.start(billRunWorkflow, { workflowId: runs[0]!, taskQueue: h.taskQueue, args: [{ statement }] });
      await waitUntilParked(suite.env, runs[0]!);
      const settlementStarted = () => historyEvents(suite.client, settlementWorkflowId(period)).then((events) => events.length > 0, () => false);
      await advanceTimers(suite.env, runs[0]!, settlementStarted, 4 * DAY_MS);
      expect(await suite.client.workflow.getHandle(runs[0]!).result()).toEqual({ period, started: true, statements: 0 });
      // The schedule firing again (a catch-up, or an operator's trigger) leaves the period alone.
      await suite.client.workflow.start(billRunWorkflow, { workflowId: runs[1]!, taskQueue: h.taskQueue, args: [{ statement }] });
      expect(await suite.client.workflow.getHandle(runs[1]!).result()).toEqual({ period, started: false });
    });
    const settlement = await historyEvents(suite.client, settlementWorkflowId(period));
    const startedAt = eventTimeMs(settlement[0]!);
    expect(startedAt).toBeGreaterThanOrEqual(tuesdayMs);
    expect(startedAt).toBeLessThan(tuesdayMs + HOUR_MS);
    expect(settlement[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.length).toBe(1);
    expect(h.activities.computeSettlementScope).toHaveBeenCalledTimes(1);
    expect(h.activities.computeSettlementScope).toHaveBeenCalledWith({ period, startedBy: 'schedule' });
    expect(attributeValues(await historyEvents(suite.client, runs[0]!), 'FulfillmentStatus')).toEqual(['bill-run:waiting-for-working-day', 'bill-run:settling', 'bill-run:statements-started']);
    expect(attributeValues(await historyEvents(suite.client, runs[1]!), 'FulfillmentStatus')).toEqual(['bill-run:period-already-run']);
    await recordHistory(suite.client, runs[0]!, 'bill-run-weekend', 'settlement');
  });
});
