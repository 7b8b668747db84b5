/**
 * The penalty notice's workflow input (spec §9.5): the merchant's message of one ledger entry,
 * composed by the API when it records the entry, e-mailed through the notices capability.
 * JSON-plain: it is stored in workflow histories.
 */

/** One notice per entry: a second start for the same entry is refused by its id. */
export const penaltyNoticeWorkflowId = (entryId: string): string => `penalty-notice:${entryId}`;

export interface PenaltyNoticeInput {
  notice: {
    /** `penalty:<entryId>`: the key of the in-site message the entry's transaction wrote. */
    idempotencyKey: string;
    merchantId: string;
    subject: string;
    body: string;
  };
}
