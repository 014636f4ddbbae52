//! Backups taken while students submit: `server backup FILE` on SQLite, `pg_dump` on
//! PostgreSQL (docs/deploy.md). The backup is restored into a fresh database, and every
//! submission acknowledged before the backup started is in it, whole.

#[macro_use]
mod support;

use std::{
    net::SocketAddr,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use support::{
    free_port, fresh_database_url, fresh_postgres_database, http, on_postgres, prepare_students,
    sign_in_over_http, start, wait_until_up,
};

const PASSWORD: &str = "backup-test-password";
const STUDENTS: usize = 60;

/// Takes a backup of the live database at `url` and restores it into `empty` (a new
/// PostgreSQL database) or a new SQLite file in `dir`; returns the restored one's URL.
fn backup_and_restore(url: &str, dir: &Path, empty: Option<String>) -> String {
    if let Some(restored_url) = empty {
        let file = dir.join("lixiao.dump");
        let dumped = Command::new(pg_tool("pg_dump"))
            .args(["--format=custom", "--file"])
            .arg(&file)
            .arg(url)
            .status()
            .expect("pg_dump runs");
        assert!(dumped.success(), "pg_dump: {dumped}");
        let restored = Command::new(pg_tool("pg_restore"))
            .args(["--no-owner", "--exit-on-error", "--dbname"])
            .arg(&restored_url)
            .arg(&file)
            .status()
            .expect("pg_restore runs");
        assert!(restored.success(), "pg_restore: {restored}");
        restored_url
    } else {
        let file = dir.join("backup.db");
        let output = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("backup")
            .arg(&file)
            .env_clear()
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "info")
            .output()
            .expect("server backup runs");
        assert!(
            output.status.success(),
            "server backup: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Restoring is putting the file in place of the database (server stopped).
        let restored = dir.join("restored/lixiao.db");
        std::fs::create_dir_all(restored.parent().expect("dir")).expect("dir");
        std::fs::copy(&file, &restored).expect("copy");
        format!("sqlite://{}", restored.display())
    }
}

/// pg_dump and pg_restore of the cluster the tests run on (scripts/postgres.sh).
fn pg_tool(name: &str) -> String {
    match std::env::var("LIXIAO_PG_BIN") {
        Ok(bin) => format!("{bin}/{name}"),
        Err(_) => name.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_submissions_restores_every_acknowledged_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    prepare_students(&url, STUDENTS, PASSWORD).await;
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let mut server = start(dir.path(), &url, port, &[]);
    wait_until_up(addr).await;
    let mut cookies = Vec::new();
    for index in 0..STUDENTS {
        let number = format!("2021{index:06}");
        let cookie = sign_in_over_http(addr, &number, PASSWORD).await;
        cookies.push((number, cookie));
    }

    // The storm, paced so the backup lands in the middle of it.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let storm = {
        let acknowledged = acknowledged.clone();
        tokio::spawn(async move {
            for (number, cookie) in cookies {
                if let Some((200, _)) = http(addr, "/api/submit_departure", "", Some(&cookie)).await
                {
                    acknowledged.lock().expect("lock").push(number);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().expect("lock").len() < STUDENTS / 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let backup_dir = dir.path().to_owned();
    let url_for_backup = url.clone();
    let empty = if on_postgres() {
        Some(fresh_postgres_database().await)
    } else {
        None
    };
    // Measured from here: what was acknowledged before the backup started must be in it.
    let before_backup = acknowledged.lock().expect("lock").clone();
    let restored_url = tokio::task::spawn_blocking(move || {
        backup_and_restore(&url_for_backup, &backup_dir, empty)
    })
    .await
    .expect("backup");
    storm.await.expect("storm");
    let after_storm = acknowledged.lock().expect("lock").len();
    server.kill().expect("stop");
    server.wait().expect("reaped");

    let restored = app::db::open(&restored_url)
        .await
        .expect("the backup opens");
    // Everything acknowledged before the backup started is in it.
    let stored =
        support::assert_every_acknowledged_submission_is_stored(&restored, &before_backup).await;
    // The restored database is a working one: the students can still sign in.
    let accounts = support::count(&restored, "SELECT COUNT(*) FROM accounts").await;
    assert_eq!(accounts, STUDENTS as i64);
    println!(
        "backup during writes ({}): {} acknowledged before the backup, {} in the restored copy, {} acknowledged by the end",
        if on_postgres() {
            "pg_dump"
        } else {
            "server backup"
        },
        before_backup.len(),
        stored,
        after_storm
    );
    assert!(
        !before_backup.is_empty() && stored < STUDENTS,
        "the backup was taken mid-storm"
    );
    restored.close().await;
}

/// `server backup` refuses what would make a useless or harmful copy, and says why.
#[test]
fn a_backup_that_cannot_be_right_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |database: &Path, to: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("backup")
            .arg(to)
            .env_clear()
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("RUST_LOG", "info")
            .output()
            .expect("server backup runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    // A mistyped database path: no empty database is created and "backed up".
    let missing = dir.path().join("typo.db");
    let (ok, said) = run(&missing, &dir.path().join("a.db"));
    assert!(!ok && said.contains("there is no database"), "{said}");
    assert!(!missing.exists() && !dir.path().join("a.db").exists());

    // A real database, then the refusals.
    let live = dir.path().join("live.db");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        app::db::open(&format!("sqlite://{}", live.display()))
            .await
            .expect("database")
            .close()
            .await;
    });
    let (ok, said) = run(&live, &dir.path().join("first.db"));
    assert!(ok, "{said}");
    let (ok, said) = run(&live, &dir.path().join("first.db"));
    assert!(!ok && said.contains("already exists"), "{said}");
    let (ok, said) = run(&live, &dir.path().join("no/such/dir/copy.db"));
    assert!(!ok && said.contains("does not exist"), "{said}");

    // PostgreSQL is pg_dump's job: refused before anything connects.
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["backup", "x.db"])
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://lixiao:s3cret@127.0.0.1:1/lixiao",
        )
        .output()
        .expect("server backup runs");
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success() && said.contains("pg_dump"),
        "{said}"
    );
}

/// A backup taken before an upgrade is the database before the upgrade: the new binary's
/// `server backup` does not migrate the old database (the old server may still run on it).
#[test]
fn a_backup_never_migrates_the_database_it_copies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("old.db");
    let url = format!("sqlite://{}", live.display());
    let versions = |url: String| {
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(async move {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
                let newest: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                    .fetch_one(&pool)
                    .await
                    .expect("versions");
                pool.close().await;
                newest
            })
    };
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let mut release_before = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../app/migrations/sqlite"
            )))
            .await
            .expect("migrations");
            release_before.migrations = release_before
                .migrations
                .iter()
                .filter(|migration| migration.version <= 4)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            let pool =
                sqlx::SqlitePool::connect_with(app::db::sqlite::options(&url).expect("options"))
                    .await
                    .expect("open");
            release_before.run(&pool).await.expect("old schema");
            pool.close().await;
        });
    let copy = dir.path().join("copy.db");
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("backup")
        .arg(&copy)
        .env_clear()
        .env("DATABASE_URL", &url)
        .output()
        .expect("server backup runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(versions(url), 4, "the live database was not migrated");
    assert_eq!(
        versions(format!("sqlite://{}", copy.display())),
        4,
        "the copy is the database as it was"
    );
}
