/** createApp: the Express application, without listening (server.ts and tests listen). */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Db } from '../db/pool';
import type { Logger } from '../platform/logger';
import type { PenaltySettings } from '../platform/config';
import type { Encryptor } from '../platform/security/encryption';
import type { SubscriptionGateway } from './subscription/gateway';
import { requireOperator } from './auth';
import { AppError, errorHandler } from './errors';
import { eventTable } from './ingress/handlers';
import { createMarketplaceEventRouter } from './ingress/router';
import { createMerchantRouter } from './catalog/merchants';
import { refundEvents } from './refunds/events';
import type { RefundGateway } from './refunds/gateway';
import { createRefundMerchantRouter, createRefundOperatorRouter } from './refunds/routes';
import { createGovernanceRouter } from './governance/routes';
import type { ExitGateway } from './governance/exit-gateway';
import type { PenaltyNoticeGateway } from './governance/penalties-gateway';
import { createExitMerchantRouter, createExitOperatorRouter } from './governance/exit-routes';
import { createPenaltiesMerchantRouter, createPenaltiesOperatorRouter } from './governance/penalties';
import { createDialTestMerchantRouter, createDialTestOperatorRouter } from './governance/dial-tests';
import { subscriptionEvents } from './subscription/events';
import { createInstanceRouter } from './subscription/instances';
import { createOrderRouter } from './subscription/orders';
import { tenantSyncEvents } from './tenant-sync/events';
import type { TenantSyncGateway } from './tenant-sync/gateway';
import { createTenantSyncRouter } from './tenant-sync/routes';
import type { SettlementGateway } from './settlement/gateway';
import { createSettlementMerchantRouter, createSettlementOperatorRouter } from './settlement/routes';
import { closeOnUnsubscription, startSupervision, supervisionEvents } from './supervision/events';
import type { SupervisionGateway } from './supervision/gateway';
import { createSupervisionOperatorRouter, createSupervisionPartyRouter } from './supervision/routes';

export interface AppDeps {
  db: Db;
  gateway: SubscriptionGateway;
  tenantSync: TenantSyncGateway;
  settlement: SettlementGateway;
  supervision: SupervisionGateway;
  /** Refund requests (spec §9.3): order.refund_requested and the merchant's answer route. */
  refunds: RefundGateway;
  /** Merchant exits (spec §9.4): penalties start forced exits through it. */
  exit: ExitGateway;
  /** Penalty entries' e-mails (spec §9.5), sent from the worker. */
  penaltyNotices: PenaltyNoticeGateway;
  encryptor: Encryptor;
  logger: Logger;
  config: {
    mode: 'development' | 'production';
    webhook: { secret: string; toleranceSeconds: number };
    operatorToken: string;
    penalties: PenaltySettings;
  };
  /** Whether the workflow engine answers, for the health check. */
  temporalHealthy: () => Promise<boolean>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    const requestId = (req.get('x-request-id') ?? '').slice(0, 100) || randomUUID();
    res.locals.requestId = requestId;
    res.set('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.logger.info({ requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    const [database, temporal] = await Promise.all([
      deps.db.query('select 1').then(() => true, () => false),
      deps.temporalHealthy().catch(() => false),
    ]);
    res.status(database && temporal ? 200 : 503).json({ status: database && temporal ? 'ok' : 'degraded', database, temporal });
  });

  // Every marketplace event type, by capability: a new family is its handler module and one line here.
  const events = eventTable(
    // A supervised product's order.paid also starts its supervision; its unsubscription closes it.
    subscriptionEvents({
      db: deps.db,
      gateway: deps.gateway,
      afterOrderPaid: startSupervision(deps.supervision),
      afterLifecycleEvent: closeOnUnsubscription(deps.db, deps.supervision),
    }),
    supervisionEvents({ db: deps.db, gateway: deps.supervision }),
    tenantSyncEvents({ db: deps.db, gateway: deps.tenantSync, encryptor: deps.encryptor }),
    refundEvents({ db: deps.db, gateway: deps.refunds }),
  );
  // The webhook authenticates by its signature; everything else is for operators.
  app.use(createMarketplaceEventRouter({ db: deps.db, webhook: deps.config.webhook, events }));
  // Merchants and the order system (for a customer) sign their supervision requests.
  app.use(createSupervisionPartyRouter({ db: deps.db, gateway: deps.supervision, encryptor: deps.encryptor, orderSystemKey: deps.config.webhook.secret }));
  // Merchants read their statements and upload invoices, signing each request.
  app.use(createSettlementMerchantRouter({ db: deps.db, gateway: deps.settlement, encryptor: deps.encryptor }));
  // Merchants answer negotiated refunds, signing each request.
  app.use(createRefundMerchantRouter({ db: deps.db, gateway: deps.refunds, encryptor: deps.encryptor }));
  // Merchants read their own penalty ledger, signing each request.
  app.use(createPenaltiesMerchantRouter({ db: deps.db, settings: deps.config.penalties, encryptor: deps.encryptor }));
  // Merchants save and read their products' dial-test cases, signing each request.
  app.use(createDialTestMerchantRouter({ db: deps.db, encryptor: deps.encryptor }));
  // Merchants ask to leave, read their exit and upload no-invoice proofs, signing each request.
  app.use(createExitMerchantRouter({ db: deps.db, exits: deps.exit, encryptor: deps.encryptor }));
  app.use('/v1', requireOperator(deps.config.operatorToken));
  app.use(createMerchantRouter({ db: deps.db, encryptor: deps.encryptor, mode: deps.config.mode }));
  app.use(createOrderRouter({ db: deps.db, gateway: deps.gateway }));
  app.use(createInstanceRouter({ db: deps.db, gateway: deps.gateway, encryptor: deps.encryptor }));
  app.use(createTenantSyncRouter({ db: deps.db, gateway: deps.tenantSync }));
  app.use(createSettlementOperatorRouter({ db: deps.db, gateway: deps.settlement, encryptor: deps.encryptor }));
  app.use(createSupervisionOperatorRouter({ db: deps.db, gateway: deps.supervision }));
  app.use(createRefundOperatorRouter({ db: deps.db, gateway: deps.refunds }));
  app.use(createGovernanceRouter({ db: deps.db }));
  app.use(createPenaltiesOperatorRouter({ db: deps.db, settings: deps.config.penalties, exits: deps.exit, notices: deps.penaltyNotices }));
  app.use(createExitOperatorRouter({ db: deps.db, exits: deps.exit }));
  app.use(createDialTestOperatorRouter({ db: deps.db }));

  app.use((req, _res, next) => next(new AppError(404, 'not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
