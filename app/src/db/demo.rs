//! The demo students, seeded on request into an empty database so a newcomer can try
//! every case of the source guide (中国矿业大学研究生网上办理离校手续流程). Never runs
//! unless asked (`LIXIAO_DEMO_DATA=1`), and never into a database that already has
//! students.
//!
//! The rules of the demo data set (the README's table shows them to users): four
//! fictional students, departure category 毕业离校, application date 2020-06-08, each
//! standing for one case of the guide:
//! - 2020100001 王小明 passes all four offices and can submit;
//! - 2020100002 李娜 fails housing (not checked out) and finance (60 + 550 + 72.4 =
//!   682.40 owed); her library fails only because the card is not cancelled, and she may
//!   cancel it herself (注销); her ID ends in a lower-case x (initial password `12002X`);
//! - 2020100003 张伟 fails the library (2 books, 3.50 owed, 1 violation, thesis only
//!   已提交) and the archives (empty), passes housing (never lived on campus) and
//!   finance, and may not cancel the card; he has no ID card, so his initial password is
//!   the student number;
//! - 2020100004 刘洋 passes everything and already submitted on 2020-06-09 10:21:37
//!   (Beijing time), so she has a completed item and a slip.

use super::Db;
use crate::{auth::password, clearance::model::Gender};

struct DemoStudent {
    number: &'static str,
    name: &'static str,
    gender: Gender,
    grade: &'static str,
    college: &'static str,
    major: &'static str,
    enrolled_on: &'static str,
    /// The last 6 characters of a fictional ID number, or `None` for "no ID card".
    id_tail: Option<&'static str>,
}

const STUDENTS: [DemoStudent; 4] = [
    DemoStudent {
        number: "2020100001",
        name: "王小明",
        gender: Gender::Male,
        grade: "2017级",
        college: "计算机科学与技术学院",
        major: "软件工程",
        enrolled_on: "2017-09-01",
        id_tail: Some("061234"),
    },
    DemoStudent {
        number: "2020100002",
        name: "李娜",
        gender: Gender::Female,
        grade: "2017级",
        college: "矿业工程学院",
        major: "采矿工程",
        enrolled_on: "2017-09-01",
        id_tail: Some("12002x"),
    },
    DemoStudent {
        number: "2020100003",
        name: "张伟",
        gender: Gender::Male,
        grade: "2017级",
        college: "安全工程学院",
        major: "安全工程",
        enrolled_on: "2017-09-01",
        id_tail: None,
    },
    DemoStudent {
        number: "2020100004",
        name: "刘洋",
        gender: Gender::Female,
        grade: "2017级",
        college: "计算机科学与技术学院",
        major: "计算机技术",
        enrolled_on: "2017-09-01",
        id_tail: Some("150027"),
    },
];

/// One demo staff account per role (login, role, password). Demo passwords are printed in
/// the README and need no change; real staff accounts come from `server staff add`, with
/// a one-time password changed at first sign-in.
pub const STAFF: [(&str, &str, &str); 6] = [
    ("library_demo", "library", "Library-demo-2020"),
    ("archives_demo", "archives", "Archives-demo-2020"),
    ("housing_demo", "housing", "Housing-demo-2020"),
    ("finance_demo", "finance", "Finance-demo-2020"),
    ("gradschool_demo", "graduate_school", "Gradschool-demo-2020"),
    ("admin_demo", "admin", "Admin-demo-2020"),
];

/// One sync API token per office system (name, office, token), fixed and printed in the
/// README like the demo passwords: demo only. Real tokens come from `server sync-token
/// add`, random and shown once.
pub const SYNC_TOKENS: [(&str, &str, &str); 4] = [
    ("library-demo", "library", "lxs_demo_library_2020"),
    ("archives-demo", "archives", "lxs_demo_archives_2020"),
    ("housing-demo", "housing", "lxs_demo_housing_2020"),
    ("finance-demo", "finance", "lxs_demo_finance_2020"),
];

