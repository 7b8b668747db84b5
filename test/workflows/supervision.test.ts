/**
 * The supervision workflow (spec §9.1) on the time-skipping server with the real durations,
 * beside a real subscription workflow (fake activities at the activity boundary): the node
 * walk, a requirement sent back, rejection then appeal, an appeal freezing the flow until an
 * operator resolves it, the weekly reminders after 180 days, the licence variant, and the
 * validity start with and without the actual activation time moving the subscription's
 * expiry through refreshInstance.
 *
 * It moves the clock more than 200 days ahead, so it runs on a server of its own (a test
 * server's clock never goes back).
 */
import { recordHistory } from '../helpers/histories';
import { until } from '../helpers/until';
import { createSupervisionGateway, type SupervisionGateway } from '../../src/api/supervision/gateway';
import type { Actor, SupervisionActionBody, SupervisionSnapshot, SupervisionVariant } from '../../src/workflows/supervision/messages';
import { REMINDER_INTERVAL_MS, REMINDERS_START_AFTER_MS } from '../../src/workflows/supervision/workflow';
import { addMonths } from '../../src/workflows/supervision/validity';
import { MerchantIdAttribute, OrderIdAttribute, SupervisionNodeAttribute } from '../../src/shared/search-attributes';
import { advanceBy, DAY_MS, HOUR_MS, iso, paidOrder, waitUntilParked, workflowSuite, type SubscriptionHarness } from '../helpers/workflow-env';

const suite = workflowSuite({ ownServer: 'supervision' });

const customer: Actor = { type: 'customer', id: 'customer-1' };
const merchant: Actor = { type: 'merchant', id: 'merchant-1' };
const operator: Actor = { type: 'operator', id: 'ops@example.com' };

let actions = 0;

interface Supervised {
  h: SubscriptionHarness;
  gw: SupervisionGateway;
  workflowId: string;
  subscriptionId: string;
  paidAtMs: number;
  act(body: SupervisionActionBody, actor: Actor): Promise<string>;
  /** The customer's requirement, confirmed by the merchant: the line is in delivery. */
  toDelivery(): Promise<void>;
  status(): Promise<SupervisionSnapshot>;
  timeline(): string[];
}

/** A supervised monthly order: its subscription provisioned (with no expiry until acceptance), then its supervision started. */
async function supervised(h: SubscriptionHarness, variant: SupervisionVariant = 'service'): Promise<Supervised> {
  const order = paidOrder({ expireTime: undefined });
  const subscriptionId = await h.provision(order);
  const gw = createSupervisionGateway(suite.client, { taskQueue: h.taskQueue });
  const paidAtMs = await suite.env.currentTimeMs();
  const { workflowId } = await gw.start({
    variant,
    subscriptionWorkflowId: subscriptionId,
    order: { orderId: order.orderId, orderLineId: order.orderLineId, merchantId: order.merchantId, productId: order.productId, customerId: 'customer-1', chargingMode: 'PERIOD', periodType: 'month', periodNumber: 1, paidAtMs },
  });
  suite.started.push(workflowId);
  await waitUntilParked(suite.env, workflowId);
  const act: Supervised['act'] = async (body, actor) => {
    actions += 1;
    const result = await gw.act(workflowId, { ...body, actionId: `a-${Date.now()}-${actions}`, actor });
    return result.kind === 'done' ? result.answer.node : result.kind === 'refused' ? `refused: ${result.reason}` : 'ended';
  };
  return {
    h,
    gw,
    workflowId,
    subscriptionId,
    paidAtMs,
    act,
    async toDelivery() {
      expect(await act({ kind: 'requirement.submitted', requirement: 'r', documentIds: [] }, customer)).toBe('awaiting-confirmation');
      expect(await act({ kind: 'requirement.confirmed' }, merchant)).toBe('in-delivery');
    },
    status: () => gw.status(workflowId),
    timeline: () => h.activities.recordSupervisionStep.mock.calls.map(([step]) => step.entry?.action ?? '-'),
  };
}

/** Waits until the supervision has closed and returns its result. */
const finished = (s: Supervised): Promise<SupervisionSnapshot> => suite.client.workflow.getHandle(s.workflowId).result();

/** The expiries the merchant was sent with refreshInstance. */
const refreshedExpiries = (h: SubscriptionHarness): string[] => h.activities.callRefreshInstance.mock.calls.map(([c]) => c.expireTime);

