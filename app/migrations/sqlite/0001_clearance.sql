-- The clearance data of the source guide: who the student is (基本信息), what each of
-- the four offices records about them (离校审核事项), and the one departure they submit.
-- Each office's facts live in a table of its own because each office keeps them
-- current independently (and will push them in bulk); the pass/fail verdict is never
-- stored: it is computed from these facts by the shared rules every time it is shown
-- and again inside the submit transaction.

-- 基本信息, as the graduate school records it.
CREATE TABLE students (
    student_number     TEXT PRIMARY KEY NOT NULL,              -- 学号
    name               TEXT NOT NULL,                          -- 姓名
    gender             TEXT NOT NULL CHECK (gender IN ('男', '女')),
    grade              TEXT NOT NULL,                          -- 现在年级
    college            TEXT NOT NULL,                          -- 学院
    major              TEXT NOT NULL,                          -- 专业
    enrolled_on        TEXT NOT NULL,                          -- 入学日期, YYYY-MM-DD
    departure_category TEXT NOT NULL,                          -- 离校类别, e.g. 毕业离校
    applied_on         TEXT NOT NULL                           -- 申请时间, YYYY-MM-DD
) STRICT;

-- Sign-in accounts. Students sign in with the student number (学号 is the user name);
-- department and graduate-school staff get accounts of their own roles. Every server
-- function checks the role it needs, so a staff account never passes as a student.
CREATE TABLE accounts (
    login          TEXT PRIMARY KEY NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('student', 'library', 'archives', 'housing',
                                                 'finance', 'graduate_school')),
    -- The student behind a student account; NULL for staff.
    student_number TEXT UNIQUE REFERENCES students (student_number),
    -- argon2id PHC string; the plain password is never stored anywhere.
    password_hash  TEXT NOT NULL,
    CHECK ((role = 'student') = (student_number IS NOT NULL))
) STRICT;

-- 图书馆. Money is integer fen (1/100 yuan): exact, and SQLite has no decimal type.
CREATE TABLE library_records (
    student_number    TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    books_out         INTEGER NOT NULL CHECK (books_out >= 0),      -- 未还册数
    fines_fen         INTEGER NOT NULL CHECK (fines_fen >= 0),      -- 欠款金额
    violations        INTEGER NOT NULL CHECK (violations >= 0),     -- 违章状态
    card_cancelled_at TEXT,                                         -- 证件状态: NULL = not cancelled
    thesis_status     TEXT NOT NULL DEFAULT '未提交'
                      CHECK (thesis_status IN ('未提交', '已提交', '审核通过', '审核未通过'))
) STRICT;

-- 档案馆. A NULL status (or no row) is the source's "empty": the thesis has not reached the archives.
CREATE TABLE archives_records (
    student_number TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    thesis_status  TEXT CHECK (thesis_status IN ('已提交', '已审核'))
) STRICT;

-- 总务部公寓与物业中心. No row means the student never lived on campus (passes).
CREATE TABLE housing_records (
    student_number TEXT PRIMARY KEY NOT NULL REFERENCES students (student_number),
    campus         TEXT NOT NULL,        -- 校区
    building       TEXT NOT NULL,        -- 楼宇
    room           TEXT NOT NULL,        -- 房间号
    checked_out_on TEXT,                 -- 退宿日期
    checked_out_by TEXT,                 -- 退宿办理人
    -- A checkout is a date and the handler together, or neither.
    CHECK ((checked_out_on IS NULL) = (checked_out_by IS NULL))
) STRICT;

-- 财务资产部收费管理办公室: one row per outstanding charge; no rows means no arrears.
CREATE TABLE finance_arrears (
    id             INTEGER PRIMARY KEY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    academic_year  TEXT NOT NULL,                          -- 收费学年
    item           TEXT NOT NULL,                          -- 收费项目名称
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0) -- 总欠款
) STRICT;
CREATE INDEX finance_arrears_by_student ON finance_arrears (student_number);

-- The submitted departure (提交离校流程). UNIQUE (student_number) is what makes
-- "submit once" true under any concurrency: the second insert fails, whatever the timing.
CREATE TABLE departures (
    id             INTEGER PRIMARY KEY,
    student_number TEXT NOT NULL REFERENCES students (student_number),
    slip_number    TEXT NOT NULL,
    submitted_at   TEXT NOT NULL,      -- RFC 3339, UTC
    -- The clearance page exactly as it stood when submitted (JSON), printed on the slip.
    snapshot       TEXT NOT NULL,
    CONSTRAINT departures_once_per_student UNIQUE (student_number),
    CONSTRAINT departures_slip_number_unique UNIQUE (slip_number)
) STRICT;
