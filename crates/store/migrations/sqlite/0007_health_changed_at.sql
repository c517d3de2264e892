-- When a connection's health last changed (Unix milliseconds), so that a change can be told
-- from the same health set again: alerts are sent on changes only. Unknown for earlier rows.
ALTER TABLE connections ADD COLUMN health_changed_at BIGINT;
