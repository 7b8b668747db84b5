/**
 * The settlement capability's activities: the bill run's scope (one set-based transaction in
 * PostgreSQL), the statement's step on its row, the business-information check, the payment
 * request, and reminders of overdue steps (in-site, to operators; to the merchant for invoices).
 */
import type { Db } from '../../db/pool';
import { insertNotification } from '../../db/repositories/notices/notifications';
import { recheckExitOnStatementPaid } from '../governance/exit-recheck';
import { computeScope, type ScopeKind } from '../../db/repositories/settlement/scope';
import { invoiceDue } from '../../db/repositories/settlement/invoices';
import { statementsAfter, type StatementRef } from '../../db/repositories/settlement/statement-pages';
import { createPaymentRequest, missingBusinessInfo, recordStatementStep, type StatementStep } from '../../db/repositories/settlement/statements';

export interface SettlementActivityDeps {
  db: Db;
}

export interface StatementStepRecord {
  statementNumber: string;
  step: Exclude<StatementStep, 'draft'>;
  holdReason: string | null;
}

/** A computed scope as the bill run keeps it: counts only; it reads the statements in pages. */
export interface ComputedScope {
  period: string;
  added: Record<ScopeKind, number>;
  statements: number;
}

export interface StatementPageRequest {
  period: string;
  afterMerchantId: string;
  limit: number;
}

export interface StepReminder {
  idempotencyKey: string;
  statementNumber: string;
  merchantId: string;
  step: string;
  overdueWorkingDays: number;
}

export function createSettlementActivities({ db }: SettlementActivityDeps) {
  return {
    async computeSettlementScope(run: { period: string; startedBy: string }): Promise<ComputedScope> {
      const scope = await computeScope(db, run.period, run.startedBy);
      return { period: scope.period, added: scope.added, statements: scope.statements.length };
    },
    async statementPage(page: StatementPageRequest): Promise<StatementRef[]> {
      return statementsAfter(db, page.period, page.afterMerchantId, page.limit);
    },
    async recordStatementStep(r: StatementStepRecord): Promise<void> {
      await recordStatementStep(db, r.statementNumber, r.step, r.holdReason);
      // A paid statement may clear an exiting merchant's last unsettled order: its exit checks again now.
      if (r.step === 'paid') await recheckExitOnStatementPaid(db, r.statementNumber);
    },
    /** The business-information fields the merchant still lacks (spec §9.2: bank account, tax id). */
    async missingBusinessInfo(merchantId: string): Promise<string[]> {
      return missingBusinessInfo(db, merchantId);
    },
    async issuePaymentRequest(statementNumber: string): Promise<string> {
      return createPaymentRequest(db, statementNumber);
    },
    /** Whether any currency and tax rate of the statement adds up to more than zero. */
    async invoiceDue(statementNumber: string): Promise<boolean> {
      return invoiceDue(db, statementNumber);
    },
    /** Overdue invoices are the merchant's to send; every other step is the operators'. */
    async remindStatementStep(r: StepReminder): Promise<{ notificationId: string }> {
      const merchantsTurn = r.step === 'invoicing';
      const row = await insertNotification(db, {
        idempotencyKey: r.idempotencyKey,
        recipientType: merchantsTurn ? 'merchant' : 'operator',
        recipientId: merchantsTurn ? r.merchantId : 'settlement',
        channel: 'in-site',
        subject: `Statement ${r.statementNumber}: step ${r.step} overdue`,
        body: `Statement ${r.statementNumber} has been at step ${r.step} for ${r.overdueWorkingDays} working days.`,
        emailStatus: 'not-applicable',
      });
      return { notificationId: row.id };
    },
  };
}

export type SettlementActivities = ReturnType<typeof createSettlementActivities>;
