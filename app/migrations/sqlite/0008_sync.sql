-- The offices' own systems push their facts through the sync API (/sync/v1), and the
-- finance system names its charges.

-- One row per office system allowed to push: the token itself is shown once, when it
-- is made, and only its SHA-256 is kept (tokens are 256 random bits, so a fast hash
-- is enough). Each token writes exactly one office. Revoked tokens stay, for history.
CREATE TABLE sync_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,       -- who pushes, as history names it (e.g. library-ils)
    office     TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    token_hash TEXT NOT NULL UNIQUE,       -- lowercase hex SHA-256 of the token
    created_at TEXT NOT NULL,              -- RFC 3339, UTC
    revoked_at TEXT                        -- RFC 3339, UTC; NULL while the token works
) STRICT;

-- The office system's own "as of" time of the facts Lixiao holds: an older record never
-- overwrites a newer one. NULL: the facts came from a desk or from before the API.
ALTER TABLE office_states ADD COLUMN source_as_of TEXT;

-- The finance system's own id of a charge; NULL for charges entered at the desk.
ALTER TABLE finance_arrears ADD COLUMN charge_id TEXT;
CREATE UNIQUE INDEX finance_arrears_by_charge ON finance_arrears (student_number, charge_id);

-- The changes feed of one office reads history in id order.
CREATE INDEX office_history_by_office ON office_history (office, id);
