/**
 * The Kit sync calls (spec §7), one activity per call: the event's stored fields become the
 * operation's body (a users event: the call's slice of at most 500), which is signed with
 * the merchant's sync key and sent once. Kit calls have no automatic retry (§4): the
 * workflow holds a failure until an operator decides. Like the subscription's merchant
 * operations, each call records its own attempt on the order's timeline (call_attempts),
 * and a successful one also what the merchant now holds, in one transaction.
 *
 * The clientSecret is read encrypted at rest from sync_events and RSA-OAEP encrypted to the
 * product's application key here, so it never enters a workflow history or a log.
 */
import { cancellationSignal, log } from '@temporalio/activity';
import type { Db } from '../../db/pool';
import { insertCallAttempt, type AttemptContext } from '../../db/repositories/subscription/call-attempts';
import { findSyncTarget, type SyncTarget } from '../../db/repositories/tenant-sync/merchant-keys';
import { findSyncEvent, markCallDone, markCallFailed, markCallSkipped, type StoredSyncEvent } from '../../db/repositories/tenant-sync/sync-events';
import { applySyncedChange, type SyncedChange } from '../../db/repositories/tenant-sync/tenant-syncs';
import type { KitClient } from '../../clients/kit';
import type { MerchantHttpResult } from '../../clients/merchant';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import { encryptClientSecret } from '../../protocol/kit-crypto';
import { KIT_OPERATION_OF, toUtc8Time, USERS_PER_CALL, type AnyKitBody, type KitFlagValue, type KitOperation, type KitOrg, type KitTestFlag, type KitUser } from '../../protocol/kit';
import { describeResultCode, isSuccess } from '../../protocol/result-codes';
import { baseResponseSchema } from '../../protocol/schemas';
import type { Encryptor } from '../../platform/security/encryption';

/** One Kit call: which event, which of its calls (0-based), and the attempt to record. */
export interface KitSyncCall {
  workflowId: string;
  instanceId: string;
  tenantId: string;
  orderId: string;
  eventId: string;
  call: number;
  testFlag: KitTestFlag;
  attempt?: AttemptContext;
}

/** A call's outcome; `recorded` says the attempt and its effects were written by the call itself. */
export interface KitCallOutcome extends MerchantCallOutcome {
  operation: KitOperation;
}

export interface KitCallDeps {
  db: Db;
  encryptor: Encryptor;
  kitClient: KitClient;
  now?: () => number;
}

type Payload = Record<string, unknown>;
const text = (p: Payload, key: string): string => (typeof p[key] === 'string' ? (p[key] as string) : '');
const usersOf = (p: Payload): KitUser[] => (Array.isArray(p.users) ? (p.users as KitUser[]) : []);
const callUsers = (event: StoredSyncEvent, call: number): KitUser[] => usersOf(event.payload).slice(call * USERS_PER_CALL, (call + 1) * USERS_PER_CALL);

/** A call that could not be made (nothing to send, no key): a failure the operator decides about, like any other. */
function notSent(operation: KitOperation, error: string, nowMs: number): KitCallOutcome {
  return { kind: 'failure', activity: operation, operation, startedAtMs: nowMs, latencyMs: 0, error };
}

/** Kit answers carry a result code only: 000000 is success, anything else (or no answer) a failure. */
function classify(operation: KitOperation, result: MerchantHttpResult): KitCallOutcome {
  const base = { activity: operation, operation, startedAtMs: result.startedAtMs, latencyMs: result.latencyMs, httpStatus: result.httpStatus };
  if (result.httpStatus !== undefined && (result.httpStatus < 200 || result.httpStatus >= 300)) return { ...base, kind: 'failure', error: `HTTP ${result.httpStatus}` };
  if (result.error !== undefined) return { ...base, kind: 'failure', error: result.error };
  const parsed = baseResponseSchema.safeParse(result.json);
  if (!parsed.success) return { ...base, kind: 'failure', error: `malformed response: ${parsed.error.issues[0]?.path.join('.') || 'body'}` };
  const { resultCode, resultMsg } = parsed.data;
  if (isSuccess(resultCode)) return { ...base, kind: 'success', resultCode, resultMsg };
  return { ...base, kind: 'failure', resultCode, resultMsg, error: describeResultCode(resultCode) };
}

/** What a successful call changed at the merchant, for our view of it. */
function changeOf(event: StoredSyncEvent, call: number): SyncedChange {
  const p = event.payload;
  const flag = event.flag ?? 1;
  switch (event.kind) {
    case 'tenant':
      return { kind: 'tenant', flag, tenant: { tenantCode: text(p, 'tenantCode'), name: text(p, 'name'), domainName: text(p, 'domainName') } };
    case 'application':
      return { kind: 'application', flag, appId: text(p, 'appId'), clientId: text(p, 'clientId') };
    case 'users':
      return { kind: 'users', flag, appId: text(p, 'appId'), users: callUsers(event, call) };
    case 'organizations':
      return { kind: 'organizations', count: Array.isArray(p.orgs) ? p.orgs.length : 0 };
    case 'organization':
      return { kind: 'organization', flag };
  }
}