test('when the nodes are walked to acceptance a month after payment without an activation time, then the validity starts at acceptance and the subscription refreshes the merchant', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    expect(await s.act({ kind: 'requirement.submitted', requirement: 'Set up 20 seats', documentIds: ['doc-1'] }, customer)).toBe('awaiting-confirmation');
    expect(await s.act({ kind: 'requirement.confirmed' }, merchant)).toBe('in-delivery');
    expect(await s.act({ kind: 'completion.confirmed', resultDescription: 'Seats created', documentId: 'doc-2' }, merchant)).toBe('awaiting-acceptance');
    // A month passes before the customer accepts (the spec's example: bought 1 Jan, accepted 1 Feb).
    await advanceBy(suite.env, s.workflowId, 31 * DAY_MS);
    const beforeAcceptanceMs = await suite.env.currentTimeMs();
    expect(await s.act({ kind: 'accepted' }, customer)).toBe('completed');

    const result = await finished(s);
    const acceptedAtMs = result.acceptedAtMs!;
    expect(acceptedAtMs - beforeAcceptanceMs).toBeGreaterThanOrEqual(0);
    expect(acceptedAtMs - beforeAcceptanceMs).toBeLessThan(HOUR_MS);
    expect(acceptedAtMs - s.paidAtMs).toBeGreaterThanOrEqual(31 * DAY_MS);
    expect(result).toMatchObject({ node: 'completed', validity: { startMs: acceptedAtMs, endMs: addMonths(acceptedAtMs, 1) }, validityDelivered: true });
    await until(async () => refreshedExpiries(h), (e) => e.length === 1);
    expect(refreshedExpiries(h)).toEqual([iso(addMonths(acceptedAtMs, 1))]);
    expect(h.activities.callRefreshInstance).toHaveBeenCalledWith(expect.objectContaining({ scene: 'RENEWAL', orderId: result.orderId, orderLineId: result.orderLineId }));
    await until(() => h.gateway.status(s.subscriptionId), (sub) => sub.expireTime === iso(addMonths(acceptedAtMs, 1)));
    expect(s.timeline()).toEqual(['started', 'requirement.submitted', 'requirement.confirmed', 'completion.confirmed', 'accepted', 'validity.set']);
    // Findable in the Web UI by order, merchant and node.
    const attributes = (await suite.client.workflow.getHandle(s.workflowId).describe()).typedSearchAttributes;
    expect([attributes.get(OrderIdAttribute), attributes.get(MerchantIdAttribute), attributes.get(SupervisionNodeAttribute)]).toEqual([result.orderId, 'merchant-1', 'completed']);
    const completed = h.activities.recordSupervisionStep.mock.calls.at(-1)![0];
    expect(completed).toMatchObject({ node: 'completed', completedAtMs: acceptedAtMs, acceptedAtMs });
    await recordHistory(suite.client, s.workflowId, 'happy-path', 'supervision');
  });
});

test('when the merchant gave the actual activation time (the payment day), then the validity starts then: paid + 1 month', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.toDelivery();
    await s.act({ kind: 'completion.confirmed', resultDescription: 'done', documentId: 'doc', actualActivationTime: iso(s.paidAtMs) }, merchant);
    await advanceBy(suite.env, s.workflowId, 31 * DAY_MS);
    await s.act({ kind: 'accepted' }, customer);
    const result = await finished(s);
    expect(result.validity).toEqual({ startMs: s.paidAtMs, endMs: addMonths(s.paidAtMs, 1) });
    await until(async () => refreshedExpiries(h), (e) => e.length === 1);
    expect(refreshedExpiries(h)).toEqual([iso(addMonths(s.paidAtMs, 1))]);
  });
});

test('when the merchant sends the requirement back, then the customer resubmits and the flow goes on from confirmation', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.act({ kind: 'requirement.submitted', requirement: 'vague', documentIds: [] }, customer);
    expect(await s.act({ kind: 'requirement.returned', reason: 'Which modules?' }, merchant)).toBe('requirement-returned');
    expect(await s.act({ kind: 'requirement.confirmed' }, merchant)).toBe('refused: not possible at node requirement-returned');
    expect(await s.act({ kind: 'requirement.submitted', requirement: 'HR and payroll', documentIds: [] }, customer)).toBe('awaiting-confirmation');
    expect(await s.act({ kind: 'requirement.confirmed' }, merchant)).toBe('in-delivery');
    expect(await s.status()).toMatchObject({ node: 'in-delivery', returns: 1 });
    await waitUntilParked(suite.env, s.workflowId);
    expect(s.timeline()).toEqual(['started', 'requirement.submitted', 'requirement.returned', 'requirement.submitted', 'requirement.confirmed']);
  });
});

