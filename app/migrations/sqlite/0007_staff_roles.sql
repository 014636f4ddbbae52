-- Staff administration: an `admin` role (creates staff accounts), and password resets by
-- the graduate school or an admin, audited with the account they were done to.
-- SQLite cannot change a CHECK in place: accounts and audit_log are rebuilt inside this
-- migration's transaction (nothing refers to either by foreign key).

CREATE TABLE accounts_new (
    login                TEXT PRIMARY KEY NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('student', 'library', 'archives', 'housing',
                                                       'finance', 'graduate_school', 'admin')),
    -- The student behind a student account; NULL for staff.
    student_number       TEXT UNIQUE REFERENCES students (student_number),
    -- argon2id PHC string; the plain password is never stored anywhere.
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    session_generation   INTEGER NOT NULL DEFAULT 0 CHECK (session_generation >= 0),
    CHECK ((role = 'student') = (student_number IS NOT NULL))
) STRICT;
INSERT INTO accounts_new
SELECT login, role, student_number, password_hash, must_change_password, session_generation
FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;

CREATE TABLE audit_log_new (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,          -- RFC 3339, UTC, from the application's clock
    event       TEXT NOT NULL CHECK (event IN (
                    'login_succeeded', 'login_failed', 'login_refused_locked',
                    'account_locked', 'logout',
                    'password_changed', 'password_change_failed', 'password_change_locked',
                    'departure_submitted', 'departure_refused',
                    'library_card_cancelled', 'library_card_cancellation_refused',
                    'password_reset', 'staff_account_created')),
    actor       TEXT,                   -- the signed-in account that acted
    typed_login TEXT,                   -- at a sign-in: the login as typed
    client_addr TEXT,
    subject     TEXT                    -- the account an action was done to (a reset)
) STRICT;
INSERT INTO audit_log_new (id, at, event, actor, typed_login, client_addr)
SELECT id, at, event, actor, typed_login, client_addr FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
CREATE INDEX audit_log_by_typed_login ON audit_log (typed_login, at);
CREATE INDEX audit_log_by_subject ON audit_log (subject, at);
