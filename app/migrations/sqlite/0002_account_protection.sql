-- Account protection and the audit trail (OWASP ASVS level 2 is the yardstick).

-- Brute force: 5 wrong passwords in a row lock a student number for 15 minutes, and
-- each further lockout doubles that. Kept per student number AS TYPED, whether or not
-- an account has it, so a lockout never tells a guesser that the number exists.
-- `locked_until` is Unix seconds (UTC); NULL = not locked.
CREATE TABLE login_throttle (
    student_number TEXT PRIMARY KEY NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    lockouts       INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until   INTEGER
) STRICT;

-- Who did what, from where, and when: sign-ins (both outcomes), submissions, card
-- cancellations, password changes. Never a password or an ID number.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,              -- RFC 3339, UTC
    event       TEXT NOT NULL CHECK (event IN (
                    'login_succeeded', 'login_failed', 'login_refused_locked',
                    'account_locked', 'logout', 'password_changed',
                    'departure_submitted', 'library_card_cancelled')),
    -- The student number signed in, or the one typed at a failed sign-in (which may
    -- name no account: it is kept as typed, truncated, to trace guessing).
    account     TEXT,
    client_addr TEXT
) STRICT;
CREATE INDEX audit_log_by_account ON audit_log (account, at);
