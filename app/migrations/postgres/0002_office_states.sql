-- Each office's standing on each student, and the history of every change: the same
-- tables as app/migrations/sqlite/0006_office_states.sql, whose comments explain them.
CREATE TABLE office_states (
    student_number        TEXT NOT NULL REFERENCES students (student_number),
    office                TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    standing              TEXT NOT NULL CHECK (standing IN ('pending', 'reported', 'not_applicable')),
    reported_at           TIMESTAMPTZ,
    override_verdict      TEXT CHECK (override_verdict IN ('pass', 'fail')),
    override_reason       TEXT,
    override_by           TEXT,
    override_at           TIMESTAMPTZ,
    override_ends_with_new_facts BOOLEAN NOT NULL DEFAULT FALSE,
    version               BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (student_number, office),
    CHECK ((standing = 'pending') = (reported_at IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_reason IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_by IS NULL)),
    CHECK ((override_verdict IS NULL) = (override_at IS NULL))
);
CREATE INDEX office_states_by_office ON office_states (office, standing);

CREATE TABLE office_history (
    id             BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    office         TEXT NOT NULL CHECK (office IN ('library', 'archives', 'housing', 'finance')),
    at             TIMESTAMPTZ NOT NULL,
    actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('staff', 'student', 'system', 'migration')),
    actor          TEXT,
    change         TEXT NOT NULL CHECK (change IN ('facts', 'not_applicable', 'override',
                                                  'override_removed', 'card_cancelled')),
    before         TEXT NOT NULL,
    after          TEXT NOT NULL,
    reason         TEXT NOT NULL
);
CREATE INDEX office_history_by_student ON office_history (student_number, office, id);

INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'library', 'reported', now() FROM library_records;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'archives', 'reported', now() FROM archives_records;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'housing',
       CASE WHEN student_number IN (SELECT student_number FROM housing_records)
            THEN 'reported' ELSE 'not_applicable' END,
       now()
FROM students;
INSERT INTO office_states (student_number, office, standing, reported_at)
SELECT student_number, 'finance', 'reported', now() FROM students;
