-- The home page's next steps, shown once there is an export, until the user dismisses them:
-- when they did, if they did.
ALTER TABLE users ADD COLUMN next_steps_dismissed_at BIGINT;
