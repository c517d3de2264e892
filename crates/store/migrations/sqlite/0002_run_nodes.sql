-- Which process works on a run, and when it last said it was alive: a run whose worker stopped
-- beating is closed by any node instead of staying Running for ever.
ALTER TABLE runs ADD COLUMN node_id TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at BIGINT;
CREATE INDEX runs_by_status ON runs (status, queued_at);
