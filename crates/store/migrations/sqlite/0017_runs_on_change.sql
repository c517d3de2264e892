-- Runs that follow the data. A run may be started by a change of the sources it reads
-- (`on_change`) or by a pipeline's word (`pipeline`); API tokens get a scope: `full` (what the
-- user's role allows), `read` (reading only) or `trigger` (telling segsync a source changed,
-- and reading the runs that started).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
    CHECK (scope IN ('full', 'read', 'trigger'));

-- SQLite cannot change a CHECK constraint, so `runs` is rebuilt, its children first (see
-- 0006_timed_out.sql for why).
CREATE TABLE runs_new (
    id           TEXT PRIMARY KEY,
    export_id    TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped', 'timed_out', 'awaiting_confirmation')),
    reason       TEXT,
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('manual', 'run_all', 'schedule', 'on_change', 'pipeline')),
    requested_by TEXT REFERENCES users (id),
    acting_user  TEXT REFERENCES users (id),
    queued_at    BIGINT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    progress     TEXT,
    report       TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    node_id      TEXT,
    heartbeat_at BIGINT,
    full_resync  BIGINT NOT NULL DEFAULT 0,
    resumed      BIGINT NOT NULL DEFAULT 0,
    not_before   BIGINT,
    claim        BIGINT NOT NULL DEFAULT 0,
    guard        TEXT,
    confirmed_removals BIGINT,
    confirmed_by TEXT REFERENCES users (id),
    purpose      TEXT NOT NULL DEFAULT 'sync' CHECK (purpose IN ('sync', 'verify')),
    drift_missing BIGINT,
    drift_extra  BIGINT,
    details_purged_at BIGINT
);
INSERT INTO runs_new (id, export_id, status, reason, triggered_by, requested_by, acting_user,
                      queued_at, started_at, finished_at, progress, report, cancel_requested,
                      node_id, heartbeat_at, full_resync, resumed, not_before, claim, guard,
                      confirmed_removals, confirmed_by, purpose, drift_missing, drift_extra,
                      details_purged_at)
SELECT id, export_id, status, reason, triggered_by, requested_by, acting_user,
       queued_at, started_at, finished_at, progress, report, cancel_requested,
       node_id, heartbeat_at, full_resync, resumed, not_before, claim, guard,
       confirmed_removals, confirmed_by, purpose, drift_missing, drift_extra,
       details_purged_at
FROM runs;

CREATE TABLE run_skips_new (
    run_id TEXT NOT NULL REFERENCES runs_new (id) ON DELETE CASCADE,
    email  TEXT NOT NULL,
    reason TEXT NOT NULL
);
INSERT INTO run_skips_new (run_id, email, reason) SELECT run_id, email, reason FROM run_skips;
DROP TABLE run_skips;
ALTER TABLE run_skips_new RENAME TO run_skips;
CREATE INDEX run_skips_in_order ON run_skips (run_id, email, reason);

CREATE TABLE run_batches_new (
    run_id      TEXT NOT NULL REFERENCES runs_new (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    state       TEXT NOT NULL,
    planned_at  BIGINT NOT NULL,
    activity_id TEXT,
    contacts    BIGINT NOT NULL,
    members     TEXT,
    counters    TEXT,
    PRIMARY KEY (run_id, seq)
);
INSERT INTO run_batches_new (run_id, seq, state, planned_at, activity_id, contacts, members, counters)
SELECT run_id, seq, state, planned_at, activity_id, contacts, members, counters FROM run_batches;
DROP TABLE run_batches;
ALTER TABLE run_batches_new RENAME TO run_batches;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_by_export ON runs (export_id, queued_at);
-- One run per export at a time: queued, running, or awaiting confirmation.
CREATE UNIQUE INDEX one_active_run_per_export ON runs (export_id) WHERE status IN ('queued', 'running', 'awaiting_confirmation');
CREATE INDEX runs_by_status ON runs (status, queued_at);
CREATE INDEX runs_drift_by_export ON runs (export_id, finished_at) WHERE drift_missing IS NOT NULL;
CREATE INDEX runs_by_finish ON runs (finished_at);
