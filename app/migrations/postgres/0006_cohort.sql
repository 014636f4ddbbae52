-- The roster and revocable departures: the same as app/migrations/sqlite/0010_cohort.sql,
-- whose comments explain them.
ALTER TABLE students ADD COLUMN deactivated_at TIMESTAMPTZ;

ALTER TABLE departures DROP CONSTRAINT departures_once_per_student;
ALTER TABLE departures ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE departures ADD COLUMN revoked_by TEXT;
ALTER TABLE departures ADD COLUMN revoke_reason TEXT;
ALTER TABLE departures ADD CHECK ((revoked_at IS NULL) = (revoked_by IS NULL));
ALTER TABLE departures ADD CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL));
CREATE UNIQUE INDEX departures_one_active_per_student ON departures (student_number)
    WHERE revoked_at IS NULL;

ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN (
    'login_succeeded', 'login_failed', 'login_refused_locked',
    'account_locked', 'logout',
    'password_changed', 'password_change_failed', 'password_change_locked',
    'departure_submitted', 'departure_refused',
    'library_card_cancelled', 'library_card_cancellation_refused',
    'password_reset', 'staff_account_created',
    'departure_revoked', 'roster_imported'));

CREATE TABLE roster_imports (
    id             TEXT PRIMARY KEY NOT NULL,
    uploaded_by    TEXT NOT NULL,
    uploaded_at    TIMESTAMPTZ NOT NULL,
    file_name      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('preparing', 'ready', 'failed')),
    rows_total     BIGINT NOT NULL CHECK (rows_total >= 0),
    accounts_total BIGINT NOT NULL CHECK (accounts_total >= 0),
    accounts_done  BIGINT NOT NULL CHECK (accounts_done >= 0),
    heartbeat_at   TIMESTAMPTZ NOT NULL,
    rows_json      TEXT NOT NULL,
    bad_rows_json  TEXT NOT NULL,
    CHECK (accounts_done <= accounts_total)
);