/// How many more students (2021300001 on, no sign-in accounts) fill the desks' lists.
pub const EXTRA_STUDENTS: usize = 200;

/// Seeds the demo students. Returns `false` (and changes nothing) if any student exists.
pub async fn seed(db: &Db, keys: &crate::verify::SlipKeys) -> Result<bool, DemoError> {
    // Hash first (slow, off the async runtime), then write everything in one transaction.
    let mut hashes = Vec::new();
    for student in &STUDENTS {
        let initial = password::initial_password(student.id_tail, student.number);
        hashes.push(password::hash(initial).await.map_err(DemoError::Hash)?);
    }
    let mut staff_hashes = Vec::new();
    for (_, _, demo_password) in &STAFF {
        staff_hashes.push(
            password::hash((*demo_password).to_owned())
                .await
                .map_err(DemoError::Hash)?,
        );
    }
    let seeded: bool = on_backend!(db, seed_rows(&hashes, &staff_hashes))?;
    if !seeded {
        return Ok(false);
    }

    // 2020100004 submitted on 2020-06-09 10:21:37 Beijing time, through the same path a
    // student takes (audited as hers, at that time).
    let at = time::macros::datetime!(2020-06-09 02:21:37 UTC);
    let who = super::audit::Who::account("2020100004", None);
    match super::clearance::submit(db, "2020100004", at, "20200609", &who, keys).await? {
        super::clearance::SubmitOutcome::Submitted(_) => Ok(true),
        _ => Err(DemoError::Inconsistent),
    }
}

