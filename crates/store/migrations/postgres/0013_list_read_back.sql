-- The list read back. Each export says when it reads its list back (`verify`: after each run,
-- daily, or only when asked). A run is either a sync run or one that only reads the list back
-- (`purpose`); a run that read the list keeps the drift it found beside its report (which holds
-- the details), so an export's drift over time and the latest drift of every export are one
-- query each.
ALTER TABLE exports ADD COLUMN verify TEXT NOT NULL DEFAULT 'off'
    CHECK (verify IN ('after_run', 'daily', 'off'));
ALTER TABLE runs ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sync'
    CHECK (purpose IN ('sync', 'verify'));
ALTER TABLE runs ADD COLUMN drift_missing BIGINT;
ALTER TABLE runs ADD COLUMN drift_extra BIGINT;
CREATE INDEX runs_drift_by_export ON runs (export_id, finished_at) WHERE drift_missing IS NOT NULL;
