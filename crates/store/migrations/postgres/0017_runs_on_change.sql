-- Runs that follow the data. A run may be started by a change of the sources it reads
-- (`on_change`) or by a pipeline's word (`pipeline`); API tokens get a scope: `full` (what the
-- user's role allows), `read` (reading only) or `trigger` (telling segsync a source changed,
-- and reading the runs that started).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
    CHECK (scope IN ('full', 'read', 'trigger'));
ALTER TABLE runs DROP CONSTRAINT runs_triggered_by_check;
ALTER TABLE runs ADD CONSTRAINT runs_triggered_by_check
    CHECK (triggered_by IN ('manual', 'run_all', 'schedule', 'on_change', 'pipeline'));
