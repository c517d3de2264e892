-- Attempts at changing one's password, counted like sign-ins but apart from them: a username
-- locked at sign-in still changes its password with an API token, and guesses at the current
-- password through a stolen session are bounded.
CREATE TABLE password_change_failures (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
