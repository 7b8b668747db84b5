-- Keys that tell the subscriptions of one order apart.
--
-- Pay-per-use orders create one instance per billing item (productId), and the spec does not
-- say whether the items of one order have order lines of their own (§2.1). Read both ways:
-- an order line is keyed on its product as well, so items sharing a line get a row each.
alter table order_lines drop constraint order_lines_pkey;
alter table order_lines add primary key (order_id, order_line_id, product_id);

-- The subscription an instance belongs to, recorded by its own workflow. Joining through
-- the order line no longer names one subscription when several items share the line, and an
-- upgrade may change the instance's product.
alter table instances add column workflow_id text;
update instances i
   set workflow_id = l.workflow_id
  from order_lines l
 where l.order_id = i.order_id and l.order_line_id = i.order_line_id and i.workflow_id is null;
create index instances_workflow_idx on instances (workflow_id);

-- The renewal, upgrade and unsubscribe orders a subscription applied. One unsubscribe order
-- can end several subscriptions of one order (the pay-per-use items above), and each records
-- it: keyed on the order line alone, the last one would overwrite the others.
alter table subscription_orders drop constraint subscription_orders_pkey;
alter table subscription_orders add primary key (order_id, order_line_id, workflow_id);
