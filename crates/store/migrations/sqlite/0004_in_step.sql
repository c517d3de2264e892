-- Keeping lists in step. Each export has a sync mode; each run may be a full resync, and counts
-- the times it was resumed after its process died.
ALTER TABLE exports ADD COLUMN sync_mode TEXT NOT NULL DEFAULT 'add_only';
ALTER TABLE runs ADD COLUMN full_resync BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN resumed BIGINT NOT NULL DEFAULT 0;

-- What each export last sent to its list, per email: the key is a 64-bit hash of the email,
-- the fingerprint one of the contact as sent (0: send again). `owned`: the export put the
-- contact on the list, so mirror mode may take it off. `run_id`: the run that last sent it.
CREATE TABLE export_members (
    export_id    TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    list_id      TEXT NOT NULL,
    email_key    BIGINT NOT NULL,
    email        TEXT NOT NULL,
    fingerprint  BIGINT NOT NULL,
    owned        BIGINT NOT NULL,
    unsubscribed BIGINT NOT NULL DEFAULT 0,
    run_id       TEXT NOT NULL,
    PRIMARY KEY (export_id, list_id, email_key)
);

-- Each import of a run, written before it is sent (planned), once Constant Contact accepted it
-- (sent, with the activity), and when the activity ended (completed or failed, with its
-- counters). `members` (JSON: email, key, fingerprint, owned) is kept until the end, so an
-- interrupted run can settle an import it may or may not have sent.
CREATE TABLE run_batches (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    state       TEXT NOT NULL,
    planned_at  BIGINT NOT NULL,
    activity_id TEXT,
    contacts    BIGINT NOT NULL,
    members     TEXT,
    counters    TEXT,
    PRIMARY KEY (run_id, seq)
);
