-- The `x-request-id` of the HTTP request that made each change, so a change in the audit
-- log, the request's log lines and the jobs it caused can be put side by side.
alter table audit_log add column request_id text;
