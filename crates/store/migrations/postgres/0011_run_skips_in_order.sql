-- The skipped members are read a page at a time in (email, reason) order: an index in that
-- order serves each page without sorting every skip of the run.
CREATE INDEX run_skips_in_order ON run_skips (run_id, email, reason);
DROP INDEX run_skips_by_run;