for_each_backend! {
    /// Writes the students, their accounts and the offices' facts, unless the database
    /// already has students.
    pub(crate) async fn seed_rows(
        pool: &Pool,
        hashes: &[String],
        staff_hashes: &[String],
    ) -> Result<bool, sqlx::Error> {
        let mut tx = dialect::begin_write(pool).await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM students")
            .fetch_one(&mut *tx)
            .await?;
        if existing > 0 {
            return Ok(false);
        }
        for (student, hash) in STUDENTS.iter().zip(hashes) {
            sqlx::query(
                "INSERT INTO students (student_number, name, gender, grade, college, major,
                                       enrolled_on, departure_category, applied_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '毕业离校', '2020-06-08')",
            )
            .bind(student.number)
            .bind(student.name)
            .bind(student.gender.code())
            .bind(student.grade)
            .bind(student.college)
            .bind(student.major)
            .bind(student.enrolled_on)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO accounts (login, role, student_number, password_hash)
                 VALUES ($1, 'student', $1, $2)",
            )
            .bind(student.number)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }

        // The offices' facts, one statement per case of the source guide.
        for statement in [
            // 2020100001: everything clear.
            "INSERT INTO library_records VALUES ('2020100001', 0, 0, 0, '2020-06-03T01:12:00Z', 'approved')",
            "INSERT INTO archives_records VALUES ('2020100001', 'reviewed')",
            "INSERT INTO housing_records VALUES ('2020100001', '南湖校区', '梅苑1号楼', 'A3061', '2020-06-05', '丁二君')",
            // 2020100002: library clear but card not cancelled; not checked out; arrears 682.40.
            "INSERT INTO library_records VALUES ('2020100002', 0, 0, 0, NULL, 'approved')",
            "INSERT INTO archives_records VALUES ('2020100002', 'reviewed')",
            "INSERT INTO housing_records VALUES ('2020100002', '南湖校区', '梅苑1号楼', 'A3071', NULL, NULL)",
            "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen) VALUES
                ('2020100002', '2018', '代收取暖费', 6000),
                ('2020100002', '2019', '学分学费', 55000),
                ('2020100002', '2019', '代收取暖费', 7240)",
            // 2020100003: books out, fines, a violation, thesis only submitted; archives
            // empty; never lived on campus (no housing row); no arrears.
            "INSERT INTO library_records VALUES ('2020100003', 2, 350, 1, NULL, 'submitted')",
            "INSERT INTO archives_records VALUES ('2020100003', NULL)",
            // 2020100004: everything clear, and already submitted (by `seed`).
            "INSERT INTO library_records VALUES ('2020100004', 0, 0, 0, '2020-06-02T07:40:00Z', 'approved')",
            "INSERT INTO archives_records VALUES ('2020100004', 'reviewed')",
            "INSERT INTO housing_records VALUES ('2020100004', '南湖校区', '梅苑3号楼', 'B2112', '2020-06-06', '丁二君')",
            // Every office has reported on the four documented students, except that
            // housing states 不涉及 for 张伟 (never lived on campus).
            "INSERT INTO office_states (student_number, office, standing, reported_at)
             SELECT student_number, office, 'reported', '2020-06-07T00:00:00Z'
             FROM students, (SELECT 'library' AS office UNION ALL SELECT 'archives'
                             UNION ALL SELECT 'housing' UNION ALL SELECT 'finance') AS offices
             WHERE NOT (student_number = '2020100003' AND office = 'housing')",
            "INSERT INTO office_states (student_number, office, standing, reported_at)
             VALUES ('2020100003', 'housing', 'not_applicable', '2020-06-07T00:00:00Z')",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        for ((login, role, _), hash) in STAFF.iter().zip(staff_hashes) {
            sqlx::query(
                "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password)
                 VALUES ($1, $2, NULL, $3, FALSE)",
            )
            .bind(login)
            .bind(role)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        for (name, office, token) in SYNC_TOKENS {
            sqlx::query(
                "INSERT INTO sync_tokens (name, office, token_hash, created_at)
                 VALUES ($1, $2, $3, '2020-06-01T00:00:00Z')",
            )
            .bind(name)
            .bind(office)
            .bind(crate::db::sync::token_hash(token))
            .execute(&mut *tx)
            .await?;
        }
        for extra in extra_students() {
            sqlx::query(
                "INSERT INTO students (student_number, name, gender, grade, college, major,
                                       enrolled_on, departure_category, applied_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '毕业离校', '2020-06-08')",
            )
            .bind(&extra.number)
            .bind(&extra.name)
            .bind(extra.gender.code())
            .bind(extra.grade)
            .bind(extra.college)
            .bind(extra.major)
            .bind(extra.enrolled_on)
            .execute(&mut *tx)
            .await?;
            for statement in &extra.statements {
                sqlx::query(statement).bind(&extra.number).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

struct ExtraStudent {
    number: String,
    name: String,
    gender: Gender,
    grade: &'static str,
    college: &'static str,
    major: &'static str,
    enrolled_on: &'static str,
    /// The offices' rows, each bound to the student number as `$1`.
    statements: Vec<&'static str>,
}

/// The extra students, in states that vary by office so every filter finds someone:
/// some offices have not reported (待核验), some pass, some fail, some 不涉及.
/// Deterministic: the same 200 students every time.
fn extra_students() -> Vec<ExtraStudent> {
    const SURNAMES: [&str; 12] = [
        "赵", "钱", "孙", "李", "周", "吴", "郑", "王", "冯", "陈", "褚", "卫",
    ];
    const GIVEN: [&str; 10] = [
        "子涵", "浩然", "雨桐", "思远", "佳怡", "宇航", "欣怡", "俊杰", "梓萱", "明轩",
    ];
    const COLLEGES: [(&str, &str); 5] = [
        ("矿业工程学院", "采矿工程"),
        ("安全工程学院", "安全工程"),
        ("计算机科学与技术学院", "计算机技术"),
        ("力学与土木工程学院", "土木工程"),
        ("资源与地球科学学院", "地质工程"),
    ];
    const GRADES: [(&str, &str); 3] = [
        ("2017级", "2017-09-01"),
        ("2018级", "2018-09-01"),
        ("2019级", "2019-09-01"),
    ];
    let mut students = Vec::new();
    for index in 0..EXTRA_STUDENTS {
        let (college, major) = COLLEGES[index % COLLEGES.len()];
        let (grade, enrolled_on) = GRADES[(index / 7) % GRADES.len()];
        let mut statements: Vec<&'static str> = Vec::new();
        // Library: pending every 5th, otherwise reported, clear or owing books.
        match index % 5 {
            0 => {}
            1 | 2 => statements.extend([
                "INSERT INTO library_records VALUES ($1, 0, 0, 0, '2020-06-03T01:00:00Z', 'approved')",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'library', 'reported', '2020-06-07T00:00:00Z')",
            ]),
            _ => statements.extend([
                "INSERT INTO library_records VALUES ($1, 1, 120, 0, NULL, 'submitted')",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'library', 'reported', '2020-06-07T00:00:00Z')",
            ]),
        }
        // Archives: pending every 4th, otherwise reviewed or only submitted.
        match index % 4 {
            0 => {}
            1 | 2 => statements.extend([
                "INSERT INTO archives_records VALUES ($1, 'reviewed')",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'archives', 'reported', '2020-06-07T00:00:00Z')",
            ]),
            _ => statements.extend([
                "INSERT INTO archives_records VALUES ($1, 'submitted')",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'archives', 'reported', '2020-06-07T00:00:00Z')",
            ]),
        }
        // Housing: pending every 6th, 不涉及 every 6th, else a room, checked out or not.
        match index % 6 {
            0 => {}
            1 => statements.push(
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'housing', 'not_applicable', '2020-06-07T00:00:00Z')",
            ),
            2 | 3 => statements.extend([
                "INSERT INTO housing_records VALUES ($1, '南湖校区', '桃苑2号楼', 'C1208', NULL, NULL)",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'housing', 'reported', '2020-06-07T00:00:00Z')",
            ]),
            _ => statements.extend([
                "INSERT INTO housing_records VALUES ($1, '南湖校区', '桃苑2号楼', 'C1210', '2020-06-05', '丁二君')",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'housing', 'reported', '2020-06-07T00:00:00Z')",
            ]),
        }
        // Finance: pending every 7th, owing every 3rd, otherwise clear.
        match (index % 7, index % 3) {
            (0, _) => {}
            (_, 0) => statements.extend([
                "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen) VALUES ($1, '2019', '学分学费', 55000)",
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'finance', 'reported', '2020-06-07T00:00:00Z')",
            ]),
            _ => statements.push(
                "INSERT INTO office_states (student_number, office, standing, reported_at) VALUES ($1, 'finance', 'reported', '2020-06-07T00:00:00Z')",
            ),
        }
        // A few decisions by hand and statements of 不涉及 beyond housing, so every
        // filter of every desk finds someone.
        if index % 13 == 4 {
            statements.push(
                "UPDATE office_states SET override_verdict = 'pass', override_reason = '经馆长批准，欠书已照价赔偿',
                     override_by = 'library_demo', override_at = '2020-06-07T02:00:00Z'
                 WHERE student_number = $1 AND office = 'library'",
            );
        }
        if index % 17 == 8 {
            statements.extend([
                "DELETE FROM finance_arrears WHERE student_number = $1",
                "UPDATE office_states SET standing = 'not_applicable' WHERE student_number = $1 AND office = 'finance'",
            ]);
        }
        if index % 19 == 6 {
            statements.push(
                "UPDATE office_states SET standing = 'not_applicable' WHERE student_number = $1 AND office = 'archives'",
            );
        }
        students.push(ExtraStudent {
            number: format!("2021{:06}", 300_001 + index),
            name: format!(
                "{}{}",
                SURNAMES[index % SURNAMES.len()],
                GIVEN[(index / SURNAMES.len()) % GIVEN.len()]
            ),
            gender: if index % 2 == 0 {
                Gender::Male
            } else {
                Gender::Female
            },
            grade,
            college,
            major,
            enrolled_on,
            statements,
        });
    }
    students
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo data: database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("demo data: cannot hash a password: {0}")]
    Hash(String),
    #[error("demo data: the submitted demo student does not pass the gate")]
    Inconsistent,
}
