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

/// Seeds the demo students. Returns `false` (and changes nothing) if any student exists.
pub async fn seed(db: &Db) -> Result<bool, DemoError> {
    // Hash first (slow, off the async runtime), then write everything in one transaction.
    let mut hashes = Vec::new();
    for student in &STUDENTS {
        let initial = password::initial_password(student.id_tail, student.number);
        hashes.push(password::hash(initial).await.map_err(DemoError::Hash)?);
    }
    let seeded: bool = on_backend!(db, seed_rows(&hashes))?;
    if !seeded {
        return Ok(false);
    }

    // 2020100004 submitted on 2020-06-09 10:21:37 Beijing time, through the same path a
    // student takes (audited as hers, at that time).
    let slip = crate::clearance::submission::slip_number("20200609", "2020100004");
    let at = time::macros::datetime!(2020-06-09 02:21:37 UTC);
    let who = super::audit::Who::account("2020100004", None);
    match super::clearance::submit(db, "2020100004", at, &slip, &who).await? {
        super::clearance::SubmitOutcome::Submitted(_) => Ok(true),
        _ => Err(DemoError::Inconsistent),
    }
}

for_each_backend! {
    /// Writes the students, their accounts and the offices' facts, unless the database
    /// already has students.
    pub(crate) async fn seed_rows(pool: &Pool, hashes: &[String]) -> Result<bool, sqlx::Error> {
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
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
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
