-- The initial password comes from the ID number (or is the student number itself) and
-- is easy to guess: it must be changed at the first sign-in before anything else.
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 1
    CHECK (must_change_password IN (0, 1));

-- Bumped by every password change. A session remembers the value it was opened under;
-- one that carries an older value is over, on every device.
ALTER TABLE accounts ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0
    CHECK (session_generation >= 0);