test('when the customer rejects and appeals, then the flow is frozen until an operator sends it back to delivery; the merchant completes again and it is accepted', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.toDelivery();
    await s.act({ kind: 'completion.confirmed', resultDescription: 'first try', documentId: 'doc-a' }, merchant);
    expect(await s.act({ kind: 'rejected', reason: 'Payroll missing' }, customer)).toBe('rejected');
    expect(await s.act({ kind: 'appealed', reason: 'The merchant will not finish payroll', documentIds: [] }, customer)).toBe('appealed');
    expect(await s.act({ kind: 'completion.confirmed', resultDescription: 'second try', documentId: 'doc-b' }, merchant)).toBe(
      'refused: the supervision is frozen by an appeal until an operator resolves it',
    );
    expect(await s.status()).toMatchObject({ node: 'appealed', frozenNode: 'rejected', appeals: 1, rejections: 1 });
    expect(await s.act({ kind: 'appeal.resolved', outcome: 'redeliver', reason: 'payroll is in the order' }, operator)).toBe('in-delivery');
    expect(await s.act({ kind: 'completion.confirmed', resultDescription: 'payroll added', documentId: 'doc-b' }, merchant)).toBe('awaiting-acceptance');
    expect(await s.act({ kind: 'accepted' }, customer)).toBe('completed');
    expect(await finished(s)).toMatchObject({ node: 'completed', rejections: 1, appeals: 1 });
    expect(s.timeline()).toEqual([
      'started',
      'requirement.submitted',
      'requirement.confirmed',
      'completion.confirmed',
      'rejected',
      'appealed',
      'appeal.resolved',
      'completion.confirmed',
      'accepted',
      'validity.set',
    ]);
  });
});

test("when the merchant appeals a customer who never accepts, then proof is required, and an operator's acceptance closes the supervision", async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.toDelivery();
    await s.act({ kind: 'completion.confirmed', resultDescription: 'done', documentId: 'doc' }, merchant);
    expect(await s.act({ kind: 'appealed', reason: 'no answer for weeks', documentIds: [] }, merchant)).toMatch(/^refused: .*needs delivery proof/);
    expect(await s.act({ kind: 'appealed', reason: 'no answer for weeks', documentIds: ['proof-1'] }, merchant)).toBe('appealed');
    expect(await s.act({ kind: 'accepted' }, customer)).toMatch(/^refused: the supervision is frozen/);
    expect(await s.act({ kind: 'appeal.resolved', outcome: 'accept', reason: 'delivery proven' }, operator)).toBe('completed');
    const result = await finished(s);
    expect(result.validityDelivered).toBe(true);
  });
});

test('when an order stays unaccepted for 180 days, then the merchant and the account manager are reminded every week, and nothing closes it', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.act({ kind: 'requirement.submitted', requirement: 'r', documentIds: [] }, customer);
    await advanceBy(suite.env, s.workflowId, REMINDERS_START_AFTER_MS - HOUR_MS);
    expect(h.activities.notifyMerchant).not.toHaveBeenCalled();
    await advanceBy(suite.env, s.workflowId, 2 * HOUR_MS + 3 * REMINDER_INTERVAL_MS);
    await waitUntilParked(suite.env, s.workflowId);
    expect(h.activities.notifyMerchant).toHaveBeenCalledTimes(4);
    expect(h.activities.notifyAccountManager).toHaveBeenCalledTimes(4);
    expect(h.activities.notifyAccountManager).toHaveBeenCalledWith(expect.objectContaining({ customerId: 'customer-1', subject: expect.stringMatching(/not accepted after 180 days/) }));
    const remindedAt = h.activities.recordSupervisionStep.mock.calls.filter(([step]) => step.entry?.action === 'reminder.sent').map(([step]) => Math.round((step.entry!.atMs - s.paidAtMs) / HOUR_MS));
    // On the hour: 180 days after payment, then every 7 days.
    expect(remindedAt).toEqual([0, 1, 2, 3].map((week) => (REMINDERS_START_AFTER_MS + week * REMINDER_INTERVAL_MS) / HOUR_MS));
    expect(await s.status()).toMatchObject({ node: 'awaiting-confirmation', remindersSent: 4 });
    await recordHistory(suite.client, s.workflowId, 'reminders', 'supervision');
  });
});

