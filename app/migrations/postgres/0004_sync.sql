-- The sync API's tokens, the office systems' "as of" times and the finance system's
-- charge ids: the same as app/migrations/sqlite/0008_sync.sql, whose comments explain them.
CREATE TABLE sync_tokens (
    id         BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    name       TEXT NOT NULL UNIQUE,
    office     TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

ALTER TABLE office_states ADD COLUMN source_as_of TIMESTAMPTZ;

ALTER TABLE finance_arrears ADD COLUMN charge_id TEXT;
CREATE UNIQUE INDEX finance_arrears_by_charge ON finance_arrears (student_number, charge_id);

CREATE INDEX office_history_by_office ON office_history (office, id);
