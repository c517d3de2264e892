-- Every member a run left out because of its email, as written and why, for download.
CREATE TABLE run_skips (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    email  TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX run_skips_by_run ON run_skips (run_id);
