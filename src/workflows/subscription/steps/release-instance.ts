/**
 * Release (spec §2.5): after the retention period of an expired instance, at the end of an
 * unconverted trial, or when an unsubscription succeeded (then the unsubscribe order is
 * named). 1-hour window, then a manual restart. The subscription ends with it.
 */
import { log } from '@temporalio/workflow';
import { stepKey } from '../../../shared/ids';
import { runInWindow, singleCall, windowOpensAt } from '../../windows/runner';
import { merchant } from '../proxies';
import { saveInstance, tellOrderSystem, updateOrderLine } from '../bookkeeping';
import { instanceCall, requireOrder, type Subscription } from '../context';
import { setStatus, setStep } from '../status';
import { windowHost } from '../window-host';

export type ReleaseCause = { kind: 'retention-ended' } | { kind: 'trial-ended' } | { kind: 'unsubscribed'; orderId: string; orderLineId?: string };

export async function release(sub: Subscription, cause: ReleaseCause, startedAtMs: number, occurrence: string): Promise<void> {
  const unsubscribe = cause.kind === 'unsubscribed' ? { orderId: cause.orderId, orderLineId: cause.orderLineId } : {};
  await runInWindow(windowHost(sub), {
    scenario: 'release',
    operation: 'releaseInstance',
    opensAtMs: windowOpensAt(startedAtMs),
    occurrence,
    subject: `releaseInstance for instance ${sub.state.instanceId}`,
    attempt: singleCall((attempt) => merchant().callReleaseInstance({ attempt, ...instanceCall(sub), ...unsubscribe })),
  });
  const order = requireOrder(sub);
  sub.state.frozenBy = [];
  setStatus(sub, 'released');
  setStep(sub, 'released', cause.kind);
  await saveInstance(sub, 'released');
  await updateOrderLine(sub, { status: 'released' });
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, 'released'),
    type: 'instance.released',
    data: { instanceId: sub.state.instanceId, orderId: order.orderId, orderLineId: order.orderLineId, cause: cause.kind, ...unsubscribe },
  });
  log.info('instance released', { workflowId: sub.workflowId, instanceId: sub.state.instanceId, cause: cause.kind });
  sub.run.ended = true;
}
