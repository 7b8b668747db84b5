/**
 * The supervision's routes, for the three sides of §9.1:
 *   merchants  /v1/supervision/merchant/:orderId/:orderLineId…   signed with their access key (X-Merchant-Id);
 *              only their own orders
 *   customers  /v1/supervision/customer/:orderId/:orderLineId…   the order system, signed with the webhook
 *              secret, acting for the customer it names (X-Customer-Id); only that customer's orders
 *   operators  /v1/supervisions…                                  the operator bearer token
 * Parties read the supervision and its documents and upload documents; merchants also act
 * (the customer acts through the order system's events, ./events.ts). Operators list what is
 * stuck, read everything and resolve appeals. A line that is not the party's is a 404, the
 * same as one that does not exist.
 */
import { randomUUID } from 'node:crypto';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/pool';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { postgresDocumentStore, type DocumentPurpose, type DocumentStore, type UploaderType } from '../../db/repositories/supervision/documents';
import {
  findSupervisedLine,
  findSupervision,
  stuckSupervisions,
  supervisionTimeline,
  type SupervisedLine,
} from '../../db/repositories/supervision/supervisions';
import type { Encryptor } from '../../platform/security/encryption';
import type { Actor, SupervisionActionBody } from '../../workflows/supervision/messages';
import { requireSignedMerchant, requireSignedParty } from '../auth';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import { checkUpload, UPLOAD_BODY_LIMIT_BYTES } from './documents';
import { checkDocumentIds } from './documents-of-line';
import { actionAnswer } from './events';
import type { Answer } from '../ingress/handlers';
import { supervisionWorkflowId, type SupervisionGateway } from './gateway';

export interface SupervisionRouterDeps {
  db: Db;
  gateway: SupervisionGateway;
  encryptor: Encryptor;
  /** The order system's shared secret: it signs the customer side's requests. */
  orderSystemKey: string;
}

const DAY_MS = 86_400_000;
const text = (max: number) => z.string().trim().min(1).max(max);
const documentId = z.string().min(1).max(64);

const requirementDecisionSchema = z
  .object({ decision: z.enum(['confirm', 'return']), reason: text(2_000).optional() })
  .strict()
  .superRefine((body, ctx) => {
    if (body.decision === 'return' && body.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'required when the requirement is returned: say what to change' });
  });
const completionSchema = z
  .object({
    resultDescription: text(20_000),
    // The actual activation time (spec §9.1): when given, the period starts then.
    actualActivationTime: z.iso.datetime({ offset: true }).optional(),
    acceptanceDocumentId: documentId,
  })
  .strict();
