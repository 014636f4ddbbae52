-- Lixiao's schema on PostgreSQL: the same tables, columns, constraints and indexes as
-- app/migrations/sqlite after all its migrations (a test compares the two). Comments on
-- the meaning of each table are in app/migrations/sqlite/0001_clearance.sql.
--
-- Kinds map one to one: text is TEXT; whole numbers (fen, counts, Unix seconds) are
-- BIGINT where SQLite has INTEGER; flags are boolean (SQLite: INTEGER 0/1); instants are
-- timestamptz (SQLite: RFC 3339 UTC text).

-- 基本信息, as the graduate school records it.
CREATE TABLE students (
    student_number     TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    gender             TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    grade              TEXT NOT NULL,
    college            TEXT NOT NULL,
    major              TEXT NOT NULL,
    enrolled_on        TEXT NOT NULL,
    departure_category TEXT NOT NULL,
    applied_on         TEXT NOT NULL
);

CREATE TABLE accounts (
    login                TEXT PRIMARY KEY NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('student', 'library', 'archives', 'housing',
                                                       'finance', 'graduate_school')),
    student_number       TEXT UNIQUE REFERENCES students (student_number),
    password_hash        TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    session_generation   BIGINT NOT NULL DEFAULT 0 CHECK (session_generation >= 0),
    CHECK ((role = 'student') = (student_number IS NOT NULL))
);

CREATE TABLE library_records (
    student_number    TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    books_out         BIGINT NOT NULL CHECK (books_out >= 0),
    fines_fen         BIGINT NOT NULL CHECK (fines_fen >= 0),
    violations        BIGINT NOT NULL CHECK (violations >= 0),
    card_cancelled_at TIMESTAMPTZ,
    thesis_status     TEXT NOT NULL DEFAULT 'not_submitted'
                      CHECK (thesis_status IN ('not_submitted', 'submitted', 'approved', 'rejected'))
);

CREATE TABLE archives_records (
    student_number TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    thesis_status  TEXT CHECK (thesis_status IN ('submitted', 'reviewed'))
);

CREATE TABLE housing_records (
    student_number TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    campus         TEXT NOT NULL,
    building       TEXT NOT NULL,
    room           TEXT NOT NULL,
    checked_out_on TEXT,
    checked_out_by TEXT,
    CHECK ((checked_out_on IS NULL) = (checked_out_by IS NULL))
);

CREATE TABLE finance_arrears (
    id             BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    academic_year  TEXT NOT NULL,
    item           TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0)
);
CREATE INDEX finance_arrears_by_student ON finance_arrears (student_number);

CREATE TABLE departures (
    id             BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    slip_number    TEXT NOT NULL,
    submitted_at   TIMESTAMPTZ NOT NULL,
    snapshot       TEXT NOT NULL,
    CONSTRAINT departures_once_per_student UNIQUE (student_number),
    CONSTRAINT departures_slip_number_unique UNIQUE (slip_number)
);

CREATE TABLE login_locks (
    student_number  TEXT NOT NULL,
    client          TEXT NOT NULL,
    failed_logins   BIGINT NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    lockouts        BIGINT NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until    BIGINT,
    last_failure_at BIGINT NOT NULL,
    PRIMARY KEY (student_number, client)
);

CREATE TABLE login_slowdown (
    student_number TEXT PRIMARY KEY NOT NULL,
    window_started BIGINT NOT NULL,
    failures       BIGINT NOT NULL CHECK (failures >= 0)
);

CREATE TABLE login_client_failures (
    client         TEXT PRIMARY KEY NOT NULL,
    window_started BIGINT NOT NULL,
    failures       BIGINT NOT NULL CHECK (failures >= 0)
);

CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    at          TIMESTAMPTZ NOT NULL,
    event       TEXT NOT NULL CHECK (event IN (
                    'login_succeeded', 'login_failed', 'login_refused_locked',
                    'account_locked', 'logout',
                    'password_changed', 'password_change_failed', 'password_change_locked',
                    'departure_submitted', 'departure_refused',
                    'library_card_cancelled', 'library_card_cancellation_refused')),
    actor       TEXT,
    typed_login TEXT,
    client_addr TEXT
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
CREATE INDEX audit_log_by_typed_login ON audit_log (typed_login, at);
