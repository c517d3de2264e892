-- Opt-outs brought home. Every contact Constant Contact says unsubscribed, learned by a run
-- before it sends (`GET /contacts?status=unsubscribed&updated_after=` from the connection's
-- watermark), is kept per connection: no export of the connection ever sends it again, and it
-- is written back to the customer data (`written_back_at`) when the installation says where.
CREATE TABLE opt_outs (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    email_key BIGINT NOT NULL,
    email TEXT NOT NULL,
    contact_id TEXT,
    opted_out_at TEXT,
    opt_out_source TEXT,
    reason TEXT,
    learned_at BIGINT NOT NULL,
    written_back_at BIGINT,
    PRIMARY KEY (connection_id, email_key)
);
CREATE INDEX opt_outs_to_write_back ON opt_outs (learned_at) WHERE written_back_at IS NULL;
-- Constant Contact's `updated_at` of the latest opt-out learned: the next poll asks for those
-- after it.
ALTER TABLE connections ADD COLUMN opt_outs_watermark TEXT;
