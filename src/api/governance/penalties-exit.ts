/**
 * What penalties need of the exit capability: the start of a merchant's forced exit,
 * idempotent by its workflow id `exit:<merchantId>` (a start while one runs answers the running
 * one). The exit gateway (exit-gateway.ts) provides it; penalties depend on this much only.
 */
export interface ForcedExitStarter {
  startForcedExit(merchantId: string, options: { reason: string; penaltyId: string; actor: string }): Promise<{ workflowId: string; duplicate: boolean }>;
}
