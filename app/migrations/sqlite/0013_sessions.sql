-- Sessions in Lixiao's own table, so that one statement reads a session together with
-- the account it belongs to (the `login` column joins accounts): the session store
-- used until now kept the login inside an opaque MessagePack blob, and every signed-in
-- page cost a second statement for the account. Those sessions cannot be carried over
-- (their login is inside the blob): everyone signs in once more after this migration.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL, -- hex SHA-256 of the cookie's value, never the value
    login      TEXT,                      -- the signed-in account (NULL: nobody yet)
    data       TEXT NOT NULL,             -- the session's values, a JSON object
    expires_at INTEGER NOT NULL           -- Unix seconds: the idle limit, pushed out on use
) STRICT;

-- The old store's table (created by the store itself, not by a migration).
DROP TABLE IF EXISTS tower_sessions;
