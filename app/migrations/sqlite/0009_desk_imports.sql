-- A CSV file a clerk uploaded at the desk, kept between its preview and its import
-- (and for a day at most). The preview is worked out again each time it is shown, so
-- it always says what importing would do now; importing applies every row or none.
CREATE TABLE desk_imports (
    id          TEXT PRIMARY KEY NOT NULL,  -- random, in the preview's address
    office      TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    uploaded_by TEXT NOT NULL,              -- the staff login: only they may import it
    uploaded_at TEXT NOT NULL,              -- RFC 3339, UTC
    file_name   TEXT NOT NULL,
    content     TEXT NOT NULL               -- the file's text, decoded (UTF-8)
) STRICT;
