/**
 * The failure of an instance write that another subscription's row refused (see
 * upsertInstance): the merchant gave this subscription an instance id it had already given
 * to another one. Non-retryable, because the row keeps its owner however often we retry; the
 * workflow has to decide what to do.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { ErrorType } from '../../shared/errors';

export function instanceIdTaken(write: { instanceId: string; workflowId: string; merchantId: string }): ApplicationFailure {
  // Identifiers only: the refused write may carry app info with the customer's password.
  const { instanceId, workflowId, merchantId } = write;
  log.warn('instance id belongs to another subscription; nothing saved', { instanceId, workflowId, merchantId });
  return ApplicationFailure.create({
    type: ErrorType.InstanceIdTaken,
    message: `instance ${instanceId} belongs to another subscription`,
    nonRetryable: true,
  });
}
