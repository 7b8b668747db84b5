-- The settlement ledger's order-line update trigger (000012), set-based for a bulk update too.
-- It joined the statement's old and new rows on the line's key; the transition tables carry no
-- statistics, so the planner could join them with a nested loop: quadratic in the rows updated
-- (11,000 lines made active in one statement took about a minute). A set difference of
-- workflow ids is hashed whatever the estimate.
create or replace function settlement_append_order_lines_took_effect() returns trigger language plpgsql as $$
begin
  perform settlement_append_facts(array(
    select n.workflow_id from new_lines n where n.status in ('active', 'frozen', 'released') and not n.trial
    except
    select o.workflow_id from old_lines o where o.status in ('active', 'frozen', 'released') and not o.trial));
  return null;
end $$;
