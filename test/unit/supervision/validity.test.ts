/** Validity start (spec §9.1) and the node rules of a supervision, as pure functions. */
import { addMonths, validityAfterAcceptance } from '../../../src/workflows/supervision/validity';
import { applyAction, close, initialState, refusal } from '../../../src/workflows/supervision/state';
import type { SupervisedOrder, SupervisionAction, SupervisionActionBody } from '../../../src/workflows/supervision/messages';

const ms = (iso: string): number => Date.parse(iso);
const iso = (value: number): string => new Date(value).toISOString();

describe('validity start', () => {
  // The spec's example: bought 1 Jan (a month), accepted 1 Feb.
  const monthly = { periodType: 'month', periodNumber: 1, paidAtMs: ms('2026-01-01T00:00:00Z'), orderExpireAtMs: ms('2026-02-01T00:00:00Z') };

  test('when the merchant gave no actual activation time, then the period starts at acceptance: 1 Feb – 1 Mar', () => {
    const v = validityAfterAcceptance(monthly, ms('2026-02-01T00:00:00Z'));
    expect([iso(v!.startMs), iso(v!.endMs)]).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  });

  test('when the merchant gave the actual activation time 1 Jan, then the period starts then: 1 Jan – 1 Feb', () => {
    const v = validityAfterAcceptance(monthly, ms('2026-02-01T00:00:00Z'), ms('2026-01-01T00:00:00Z'));
    expect([iso(v!.startMs), iso(v!.endMs)]).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
  });

  test('when a month has fewer days than the start day, then the period ends on its last day; years count as 12 months', () => {
    expect(iso(addMonths(ms('2026-01-31T08:00:00Z'), 1))).toBe('2026-02-28T08:00:00.000Z');
    expect(iso(addMonths(ms('2028-01-31T08:00:00Z'), 1))).toBe('2028-02-29T08:00:00.000Z');
    const yearly = validityAfterAcceptance({ periodType: 'year', periodNumber: 2, paidAtMs: 0 }, ms('2026-03-15T00:00:00Z'));
    expect(iso(yearly!.endMs)).toBe('2028-03-15T00:00:00.000Z');
  });

  test('when the period type is unknown, then the order length (expiry − payment) is kept; without either there is no period', () => {
    const odd = validityAfterAcceptance({ periodType: 'fortnight', periodNumber: 1, paidAtMs: ms('2026-01-01T00:00:00Z'), orderExpireAtMs: ms('2026-01-15T00:00:00Z') }, ms('2026-02-01T00:00:00Z'));
    expect(iso(odd!.endMs)).toBe('2026-02-15T00:00:00.000Z');
    expect(validityAfterAcceptance({ paidAtMs: 0 }, ms('2026-02-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('node rules', () => {
  const order: SupervisedOrder = { orderId: 'O1', orderLineId: 'O1-1', merchantId: 'M1', productId: 'P1', customerId: 'C1', chargingMode: 'PERIOD', paidAtMs: 1_000 };
  const merchant = { type: 'merchant', id: 'M1' } as const;
  const customer = { type: 'customer', id: 'C1' } as const;
  const act = (body: SupervisionActionBody, actor: SupervisionAction['actor']): SupervisionAction => ({ ...body, actionId: 'a', actor });

  test('when the merchant confirms before the customer submitted a requirement, then it is refused and the node stays', () => {
    const state = initialState({ variant: 'service', order, subscriptionWorkflowId: 's' }, 1_000);
    expect(refusal(state, act({ kind: 'requirement.confirmed' }, merchant), 2_000)).toBe('not possible at node awaiting-requirement');
    expect(refusal(state, act({ kind: 'requirement.submitted', requirement: 'r', documentIds: [] }, merchant), 2_000)).toBe('requirement.submitted is not for the merchant');
    expect(state.node).toBe('awaiting-requirement');
  });

  test('when the merchant appeals a customer who does not accept, then delivery proof is required', () => {
    const state = initialState({ variant: 'service', order, subscriptionWorkflowId: 's' }, 1_000);
    state.node = 'awaiting-acceptance';
    expect(refusal(state, act({ kind: 'appealed', reason: 'silent', documentIds: [] }, merchant), 2_000)).toMatch(/needs delivery proof/);
    expect(refusal(state, act({ kind: 'appealed', reason: 'silent', documentIds: ['d'] }, merchant), 2_000)).toBeUndefined();
  });

  test('when an appeal is open, then every party action is refused until an operator resolves it, and resume goes back to the frozen node', () => {
    const state = initialState({ variant: 'service', order, subscriptionWorkflowId: 's' }, 1_000);
    applyAction(state, act({ kind: 'appealed', reason: 'no answer', documentIds: [] }, customer), 2_000);
    expect(state.node).toBe('appealed');
    expect(refusal(state, act({ kind: 'requirement.submitted', requirement: 'r', documentIds: [] }, customer), 3_000)).toMatch(/frozen by an appeal/);
    applyAction(state, act({ kind: 'appeal.resolved', outcome: 'resume', reason: 'settled' }, { type: 'operator', id: 'op' }), 4_000);
    expect(state.node).toBe('awaiting-requirement');
    expect(state.outbox.map((e) => e.action)).toEqual(['appealed', 'appeal.resolved']);
  });

  test('when the actual activation time lies in the future or before payment, then completion is refused', () => {
    const state = initialState({ variant: 'service', order, subscriptionWorkflowId: 's' }, 1_000);
    state.node = 'in-delivery';
    const completion = (at: string) => act({ kind: 'completion.confirmed', resultDescription: 'done', documentId: 'd', actualActivationTime: at }, merchant);
    expect(refusal(state, completion(iso(5_000)), 4_000)).toBe('actualActivationTime lies in the future');
    expect(refusal(state, completion(iso(500)), 4_000)).toBe('actualActivationTime lies before the order was paid');
    expect(refusal(state, completion(iso(2_000)), 4_000)).toBeUndefined();
  });

  test('when a completed supervision is unsubscribed, then it stays completed; an open one closes and refuses every action', () => {
    const completed = initialState({ variant: 'licence', order, subscriptionWorkflowId: 's' }, 1_000);
    completed.node = 'completed';
    close(completed, { eventId: 'e', orderId: 'UN' }, 2_000);
    expect([completed.node, completed.outbox]).toEqual(['completed', []]);

    const open = initialState({ variant: 'service', order, subscriptionWorkflowId: 's' }, 1_000);
    close(open, { eventId: 'e', orderId: 'UN' }, 2_000);
    expect(open.node).toBe('closed');
    expect(refusal(open, act({ kind: 'appealed', reason: 'r', documentIds: [] }, customer), 3_000)).toBe('not possible at node closed');
  });
});
