-- Each office's standing on each student, and the history of every change.
--
-- A verdict is only as good as the office's data: an office that has not reported on a
-- student is pending (待核验: no row here), never a pass or a fail. 'reported' means the
-- office's facts (library_records, archives_records, housing_records, finance_arrears)
-- are its word as of reported_at; 'not_applicable' (不涉及) is the office's explicit
-- statement that the student has nothing with it; 'pending' rows exist only to carry an
-- override made before the office reported. An override (pass or fail, with a reason and
-- who decided) stands until it is removed, or, if so chosen, until new facts arrive.
-- `version` grows with every change: a save based on an older version is refused.
CREATE TABLE office_states (
    student_number        TEXT NOT NULL REFERENCES students (student_number),
    office                TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    standing              TEXT NOT NULL CHECK (standing IN ('pending', 'reported', 'not_applicable')),
    reported_at           TEXT,     -- RFC 3339 UTC: when the office's facts or statement arrived
    override_verdict      TEXT CHECK (override_verdict IN ('pass', 'fail')),
    override_reason       TEXT,
    override_by           TEXT,     -- the staff account that decided
    override_at           TEXT,
    override_ends_with_new_facts INTEGER NOT NULL DEFAULT 0 CHECK (override_ends_with_new_facts IN (0, 1)),
    version               INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (student_number, office),
    CHECK ((standing = 'pending') = (reported_at IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_reason IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_by IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_at IS NULL))
) STRICT;
CREATE INDEX office_states_by_office ON office_states (office, standing);

-- 变更记录: one row per change of an office's facts or standing, written in the change's
-- own transaction. The app never deletes from it. `actor_kind` says who acted: a staff
-- account (actor = its login; students see only the office), the student (注销), an
-- office's system, or this migration. before/after are the summaries the pages show.
CREATE TABLE office_history (
    id             INTEGER PRIMARY KEY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    office         TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    at             TEXT NOT NULL,
    actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('staff', 'student', 'system', 'migration')),
    actor          TEXT,
    change         TEXT NOT NULL CHECK (change IN ('facts', 'not_applicable', 'override',
                                                  'override_removed', 'card_cancelled')),
    before         TEXT NOT NULL,
    after          TEXT NOT NULL,
    reason         TEXT NOT NULL
) STRICT;
CREATE INDEX office_history_by_student ON office_history (student_number, office, id);

-- Existing data keeps every verdict a student saw (a missing library or archives row
-- stays a closed gate, now named 待核验): a library or archives row is that office's
-- report; a housing row is housing's report, and a missing one, which used to mean
-- "never lived on campus", becomes housing's explicit 不涉及; finance reported on every
-- student (no rows: no arrears).
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'library', 'reported', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM library_records;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'archives', 'reported', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM archives_records;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'housing',
       CASE WHEN student_number IN (SELECT student_number FROM housing_records)
            THEN 'reported' ELSE 'not_applicable' END,
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM students;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'finance', 'reported', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM students;
