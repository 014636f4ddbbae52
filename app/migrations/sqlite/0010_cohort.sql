-- The graduating cohort comes from the graduate school's roster, and a departure can be
-- revoked by the graduate school.
--
-- 1. A student removed from the cohort is deactivated, never deleted: the offices'
--    history and any departure stay. Deactivated students cannot sign in and are left
--    out of the desks' lists and the overview.
-- 2. Departures: "submit once" becomes "one *active* departure per student", a partial
--    unique index over the rows not revoked. A revoked departure stays, with who revoked
--    it, when and why; the student may submit again once all four offices pass, and the
--    new departure gets its own slip number. SQLite cannot drop a table constraint, so
--    departures is rebuilt inside this migration's transaction (nothing refers to it).
-- 3. The audit trail learns the revocation and the roster import (audit_log rebuilt for
--    its CHECK, as in 0007).
-- 4. A roster file between its upload and its import (see roster_imports below).

ALTER TABLE students ADD COLUMN deactivated_at TEXT;   -- RFC 3339, UTC; NULL: in the cohort

CREATE TABLE departures_new (
    id             INTEGER PRIMARY KEY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    slip_number    TEXT NOT NULL,
    submitted_at   TEXT NOT NULL,      -- RFC 3339, UTC
    snapshot       TEXT NOT NULL,      -- the clearance page as submitted (JSON)
    revoked_at     TEXT,               -- RFC 3339, UTC; NULL while the departure stands
    revoked_by     TEXT,               -- the graduate school's staff login
    revoke_reason  TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL)),
    CONSTRAINT departures_slip_number_unique UNIQUE (slip_number)
) STRICT;
INSERT INTO departures_new (id, student_number, slip_number, submitted_at, snapshot)
SELECT id, student_number, slip_number, submitted_at, snapshot FROM departures;
DROP TABLE departures;
ALTER TABLE departures_new RENAME TO departures;
-- What makes "submit once" true under any concurrency: a second active departure of the
-- same student cannot be inserted, whatever the timing.
CREATE UNIQUE INDEX departures_one_active_per_student ON departures (student_number)
    WHERE revoked_at IS NULL;

CREATE TABLE audit_log_new (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,          -- RFC 3339, UTC, from the application's clock
    event       TEXT NOT NULL CHECK (event IN (
                    'login_succeeded', 'login_failed', 'login_refused_locked',
                    'account_locked', 'logout',
                    'password_changed', 'password_change_failed', 'password_change_locked',
                    'departure_submitted', 'departure_refused',
                    'library_card_cancelled', 'library_card_cancellation_refused',
                    'password_reset', 'staff_account_created',
                    'departure_revoked', 'roster_imported')),
    actor       TEXT,                   -- the signed-in account that acted
    typed_login TEXT,                   -- at a sign-in: the login as typed
    client_addr TEXT,
    subject     TEXT                    -- the account an action was done to
) STRICT;
INSERT INTO audit_log_new (id, at, event, actor, typed_login, client_addr, subject)
SELECT id, at, event, actor, typed_login, client_addr, subject FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
CREATE INDEX audit_log_by_typed_login ON audit_log (typed_login, at);
CREATE INDEX audit_log_by_subject ON audit_log (subject, at);

-- A roster file the graduate school uploaded, between its upload and its import (kept a
-- day at most). The file itself is not kept: its rows are, without the ID numbers, which
-- are read only to derive each new student's initial password and hashed at once. The
-- hashing (the slow part: argon2 for every new account) runs after the upload, and
-- accounts_done is its progress; the import itself is one quick transaction.
CREATE TABLE roster_imports (
    id             TEXT PRIMARY KEY NOT NULL,   -- random, in the preview's address
    uploaded_by    TEXT NOT NULL,               -- the staff login: only they may import it
    uploaded_at    TEXT NOT NULL,               -- RFC 3339, UTC
    file_name      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('preparing', 'ready', 'failed')),
    rows_total     INTEGER NOT NULL CHECK (rows_total >= 0),
    accounts_total INTEGER NOT NULL CHECK (accounts_total >= 0),
    accounts_done  INTEGER NOT NULL CHECK (accounts_done >= 0),
    heartbeat_at   TEXT NOT NULL,               -- RFC 3339, UTC: the preparing server is alive
    rows_json      TEXT NOT NULL,               -- the valid rows (JSON), hashes once ready
    bad_rows_json  TEXT NOT NULL,               -- [{row, column, reason}] (JSON)
    CHECK (accounts_done <= accounts_total)
) STRICT;
