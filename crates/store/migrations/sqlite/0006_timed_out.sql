-- A run stopped by its time budget ends `timed_out`. SQLite cannot change a CHECK constraint, so
-- `runs` is rebuilt. Migrations run in a transaction with foreign keys on, where dropping a
-- parent table deletes its children's rows: the children are rebuilt first, pointing at the new
-- table, so the old one is dropped with nothing left to cascade to, and renaming the new table
-- to `runs` carries the children's references along.
CREATE TABLE runs_new (
    id           TEXT PRIMARY KEY,
    export_id    TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped', 'timed_out')),
    reason       TEXT,
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('manual', 'run_all', 'schedule')),
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
    not_before   BIGINT
);
INSERT INTO runs_new (id, export_id, status, reason, triggered_by, requested_by, acting_user,
                      queued_at, started_at, finished_at, progress, report, cancel_requested,
                      node_id, heartbeat_at, full_resync, resumed, not_before)
SELECT id, export_id, status, reason, triggered_by, requested_by, acting_user,
       queued_at, started_at, finished_at, progress, report, cancel_requested,
       node_id, heartbeat_at, full_resync, resumed, not_before
FROM runs;

CREATE TABLE run_skips_new (
    run_id TEXT NOT NULL REFERENCES runs_new (id) ON DELETE CASCADE,
    email  TEXT NOT NULL,
    reason TEXT NOT NULL
);
INSERT INTO run_skips_new (run_id, email, reason) SELECT run_id, email, reason FROM run_skips;
DROP TABLE run_skips;
ALTER TABLE run_skips_new RENAME TO run_skips;
CREATE INDEX run_skips_by_run ON run_skips (run_id);

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
-- One run per export at a time.
CREATE UNIQUE INDEX one_active_run_per_export ON runs (export_id) WHERE status IN ('queued', 'running');
CREATE INDEX runs_by_status ON runs (status, queued_at);
