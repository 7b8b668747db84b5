/** The subscription's side of the failure-window runner (../windows/host). */
import { uuid4 } from '@temporalio/workflow';
import type { WindowHost } from '../windows/host';
import { records } from './proxies';
import { notifyMerchant } from './bookkeeping';
import { requireOrder, type Subscription } from './context';
import { discardStaleRestart, waitForRestart, waitOrRestart } from './restart';
import { restoreSearchStatus, setSearchStatus, setStep } from './status';

export function windowHost(sub: Subscription): WindowHost {
  return {
    policy: sub.policy,
    nextAttempt({ scenario, businessId }) {
      const order = requireOrder(sub);
      sub.state.attempts += 1;
      return {
        attemptId: uuid4(),
        workflowId: sub.workflowId,
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        merchantId: order.merchantId,
        scenario,
        attempt: sub.state.attempts,
        businessId,
      };
    },
    recordAttempt: (attempt, outcome) => records.recordCallAttempt({ ...attempt, outcome }),
    notifyMerchant: ({ key, subject, body }) => notifyMerchant(sub, key, subject, body),
    setStep: (name, reason) => setStep(sub, name, reason),
    setSearchStatus: (status) => setSearchStatus(sub, status),
    restoreSearchStatus: () => restoreSearchStatus(sub),
    waitOrRestart: (ms) => waitOrRestart(sub, ms),
    waitForRestart: (reason) => waitForRestart(sub, reason),
    discardStaleRestart: () => discardStaleRestart(sub),
  };
}
