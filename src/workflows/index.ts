/** Every capability's workflows: the worker's workflowsPath, and nothing else (sandbox code only). */
export { subscriptionWorkflow } from './subscription/workflow';
export { supervisionWorkflow } from './supervision/workflow';
export { tenantSyncWorkflow } from './tenant-sync/workflow';
export { billRunWorkflow, settlementWorkflow } from './settlement/workflow';
export { statementWorkflow } from './settlement/statement';
export { refundWorkflow } from './refunds/workflow';
export { exitWorkflow } from './governance/exit/workflow';
export { penaltyNoticeWorkflow } from './governance/penalties/workflow';
export { dialTestRunWorkflow, merchantDialTestsWorkflow } from './governance/dial-tests/workflow';
