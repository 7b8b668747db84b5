-- Refunds (spec §9.3): the customer asking for an invoice while the merchant reviews a
-- negotiated refund fails it. That step goes on the refund's timeline beside the merchant's
-- answer: refund_decisions.step takes 'invoice_requested'.
alter table refund_decisions drop constraint refund_decisions_step_check;
alter table refund_decisions
  add constraint refund_decisions_step_check check (step in ('requested', 'rules', 'merchant_answer', 'invoice_requested', 'verdict'));
