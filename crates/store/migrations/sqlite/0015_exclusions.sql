-- Addresses no export may ever send, kept as keyed hashes (HMAC-SHA-256 with the installation's
-- own key, 128 bits in hex), never as the addresses.
CREATE TABLE exclusions (
    hash TEXT PRIMARY KEY,
    added_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    added_at BIGINT NOT NULL
);
