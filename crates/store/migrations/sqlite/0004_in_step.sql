-- Keeping lists in step. Each export has a sync mode; each run may be a full resync, and counts
-- the times it was resumed after its process died.
ALTER TABLE exports ADD COLUMN sync_mode TEXT NOT NULL DEFAULT 'add_only';
ALTER TABLE runs ADD COLUMN full_resync BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN resumed BIGINT NOT NULL DEFAULT 0;

-- What each export last sent to its list, per email. One ledger per export and list; its
-- members are keyed by a 64-bit hash of the email and hold one of the contact as sent (0: send
-- again), flags (1: the export put the contact on the list, so mirror mode may take it off;
-- 2: Constant Contact said it is unsubscribed) and 64 bits of the id of the run that last sent
-- it. Integers only, clustered by ledger, so a million members load in one sequential read.
CREATE TABLE export_ledgers (
    id        INTEGER PRIMARY KEY,
    export_id TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    list_id   TEXT NOT NULL,
    UNIQUE (export_id, list_id)
);
CREATE TABLE export_members (
    ledger_id   BIGINT NOT NULL REFERENCES export_ledgers (id) ON DELETE CASCADE,
    email_key   BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    flags       BIGINT NOT NULL,
    run_tag     BIGINT NOT NULL,
    PRIMARY KEY (ledger_id, email_key)
) WITHOUT ROWID;

-- Each import of a run, written before it is sent (planned), once Constant Contact accepted it
-- (sent, with the activity), and when the activity ended (completed or failed, with its
-- counters). `members` (JSON: key, fingerprint, owned) is kept until the end, so an
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
