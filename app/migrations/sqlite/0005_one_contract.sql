-- One data contract with PostgreSQL (app/migrations/postgres holds the same schema).
--
-- 1. Stored values are language-neutral codes; the Chinese labels live in the app:
--    gender 男/女 -> male/female; the library's thesis states 未提交/已提交/审核通过/审核未通过
--    -> not_submitted/submitted/approved/rejected; the archives' 已提交/已审核 ->
--    submitted/reviewed. SQLite cannot change a CHECK in place, so the three tables are
--    rebuilt inside this migration's transaction. Foreign keys stay on but are checked
--    at commit (defer_foreign_keys): while `students` is swapped, the rows that refer to
--    it point nowhere for a moment, and the commit fails unless every one of them finds
--    its student again.
-- 2. The per-address limit on wrong passwords moves from one process's memory into the
--    database, so every server process counts the same failures.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE students_copy AS SELECT * FROM students;
DROP TABLE students;
CREATE TABLE students (
    student_number     TEXT PRIMARY KEY NOT NULL,              -- 学号
    name               TEXT NOT NULL,                          -- 姓名
    gender             TEXT NOT NULL CHECK (gender IN ('male', 'female')),  -- 性别
    grade              TEXT NOT NULL,                          -- 现在年级
    college            TEXT NOT NULL,                          -- 学院
    major              TEXT NOT NULL,                          -- 专业
    enrolled_on        TEXT NOT NULL,                          -- 入学日期, YYYY-MM-DD
    departure_category TEXT NOT NULL,                          -- 离校类别, e.g. 毕业离校
    applied_on         TEXT NOT NULL                           -- 申请时间, YYYY-MM-DD
) STRICT;
INSERT INTO students
SELECT student_number, name,
       CASE gender WHEN '男' THEN 'male' WHEN '女' THEN 'female' END,
       grade, college, major, enrolled_on, departure_category, applied_on
FROM temp.students_copy;
DROP TABLE temp.students_copy;

CREATE TABLE library_records_new (
    student_number    TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    books_out         INTEGER NOT NULL CHECK (books_out >= 0),      -- 未还册数
    fines_fen         INTEGER NOT NULL CHECK (fines_fen >= 0),      -- 欠款金额, fen
    violations        INTEGER NOT NULL CHECK (violations >= 0),     -- 违章状态
    card_cancelled_at TEXT,                                         -- 证件状态: NULL = not cancelled
    thesis_status     TEXT NOT NULL DEFAULT 'not_submitted'
                      CHECK (thesis_status IN ('not_submitted', 'submitted', 'approved', 'rejected'))
) STRICT;
INSERT INTO library_records_new
SELECT student_number, books_out, fines_fen, violations, card_cancelled_at,
       CASE thesis_status WHEN '未提交' THEN 'not_submitted' WHEN '已提交' THEN 'submitted'
                          WHEN '审核通过' THEN 'approved' WHEN '审核未通过' THEN 'rejected' END
FROM library_records;
DROP TABLE library_records;
ALTER TABLE library_records_new RENAME TO library_records;

CREATE TABLE archives_records_new (
    student_number TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    -- NULL: the source's empty status (the thesis has not reached the archives).
    thesis_status  TEXT CHECK (thesis_status IN ('submitted', 'reviewed'))
) STRICT;
INSERT INTO archives_records_new
SELECT student_number,
       CASE thesis_status WHEN '已提交' THEN 'submitted' WHEN '已审核' THEN 'reviewed' END
FROM archives_records;
DROP TABLE archives_records;
ALTER TABLE archives_records_new RENAME TO archives_records;

-- Wrong passwords per client (an IPv4 address or an IPv6 /64) in a fixed window.
CREATE TABLE login_client_failures (
    client         TEXT PRIMARY KEY NOT NULL,
    window_started INTEGER NOT NULL,    -- Unix seconds of the window's first failure
    failures       INTEGER NOT NULL CHECK (failures >= 0)
) STRICT;
