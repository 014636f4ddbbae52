-- Uploaded CSV files between preview and import: the same as
-- app/migrations/sqlite/0009_desk_imports.sql, whose comments explain it.
CREATE TABLE desk_imports (
    id          TEXT PRIMARY KEY NOT NULL,
    office      TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    file_name   TEXT NOT NULL,
    content     TEXT NOT NULL
);
