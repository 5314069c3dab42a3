-- Why: the account export and purge cover exactly the tables with an account data rule (0044), and
-- the lint account_data_rule_missing fails for a matrix-tagged table without one. The tables that
-- arrived beside 0044 (files, budgets, WhatsApp replies) get theirs here: a user's uploads go with
-- the account (the retention cron deletes their R2 objects first); budget meters and WhatsApp
-- replies hold no platform user's data.
select private.account_data_rule('public.files', 'delete', '{created_by}');
select private.account_data_rule('public.budget_usage', 'none',
  p_reason => 'a workspace''s metered spend per period: no user');
select private.account_data_rule('public.whatsapp_replies', 'none',
  p_reason => 'replies to WhatsApp contacts, keyed by message id: no platform user');
