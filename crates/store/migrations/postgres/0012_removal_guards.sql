-- Guards on destructive runs. Each export keeps the most of its list a run may remove and the
-- most its segments' members may drop, in basis points (2000 is 20 %). A run a guard stopped
-- waits `awaiting_confirmation`, holding its export, with the numbers the guard judged (`guard`,
-- JSON) until a person confirms it (`confirmed_removals`, `confirmed_by`) or discards it.
ALTER TABLE exports ADD COLUMN max_removal_share BIGINT NOT NULL DEFAULT 2000;
ALTER TABLE exports ADD COLUMN max_member_drop BIGINT NOT NULL DEFAULT 5000;

ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped', 'timed_out', 'awaiting_confirmation'));
ALTER TABLE runs ADD COLUMN guard TEXT;
ALTER TABLE runs ADD COLUMN confirmed_removals BIGINT;
ALTER TABLE runs ADD COLUMN confirmed_by TEXT REFERENCES users (id);
-- One run per export at a time: queued, running, or awaiting confirmation.
DROP INDEX one_active_run_per_export;
CREATE UNIQUE INDEX one_active_run_per_export ON runs (export_id) WHERE status IN ('queued', 'running', 'awaiting_confirmation');