const proofSchema = z.object({ documentId }).strict();
const appealSchema = z.object({ reason: text(2_000), documentIds: z.array(documentId).max(20).default([]) }).strict();
const emptySchema = z.object({}).strict();
const resolutionSchema = z.object({ outcome: z.enum(['resume', 'redeliver', 'accept']), reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(2_000) }).strict();
const stuckQuerySchema = z
  .object({
    node: z.string().max(64).optional(),
    stuckForDays: z.coerce.number().int().min(0).max(3650).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();


/** Where the supervision stands: the stored row, the live node when a worker answers soon, the timeline and the documents. */
async function supervisionView(db: Db, gateway: SupervisionGateway, documents: DocumentStore, line: SupervisedLine) {
  const workflowId = supervisionWorkflowId(line.orderId, line.orderLineId);
  const [row, timeline, docs, live] = await Promise.all([
    findSupervision(db, line.orderId, line.orderLineId),
    supervisionTimeline(db, workflowId),
    documents.list(line.orderId, line.orderLineId),
    gateway.status(workflowId, { timeoutMs: 2000 }).catch(() => undefined),
  ]);
  return {
    workflowId,
    orderId: line.orderId,
    orderLineId: line.orderLineId,
    merchantId: line.merchantId,
    customerId: line.customerId,
    variant: line.variant,
    node: live?.node ?? row?.node ?? null,
    frozenNode: live ? (live.frozenNode ?? null) : (row?.frozenNode ?? null),
    nodeSince: live ? new Date(live.nodeSinceMs).toISOString() : (row?.nodeSince ?? null),
    acceptedAt: row?.acceptedAt ?? null,
    validity: row?.validityStart ? { start: row.validityStart, end: row.validityEnd } : null,
    completedAt: row?.completedAt ?? null,
    settleable: row?.completedAt != null,
    timeline: timeline.map((e) => ({ seq: e.seq, node: e.node, action: e.action, actor: { type: e.actorType, id: e.actorId }, at: e.at, detail: e.detail })),
    documents: docs,
  };
}

/** Sends a document's bytes, as an attachment that browsers do not sniff. */
async function sendDocument(documents: DocumentStore, line: SupervisedLine, documentIdParam: unknown, res: Response): Promise<void> {
  const id = parsePathId(documentIdParam, 'documentId');
  const meta = await documents.describe(id);
  // Another line's document is as unknown here as one that does not exist.
  if (!meta || meta.orderId !== line.orderId || meta.orderLineId !== line.orderLineId) throw new AppError(404, 'document_not_found', `document ${id} is unknown`);
  const content = await documents.content(id);
  if (!content) throw new AppError(404, 'document_not_found', `document ${id} is unknown`);
  res.set({
    'content-type': meta.contentType,
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(meta.fileName)}`,
    'x-content-type-options': 'nosniff',
    'x-content-sha256': meta.sha256,
    'cache-control': 'private, no-store',
  });
  res.status(200).send(content);
}

/** An action for the workflow, and what to answer; Temporal's silence is a 503 (repeat the request with the same Idempotency-Key). */
async function act(gateway: SupervisionGateway, line: SupervisedLine, actionId: string, actor: Actor, body: SupervisionActionBody): Promise<Answer & { done: boolean }> {
  const workflowId = supervisionWorkflowId(line.orderId, line.orderLineId);
  try {
    const result = await gateway.act(workflowId, { ...body, actionId, actor });
    return { ...actionAnswer(result, { workflowId, actionId }), done: result.kind === 'done' };
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable('repeat the request with the same Idempotency-Key', error);
    throw error;
  }
}

/** The action's id: the caller's Idempotency-Key (a repeat is applied once), or a new one. */
function actionIdOf(req: Request, party: string): string {
  const key = req.get('idempotency-key');
  if (key === undefined) return `${party}:${randomUUID()}`;
  if (!/^[\x21-\x7e]{1,100}$/.test(key)) throw new AppError(400, 'invalid_request', 'Idempotency-Key: 1–100 visible ASCII characters', [{ field: 'Idempotency-Key', reason: '1–100 visible ASCII characters' }]);
  return `${party}:${key}`;
}

/** One party's routes on its own lines: read, documents, and (for merchants) actions. */
function partyRouter(deps: SupervisionRouterDeps, documents: DocumentStore, party: { type: 'merchant' | 'customer'; local: string; auth: RequestHandler }): Router {
  const router = Router({ mergeParams: true });
  router.use(express.raw({ type: () => true, limit: UPLOAD_BODY_LIMIT_BYTES }), party.auth);

  /** The line in the path, when it belongs to the authenticated party. */
  const ownLine = async (req: Request, res: Response): Promise<SupervisedLine> => {
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const orderLineId = parsePathId(req.params.orderLineId, 'orderLineId');
    const line = await findSupervisedLine(deps.db, orderId, orderLineId);
    const partyId = res.locals[party.local] as string;
    const owner = party.type === 'merchant' ? line?.merchantId : line?.customerId;
    if (!line || owner !== partyId) throw new AppError(404, 'supervision_not_found', `order line ${orderId}/${orderLineId} has no supervision of yours`);
    return line;
  };

  router.get('/:orderId/:orderLineId', async (req, res) => {
    res.json(await supervisionView(deps.db, deps.gateway, documents, await ownLine(req, res)));
  });

  router.post('/:orderId/:orderLineId/documents', async (req, res) => {
    const line = await ownLine(req, res);
    const { meta, content } = checkUpload(signedJsonBody(req.body), { type: party.type, id: res.locals[party.local] as string }, line);
    const stored = await documents.put(meta, content);
    res.status(201).location(`${req.baseUrl}/${encodeURIComponent(line.orderId)}/${encodeURIComponent(line.orderLineId)}/documents/${stored.documentId}`).json(stored);
  });

  router.get('/:orderId/:orderLineId/documents/:documentId', async (req, res) => {
    await sendDocument(documents, await ownLine(req, res), req.params.documentId, res);
  });

  if (party.type !== 'merchant') return withNotFound(router);

  /** A merchant's action, once the body and the documents it names are checked. */
  const merchantAction = <S extends z.ZodType>(
    path: string,
    schema: S,
    toAction: (body: z.output<S>) => SupervisionActionBody,
    documentsOf?: (body: z.output<S>) => { ids: string[]; field: string; purposes?: readonly DocumentPurpose[]; single?: boolean },
  ): void => {
    router.post(`/:orderId/:orderLineId/${path}`, async (req, res) => {
      const line = await ownLine(req, res);
      const actionId = actionIdOf(req, `merchant:${line.merchantId}`);
      const body = parseRequestBody(schema, signedJsonBody(req.body));
      const named = documentsOf?.(body);
      if (named) await checkDocumentIds(documents, line, named.ids, { uploader: 'merchant' as UploaderType, ...named });
      const answer = await act(deps.gateway, line, actionId, { type: 'merchant', id: line.merchantId }, toAction(body));
      res.status(answer.status).json(answer.body);
    });
  };

  merchantAction('requirement', requirementDecisionSchema, (b) => (b.decision === 'confirm' ? { kind: 'requirement.confirmed' } : { kind: 'requirement.returned', reason: b.reason ?? '' }));
  merchantAction(
    'completion',
    completionSchema,
    (b) => ({ kind: 'completion.confirmed', resultDescription: b.resultDescription, documentId: b.acceptanceDocumentId, ...(b.actualActivationTime ? { actualActivationTime: new Date(b.actualActivationTime).toISOString() } : {}) }),
    (b) => ({ ids: [b.acceptanceDocumentId], field: 'acceptanceDocumentId', purposes: ['acceptance'], single: true }),
  );
  // The licence variant: the merchant's "activate licence code" call, then the delivery proof.
  merchantAction('licence-activation', emptySchema, () => ({ kind: 'licence.activated' }));
  merchantAction('delivery-proof', proofSchema, (b) => ({ kind: 'delivery-proof.uploaded', documentId: b.documentId }), (b) => ({
    ids: [b.documentId],
    field: 'documentId',
    purposes: ['delivery-proof', 'acceptance'],
    single: true,
  }));
  merchantAction('appeal', appealSchema, (b) => ({ kind: 'appealed', reason: b.reason, documentIds: b.documentIds }), (b) => ({ ids: b.documentIds, field: 'documentIds' }));
  return withNotFound(router);
}

/** A signed party's request for a route that does not exist is a 404, not the operators' 401 further down. */
function withNotFound(router: Router): Router {
  router.use((req, _res, next) => next(new AppError(404, 'not_found', `no route for ${req.method} ${req.originalUrl.split('?')[0]}`)));
  return router;
}

/** The merchant and customer routes; mounted before the operator token is required. */
export function createSupervisionPartyRouter(deps: SupervisionRouterDeps): Router {
  const documents = postgresDocumentStore(deps.db);
  const router = Router();
  const merchantAuth = requireSignedMerchant(deps.db, deps.encryptor);
  const customerAuth = requireSignedParty({ idHeader: 'x-customer-id', local: 'customerId', keyOf: async () => deps.orderSystemKey });
  router.use('/v1/supervision/merchant', partyRouter(deps, documents, { type: 'merchant', local: 'merchantId', auth: merchantAuth }));
  router.use('/v1/supervision/customer', partyRouter(deps, documents, { type: 'customer', local: 'customerId', auth: customerAuth }));
  return router;
}

/** Operators: what is stuck, any supervision and its documents, and the resolution of an appeal. */
export function createSupervisionOperatorRouter(deps: Omit<SupervisionRouterDeps, 'encryptor' | 'orderSystemKey'>): Router {
  const documents = postgresDocumentStore(deps.db);
  const router = Router();
  router.use('/v1/supervisions', express.json({ limit: '64kb' }));

  const anyLine = async (req: Request): Promise<SupervisedLine> => {
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const orderLineId = parsePathId(req.params.orderLineId, 'orderLineId');
    const line = await findSupervisedLine(deps.db, orderId, orderLineId);
    if (!line) throw new AppError(404, 'supervision_not_found', `order line ${orderId}/${orderLineId} has no supervision`);
    return line;
  };

  router.get('/v1/supervisions', async (req, res) => {
    const parsed = stuckQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new AppError(400, 'invalid_request', parsed.error.issues[0]?.message ?? 'invalid query', parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(query)', reason: i.message })));
    const { node, stuckForDays, limit } = parsed.data;
    const rows = await stuckSupervisions(deps.db, { beforeMs: Date.now() - stuckForDays * DAY_MS, node, limit });
    res.json({ supervisions: rows });
  });

  router.get('/v1/supervisions/:orderId/:orderLineId', async (req, res) => {
    res.json(await supervisionView(deps.db, deps.gateway, documents, await anyLine(req)));
  });

  router.get('/v1/supervisions/:orderId/:orderLineId/documents/:documentId', async (req, res) => {
    await sendDocument(documents, await anyLine(req), req.params.documentId, res);
  });

  router.post('/v1/supervisions/:orderId/:orderLineId/appeal-resolution', async (req, res) => {
    const line = await anyLine(req);
    const actionId = actionIdOf(req, 'operator');
    const { outcome, reason } = parseRequestBody(resolutionSchema, req.body);
    const operator = res.locals.operator as string;
    const answer = await act(deps.gateway, line, actionId, { type: 'operator', id: operator }, { kind: 'appeal.resolved', outcome, reason });
    if (answer.done) {
      await insertOperatorAction(deps.db, { actor: operator, action: 'supervision.appeal_resolved', targetType: 'supervision', targetId: supervisionWorkflowId(line.orderId, line.orderLineId), reason, details: { outcome, actionId } });
    }
    res.status(answer.status).json(answer.body);
  });

  return router;
}
