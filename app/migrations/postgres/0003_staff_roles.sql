-- Staff administration (see app/migrations/sqlite/0007_staff_roles.sql): an admin role,
-- and password resets audited with the account they were done to.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('student', 'library', 'archives', 'housing', 'finance', 'graduate_school',
                    'admin'));

ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN (
    'login_succeeded', 'login_failed', 'login_refused_locked',
    'account_locked', 'logout',
    'password_changed', 'password_change_failed', 'password_change_locked',
    'departure_submitted', 'departure_refused',
    'library_card_cancelled', 'library_card_cancellation_refused',
    'password_reset', 'staff_account_created'));
ALTER TABLE audit_log ADD COLUMN subject TEXT;
CREATE INDEX audit_log_by_subject ON audit_log (subject, at);
