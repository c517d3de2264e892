-- One request budget per API key and UTC day, shared by every process on the store: requests
-- used by ended runs, requests reserved by runs going on, and a pause until the reset once
-- Constant Contact answered `quota_exceeded`.
CREATE TABLE api_quota (
    api_key      TEXT NOT NULL,
    day          TEXT NOT NULL,
    used         BIGINT NOT NULL DEFAULT 0,
    reserved     BIGINT NOT NULL DEFAULT 0,
    paused_until BIGINT,
    PRIMARY KEY (api_key, day)
);

-- A run deferred until the quota resets is queued, and not claimed before `not_before`.
ALTER TABLE runs ADD COLUMN not_before BIGINT;
