-- Personal data kept only as long as needed, and erasable per person.

-- An erased address, as its keyed hash (HMAC-SHA-256 with the installation's own key, 128 bits
-- in hex), never the address: no export sends it again, whatever its profile source holds.
CREATE TABLE tombstones (
    hash       TEXT PRIMARY KEY,
    erasure_id TEXT NOT NULL,
    erased_at  BIGINT NOT NULL
);

-- A request to erase people, carried out as a job: 'requested', 'removing' (from the lists in
-- Constant Contact), 'done', or 'failed' with the reason (and retried). The addresses are kept
-- sealed with the encryption key only until the job is done, for the removal and its retries;
-- the receipt (JSON) names people by their keyed hashes only.
CREATE TABLE erasures (
    id              TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('requested', 'removing', 'done', 'failed')),
    requested_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    requested_at    BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    people          BIGINT NOT NULL,
    subjects_sealed BLOB,
    failure         TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    receipt         TEXT NOT NULL
);
CREATE INDEX erasures_by_time ON erasures (requested_at);

-- Whether erasing a person also deletes the contact in the connection's account (deleting is
-- not unsubscribing, and a later import revives it: off unless an admin turns it on).
ALTER TABLE connections ADD COLUMN contact_delete BIGINT NOT NULL DEFAULT 0;

-- When a run's samples and skipped members were purged at the end of their retention.
ALTER TABLE runs ADD COLUMN details_purged_at BIGINT;
CREATE INDEX runs_by_finish ON runs (finished_at);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- When a username (or user) last tried a password: failed attempts are forgotten a day after.
ALTER TABLE login_failures ADD COLUMN last_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE password_change_failures ADD COLUMN last_attempt_at BIGINT NOT NULL DEFAULT 0;