export function createKitCallActivities({ db, encryptor, kitClient, now = Date.now }: KitCallDeps) {
  /** The call's body, or why it cannot be built. */
  function bodyOf(call: KitSyncCall, event: StoredSyncEvent, endpoint: SyncTarget): AnyKitBody | string {
    const p = event.payload;
    const common = { instanceId: call.instanceId, testFlag: call.testFlag, timeStamp: toUtc8Time(now()) };
    const flag = (event.flag ?? 1) as KitFlagValue;
    switch (event.kind) {
      case 'tenant':
        return { ...common, orderId: call.orderId, tenantId: call.tenantId, tenantCode: text(p, 'tenantCode'), name: text(p, 'name'), domainName: text(p, 'domainName'), flag };
      case 'application': {
        let clientSecret = '';
        if (event.secretEnc) {
          if (!endpoint.appPublicKey) return 'the product has no application public key registered';
          clientSecret = encryptClientSecret(endpoint.appPublicKey, encryptor.decrypt(event.secretEnc), { hash: endpoint.oaepHash, encoding: endpoint.cipherEncoding });
        }
        return { ...common, appId: text(p, 'appId'), tenantId: call.tenantId, clientId: text(p, 'clientId'), clientSecret, flag };
      }
      case 'users':
        return { ...common, tenantId: call.tenantId, appId: text(p, 'appId'), userList: JSON.stringify(callUsers(event, call.call)), currentSyncTime: common.timeStamp, flag };
      case 'organizations':
        return { ...common, tenantId: call.tenantId, orgInfoList: (p.orgs ?? []) as KitOrg[] };
      case 'organization':
        return { ...common, tenantId: call.tenantId, orgCode: text(p, 'orgCode'), orgName: text(p, 'orgName'), ...(p.parentCode ? { parentCode: text(p, 'parentCode') } : {}), flag };
    }
  }

  /** Writes the attempt and, for a success, what the merchant now holds; idempotent (the attempt id keys the row). */
  async function record(call: KitSyncCall, event: StoredSyncEvent | undefined, outcome: KitCallOutcome): Promise<void> {
    await db.withTransaction(async (tx) => {
      if (call.attempt) await insertCallAttempt(tx, { ...call.attempt, outcome });
      if (!event) return;
      if (outcome.kind === 'success') {
        await applySyncedChange(tx, call.workflowId, call.eventId, changeOf(event, call.call));
        await markCallDone(tx, call.eventId, call.call);
      } else {
        await markCallFailed(tx, call.eventId, outcome.error ?? 'failed');
      }
    });
  }

  return {
    /** One Kit call, attempted once; answers the classified outcome (never the body: it may hold the encrypted secret). */
    async callKitSync(call: KitSyncCall): Promise<KitCallOutcome> {
      const event = await findSyncEvent(db, call.eventId);
      const endpoint = await findSyncTarget(db, call.instanceId);
      let outcome: KitCallOutcome;
      const operation = event ? KIT_OPERATION_OF[event.kind] : 'tenantSync';
      if (!event) outcome = notSent(operation, `sync event ${call.eventId} is not stored`, now());
      else if (!endpoint) outcome = notSent(operation, `instance ${call.instanceId} is unknown`, now());
      else if (!endpoint.syncKeyEnc) outcome = notSent(operation, 'the merchant has no sync key registered', now());
      else {
        const body = bodyOf(call, event, endpoint);
        outcome =
          typeof body === 'string'
            ? notSent(operation, body, now())
            : classify(operation, await kitClient.post({ productionUrl: endpoint.productionUrl, syncKey: encryptor.decrypt(endpoint.syncKeyEnc) }, operation, body, cancellationSignal()));
      }
      try {
        await record(call, event, outcome);
        return { ...outcome, attemptRecorded: true };
      } catch (error) {
        // The merchant's answer is not lost: the workflow records it through recordKitCall, which is retried.
        log.warn('could not record the Kit call; the workflow will', { workflowId: call.workflowId, eventId: call.eventId, call: call.call, error: String(error) });
        return outcome;
      }
    },

    /** What callKitSync could not write; retried until it lands. */
    async recordKitCall({ call, outcome }: { call: KitSyncCall; outcome: KitCallOutcome }): Promise<void> {
      await record(call, await findSyncEvent(db, call.eventId), outcome);
    },

    /** An operator skipped a failed call: the event says so, with who and why. */
    async skipKitCall(skip: { eventId: string; call: number; requestedBy: string; reason: string }): Promise<void> {
      await markCallSkipped(db, skip.eventId, skip.call, skip.requestedBy, skip.reason);
    },
  };
}

/** The Kit calls; workflows call callKitSync only through a no-retry proxy. */
export type KitCallActivities = ReturnType<typeof createKitCallActivities>;
