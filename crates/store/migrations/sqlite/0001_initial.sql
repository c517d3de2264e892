-- The whole data model of segsync. Times are Unix milliseconds (UTC); flags are 0 or 1;
-- identifiers are UUIDs as text; structured values are JSON as text. The PostgreSQL migration
-- of the same number is this one in PostgreSQL's dialect.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'contributor', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

CREATE TABLE connections (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('constant_contact')),
    usable_by      TEXT NOT NULL CHECK (usable_by IN ('admins', 'admins_and_contributors')),
    consent_by     TEXT NOT NULL REFERENCES users (id),
    consent_at     BIGINT NOT NULL,
    export_user_id TEXT REFERENCES users (id),
    tokens_sealed  BLOB,
    health         TEXT NOT NULL CHECK (health IN ('not_authenticated', 'healthy', 'needs_reauthentication')),
    health_reason  TEXT,
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE oauth_flows (
    state           TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verifier_sealed BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE segments (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    rule        TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL REFERENCES users (id),
    updated_at  BIGINT NOT NULL
);

CREATE TABLE exports (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    connection_id     TEXT REFERENCES connections (id),
    list_id           TEXT NOT NULL,
    mapping           TEXT NOT NULL,
    schedule_override TEXT,
    created_by        TEXT NOT NULL REFERENCES users (id),
    created_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL REFERENCES users (id),
    updated_at        BIGINT NOT NULL
);

CREATE TABLE export_segments (
    export_id  TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    segment_id TEXT NOT NULL REFERENCES segments (id),
    position   BIGINT NOT NULL,
    PRIMARY KEY (export_id, segment_id)
);
CREATE INDEX export_segments_by_segment ON export_segments (segment_id);

CREATE TABLE runs (
    id           TEXT PRIMARY KEY,
    export_id    TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
    reason       TEXT,
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('manual', 'run_all', 'schedule')),
    requested_by TEXT REFERENCES users (id),
    acting_user  TEXT REFERENCES users (id),
    queued_at    BIGINT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    progress     TEXT,
    report       TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_export ON runs (export_id, queued_at);
-- One run per export at a time.
CREATE UNIQUE INDEX one_active_run_per_export ON runs (export_id) WHERE status IN ('queued', 'running');

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    object_name TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX audit_log_by_object ON audit_log (object_kind, object_id);
