-- Fixes from a close review of the first release.

-- 1. Password-guessing limits that no stranger can turn against a student.
-- The old table locked a student number for everyone after 5 wrong passwords from
-- anywhere, so a prankster could lock out a whole cohort. Now the hard lock is per
-- (student number, client): the client is an IPv4 address or an IPv6 /64 ('unknown'
-- when the server is not told). Per number there is only a slow-down, counted over a
-- window. A login that names no account is kept as a digest ('unknown:<sha-256>'): what
-- was typed may be a password. Rows go a day after their last failure unless still
-- locked. Lock state is short-lived and is not carried over.
DROP TABLE login_throttle;

CREATE TABLE login_locks (
    student_number TEXT NOT NULL,       -- the login, or a digest of an unknown one
    client         TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    lockouts       INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until   INTEGER,             -- Unix seconds; NULL = not locked
    last_failure_at INTEGER NOT NULL,   -- Unix seconds
    PRIMARY KEY (student_number, client)
) STRICT;

CREATE TABLE login_slowdown (
    student_number TEXT PRIMARY KEY NOT NULL,
    window_started INTEGER NOT NULL,    -- Unix seconds of the window's first failure
    failures       INTEGER NOT NULL CHECK (failures >= 0)
) STRICT;

-- 2. The audit trail: who acted (the signed-in account, known to be true) and which
-- account a sign-in named are different facts, kept apart. What was typed at a sign-in is
-- kept only if it is an account's login: a password typed into the number field can look
-- just like a student number, and must never be stored. Refused
-- submissions, refused card cancellations and failed password changes are recorded too.
CREATE TABLE audit_log_v2 (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,          -- RFC 3339, UTC, from the application's clock
    event       TEXT NOT NULL CHECK (event IN (
                    'login_succeeded', 'login_failed', 'login_refused_locked',
                    'account_locked', 'logout',
                    'password_changed', 'password_change_failed', 'password_change_locked',
                    'departure_submitted', 'departure_refused',
                    'library_card_cancelled', 'library_card_cancellation_refused')),
    actor       TEXT,                   -- the signed-in account that acted
    typed_login TEXT,                   -- at a sign-in: the login as typed
    client_addr TEXT
) STRICT;

INSERT INTO audit_log_v2 (id, at, event, actor, typed_login, client_addr)
SELECT id, at, event,
       CASE WHEN event IN ('login_failed', 'login_refused_locked', 'account_locked')
            THEN NULL ELSE account END,
       CASE WHEN event IN ('login_succeeded', 'login_failed', 'login_refused_locked',
                           'account_locked')
                 AND account IN (SELECT login FROM accounts)
            THEN account END,
       client_addr
FROM audit_log;

DROP TABLE audit_log;
ALTER TABLE audit_log_v2 RENAME TO audit_log;
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
CREATE INDEX audit_log_by_typed_login ON audit_log (typed_login, at);

-- 3. One rule for every stored time: an RFC 3339 instant in UTC ('…Z'); pages show
-- Beijing time. Migration 0001 said so for submitted_at, but the code stored Beijing
-- local time without an offset there and in card_cancelled_at: convert those rows.
-- (Frozen snapshots are never rewritten: the app reads their older format as Beijing time.)
UPDATE departures
SET submitted_at = strftime('%Y-%m-%dT%H:%M:%SZ', submitted_at, '-8 hours')
WHERE submitted_at NOT LIKE '%Z';

UPDATE library_records
SET card_cancelled_at = strftime('%Y-%m-%dT%H:%M:%SZ', card_cancelled_at, '-8 hours')
WHERE card_cancelled_at IS NOT NULL AND card_cancelled_at NOT LIKE '%Z';
