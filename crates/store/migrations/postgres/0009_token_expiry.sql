-- An API token may carry an expiry (Unix milliseconds); without one it lasts until revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
