-- A slip anyone can verify: every departure gets a serial nobody can guess or derive
-- (80 random bits, 16 characters of Crockford's base32; see app/src/verify/code.rs) and
-- a tag, the HMAC of the serial and the student under the graduate school's key.
--
-- 1. Existing departures get their serial here, from SQLite's random() (a ChaCha20
--    generator seeded from the operating system), one character of the 32 at a time.
--    New departures get theirs from the server (the operating system's randomness).
-- 2. The tag needs the key, which SQL does not have: it stays NULL here and the server
--    fills it in at start-up (`db::slips::tag_untagged`), before it serves.
-- 3. SQLite cannot add a NOT NULL column without a default, so departures is rebuilt
--    inside this migration's transaction, as in 0010 (nothing refers to it).

CREATE TABLE departures_new (
    id             INTEGER PRIMARY KEY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    slip_number    TEXT NOT NULL,
    serial         TEXT NOT NULL,      -- 16 base32 characters, printed in groups of 4
    tag            TEXT,               -- keyid-MAC; NULL until the server has tagged it
    submitted_at   TEXT NOT NULL,      -- RFC 3339, UTC
    snapshot       TEXT NOT NULL,      -- the clearance page as submitted (JSON)
    revoked_at     TEXT,               -- RFC 3339, UTC; NULL while the departure stands
    revoked_by     TEXT,               -- the graduate school's staff login
    revoke_reason  TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL)),
    CONSTRAINT departures_slip_number_unique UNIQUE (slip_number),
    CONSTRAINT departures_serial_unique UNIQUE (serial)
) STRICT;
INSERT INTO departures_new (id, student_number, slip_number, serial, submitted_at, snapshot,
                            revoked_at, revoked_by, revoke_reason)
SELECT id, student_number, slip_number,
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1) ||
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (random() & 31), 1),
       submitted_at, snapshot, revoked_at, revoked_by, revoke_reason
FROM departures;
DROP TABLE departures;
ALTER TABLE departures_new RENAME TO departures;
CREATE UNIQUE INDEX departures_one_active_per_student ON departures (student_number)
    WHERE revoked_at IS NULL;
-- The tags still to be computed at start-up.
CREATE INDEX departures_untagged ON departures (id) WHERE tag IS NULL;
