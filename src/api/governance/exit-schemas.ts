/** Request bodies of the exit routes. */
import { z } from 'zod';

const reason = z.string().trim().min(3, 'say why (at least 3 characters)').max(1000);

/** The merchant's own request to leave. */
export const exitRequestBodySchema = z.object({ reason }).strict();

/** An operator's forced exit; `penaltyId` names the penalty that terminated the merchant, if one did. */
export const forcedExitBodySchema = z.object({ reason, penaltyId: z.string().trim().min(1).max(64).optional() }).strict();

export const exitReviewBodySchema = z.object({ decision: z.enum(['approve', 'reject']), reason }).strict();

export const exitRecheckBodySchema = z.object({ reason }).strict();
