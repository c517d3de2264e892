-- A connection's sealed tokens carry a version, moved by compare-and-set at every rotation, and
-- the turn to refresh them is a lease (holder and Unix milliseconds), so that of several nodes
-- one spends the rotating refresh token and the others take the pair it saved.
ALTER TABLE connections ADD COLUMN tokens_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN token_refresh_holder TEXT;
ALTER TABLE connections ADD COLUMN token_refresh_until BIGINT;
-- Each claim of a run has its own number: only the worker holding the current claim writes the
-- run's progress, checkpoints and ending.
ALTER TABLE runs ADD COLUMN claim BIGINT NOT NULL DEFAULT 0;