test('when a licence is claimed, activated through the merchant and its proof uploaded, then it is accepted automatically and its period starts at acceptance', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h, 'licence');
    expect(await s.act({ kind: 'requirement.submitted', requirement: 'r', documentIds: [] }, customer)).toBe('refused: requirement.submitted does not apply to a licence supervision');
    expect(await s.act({ kind: 'licence.claimed' }, customer)).toBe('awaiting-activation');
    await advanceBy(suite.env, s.workflowId, 2 * DAY_MS);
    expect(await s.act({ kind: 'licence.activated' }, merchant)).toBe('awaiting-proof');
    await advanceBy(suite.env, s.workflowId, DAY_MS);
    expect(await s.act({ kind: 'delivery-proof.uploaded', documentId: 'proof' }, merchant)).toBe('completed');
    const result = await finished(s);
    const activatedAtMs = result.actualActivationMs!;
    const provedAtMs = result.acceptedAtMs!;
    // Activated two days after payment, proved a day later; the period starts at the (automatic) acceptance.
    expect(Math.round((activatedAtMs - s.paidAtMs) / HOUR_MS)).toBe(48);
    expect(Math.round((provedAtMs - activatedAtMs) / HOUR_MS)).toBe(24);
    expect(result).toMatchObject({ node: 'completed', validity: { startMs: provedAtMs, endMs: addMonths(provedAtMs, 1) } });
    await until(async () => refreshedExpiries(h), (e) => e.length === 1);
    expect(s.timeline()).toEqual(['started', 'licence.claimed', 'licence.activated', 'delivery-proof.uploaded', 'validity.set']);
    await recordHistory(suite.client, s.workflowId, 'licence', 'supervision');
  });
});

test('when the order is unsubscribed during an appeal, then the supervision closes without a validity, refuses further actions, and reminds nobody', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    await s.toDelivery();
    expect(await s.act({ kind: 'appealed', reason: 'too slow', documentIds: [] }, customer)).toBe('appealed');
    expect(await s.gw.close(s.workflowId, { eventId: 'evt-unsubscribe', orderId: 'UN-1' })).toBe('signalled');
    const result = await finished(s);
    expect(result).toMatchObject({ node: 'closed', remindersSent: 0 });
    expect(result.validity).toBeUndefined();
    expect(result.frozenNode).toBeUndefined();
    expect(s.timeline()).toEqual(['started', 'requirement.submitted', 'requirement.confirmed', 'appealed', 'order.unsubscribed']);
    expect(h.activities.recordSupervisionStep.mock.calls.at(-1)![0]).toMatchObject({ node: 'closed', entry: { detail: { orderId: 'UN-1', frozenNode: 'in-delivery' } } });
    expect(h.activities.recordSupervisionStep.mock.calls.at(-1)![0].completedAtMs).toBeUndefined();
    expect(await s.act({ kind: 'appeal.resolved', outcome: 'resume', reason: 'late' }, operator)).toBe('ended');
    expect(await s.gw.close(s.workflowId, { eventId: 'evt-again', orderId: 'UN-1' })).toBe('ended');
    expect(h.activities.callRefreshInstance).not.toHaveBeenCalled();
  });
});

test('when a supervision is started twice for the same order line, then the second start is a duplicate and no second flow runs', async () => {
  const h = suite.harness();
  await h.run(async () => {
    const s = await supervised(h);
    const snapshot = await s.status();
    const again = await s.gw.start({
      variant: 'service',
      subscriptionWorkflowId: s.subscriptionId,
      order: { orderId: snapshot.orderId, orderLineId: snapshot.orderLineId, merchantId: 'merchant-1', productId: 'product-1', customerId: 'customer-1', chargingMode: 'PERIOD', paidAtMs: s.paidAtMs },
    });
    expect(again).toEqual({ workflowId: s.workflowId, duplicate: true });
  });
});
