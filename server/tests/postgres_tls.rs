//! The app reaches PostgreSQL over TLS when the URL asks for it, verifying the server's
//! certificate (`sslmode=verify-full&sslrootcert=…`, docs/deploy.md), and refuses a
//! server whose certificate it cannot verify. Needs the test cluster (scripts/test
//! starts it with TLS on): runs in the PostgreSQL pass.

mod support;

#[tokio::test]
async fn the_app_talks_to_postgres_over_verified_tls() {
    if !support::on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let ca = std::env::var("LIXIAO_PG_CA").expect("scripts/postgres.sh exports LIXIAO_PG_CA");
    let url = support::fresh_postgres_database().await;
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    let db = app::db::open(&verified).await.expect("opens over TLS");
    let app::db::Db::Postgres(pool) = &db else {
        panic!("a postgres:// URL opens PostgreSQL");
    };
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(pool)
            .await
            .expect("ssl status");
    assert!(encrypted, "the connection is encrypted");
    db.close().await;

    // A certificate signed by someone else is refused, with a message, at start.
    let stranger = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(stranger.path(), include_str!("fixtures/stranger-ca.pem")).expect("write");
    let refused = app::db::open(&format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        stranger.path().display()
    ))
    .await
    .expect_err("an unverifiable server is refused");
    let message = refused.to_string();
    assert!(
        message.contains("could not open the database") && message.contains("certificate"),
        "{message}"
    );
}
